"""Another account on this computer: run a stdlib-only Python script as uid ``nobody``.

Catalogue section G's first attacker is another local account: it can read every process's
command line and environment (``/proc``) and connect to 127.0.0.1, but it cannot read this
account's files. Tests run as root in CI, so :func:`run_as_other_account` drops to
uid/gid 65534 with ``setpriv`` (no capabilities left) and runs a script there.

The script is copied to a fresh world-readable folder (the checkout may sit in a 0700
temporary folder the other account cannot enter) and run with ``-I -S`` (isolated, no
site-packages): it may use the standard library only.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.realparts import require

OTHER_UID = 65534
SETPRIV = "setpriv"


def _drop_command() -> list[str]:
    return [
        SETPRIV,
        f"--reuid={OTHER_UID}",
        f"--regid={OTHER_UID}",
        "--clear-groups",
        "--inh-caps=-all",
    ]


@functools.cache
def other_account_python() -> str | None:
    """Return a Python interpreter the other account can run, or None."""
    if os.geteuid() != 0 or shutil.which(SETPRIV) is None:
        return None
    candidates = [os.path.realpath(sys.executable), "/usr/bin/python3"]
    for python in candidates:
        if not os.access(python, os.X_OK):
            continue
        try:
            done = subprocess.run(
                [*_drop_command(), python, "-I", "-S", "-c", "import os; print(os.getuid())"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip() == str(OTHER_UID):
            return python
    return None


def require_other_account() -> str:
    """Return the other account's interpreter; skip here or fail in CI when there is none."""
    python = other_account_python()
    require(python is not None, "a second account (root with setpriv, uid 65534)")
    assert python is not None
    return python


@contextmanager
def script_folder(*scripts: Path) -> Iterator[Path]:
    """Copy ``scripts`` into a new folder the other account can read; remove it after."""
    folder = Path(tempfile.mkdtemp(prefix="kit-test-other-account-"))
    try:
        folder.chmod(0o755)
        for script in scripts:
            target = folder / script.name
            shutil.copyfile(script, target)
            target.chmod(0o644)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def other_account_command(script: Path, args: Sequence[str] = ()) -> list[str]:
    """Return the command running ``script`` (in a readable folder) as the other account."""
    python = require_other_account()
    return [*_drop_command(), python, "-I", "-S", str(script), *args]


def run_as_other_account(
    script: Path, args: Sequence[str] = (), *, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``args`` as the other account and wait for it.

    Returns:
        The finished process; stdout and stderr as text.
    """
    with script_folder(script) as folder:
        return subprocess.run(
            other_account_command(folder / script.name, args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=folder,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )


def json_result(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """Parse the last stdout line of a finished script as a JSON object."""
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"the script printed nothing (exit {done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert isinstance(result, dict), result
    return result
