"""A stand-in system browser for Python's ``webbrowser`` (``BROWSER``): a headless test user.

``python -m tests.helpers.browser_cli [--decision allow|deny|none] URL`` starts a detached
worker and exits 0 at once: ``webbrowser`` waits for its ``BROWSER`` command, as it would for
a real browser's launcher. The worker visits ``URL`` in headless Chromium, answers the
sandbox's consent page, and writes the final page as JSON to ``$KIT_TEST_BROWSER_RESULT``
(when set; ``{"error": ...}`` if the visit failed). Its output goes to ``<result>.log``, or
to a ``kit-test-browser-*.log`` file in the temporary directory. The decision defaults to
``$KIT_TEST_BROWSER_DECISION``, then ``allow``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from tests.helpers.browser import (
    DECISIONS,
    ENV_DECISION,
    ENV_RESULT,
    REPO_ROOT,
    BrowserUser,
    Decision,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the launcher (detach a worker) or, with ``--worker``, the visit itself."""
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.browser_cli")
    parser.add_argument("url")
    parser.add_argument("--decision", choices=DECISIONS, default=None)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for the visit")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    decision = args.decision or os.environ.get(ENV_DECISION) or "allow"
    if decision not in DECISIONS:
        parser.error(f"{ENV_DECISION} must be one of {DECISIONS}, not {decision!r}")
    result = os.environ.get(ENV_RESULT) or None
    if args.worker:
        return _work(args.url, cast(Decision, decision), args.timeout, result)
    _detach(args.url, decision, args.timeout, result)
    return 0


def _detach(url: str, decision: str, timeout: float, result: str | None) -> None:
    if result is not None:
        log_path = f"{result}.log"
    else:
        fd, log_path = tempfile.mkstemp(prefix="kit-test-browser-", suffix=".log")
        os.close(fd)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    command = [sys.executable, "-m", "tests.helpers.browser_cli", "--worker"]
    command += ["--decision", decision, "--timeout", str(timeout), "--", url]
    with open(log_path, "ab") as log:
        subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def _work(url: str, decision: Decision, timeout: float, result: str | None) -> int:
    try:
        with BrowserUser() as user:
            page = user.visit_and_decide(url, decision, timeout)
    except Exception as exc:
        traceback.print_exc()
        if result is not None:
            _write(result, json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(f"ended on {page.url} ({page.status})", flush=True)
    if result is not None:
        _write(result, page.to_json())
    return 0


def _write(path: str, data: str) -> None:
    """Write ``data`` so that a reader polling for ``path`` never sees half of it."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.write_text(data, encoding="utf-8")
    os.replace(partial, target)


if __name__ == "__main__":
    sys.exit(main())
