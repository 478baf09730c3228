"""Fuzzing plumbing: settings profiles, per-target example counters and runnable campaigns.

Every property lives in a plain ``check_*`` function; a *campaign* wraps it in ``@given`` with
the settings it is handed, so the suite (profile ``ci``) and ``bench/fuzz.py`` (profile
``long``) run exactly the same code. The test modules call :func:`suite_settings`; the
bench builds its own settings from :data:`LONG`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import HealthCheck, given
from hypothesis import settings as Settings  # noqa: N812 - the class, not an instance
from hypothesis.strategies import SearchStrategy

__all__ = [
    "CI",
    "COUNTS",
    "LONG",
    "Campaign",
    "Settings",
    "attempt",
    "register_profiles",
    "run_property",
    "suite_settings",
]

T = TypeVar("T")

CI = "ci"
LONG = "long"
#: Examples per property in the suite; a socket-level property asks for fewer.
CI_EXAMPLES = 100

#: Examples actually run, per target (every call of a property body counts, shrinks too).
COUNTS: Counter[str] = Counter()
_registered: list[bool] = []


def register_profiles() -> None:
    """Register the ``ci`` (small, reproducible) and ``long`` (bench) profiles, once."""
    if _registered:
        return
    _registered.append(True)
    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    Settings.register_profile(
        CI,
        max_examples=CI_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=quiet,
    )
    Settings.register_profile(
        LONG,
        max_examples=100_000,
        deadline=None,
        derandomize=False,
        database=None,
        print_blob=True,
        suppress_health_check=quiet,
    )


def suite_settings(examples: int | None = None) -> Settings:
    """Return the settings for a fuzz test in the suite.

    The ``ci`` profile, unless pytest was started with ``--hypothesis-profile=long``.

    Args:
        examples: Fewer examples than the profile's (for slow, socket-level properties);
            ignored under the ``long`` profile.
    """
    register_profiles()
    name = LONG if Settings.get_current_profile_name() == LONG else CI
    profile = Settings.get_profile(name)
    if examples is None or name == LONG:
        return profile
    return Settings(profile, max_examples=examples)


def run_property(
    target: str, strategy: SearchStrategy[T], check: Callable[[T], None], config: Settings
) -> None:
    """Run ``check`` on examples of ``strategy`` under ``config``, counting them for ``target``.

    Raises:
        AssertionError: (or whatever ``check`` raised) for the minimal failing example.
    """

    @config
    @given(strategy)
    def property_holds(value: T) -> None:
        COUNTS[target] += 1
        check(value)

    property_holds()


@dataclass(frozen=True)
class Campaign:
    """One property of one target, runnable under any settings.

    Attributes:
        target: ``loopback``, ``tokens``, ``api_paths``, ``sandbox`` or ``answers``.
        name: What the property says, in a few words.
        run: Runs the property under the given settings (raises on a failure).
        share: Its weight in the target's example budget for a long run.
    """

    target: str
    name: str
    run: Callable[[Settings], None]
    share: float = 1.0


def attempt(function: Callable[[], T], *errors: type[Exception]) -> T | Exception:
    """Return what ``function`` returns, or the exception of one of ``errors`` it raises."""
    try:
        return function()
    except errors as error:
        return error
