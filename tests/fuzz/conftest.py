"""Fuzz tests use the ``ci`` hypothesis profile (small, derandomized) unless told otherwise.

``--hypothesis-profile=long`` runs the suite's properties at bench size; ``bench/fuzz.py``
runs them with its own example counts. The profiles are registered here, at collection,
and applied per test by :func:`tests.fuzz.support.suite_settings`, so tests outside this
folder keep hypothesis's defaults.
"""

from __future__ import annotations

from tests.fuzz.support import register_profiles

register_profiles()
