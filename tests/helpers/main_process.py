"""The app's ``main.py`` as a child process, the way a creator's terminal runs it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def popen_main(*args: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start ``python main.py ARGS`` in the repository with ``env``; output piped, as text."""
    return subprocess.Popen(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_main(
    *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python main.py ARGS`` to the end; the exit code is the caller's to check."""
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
