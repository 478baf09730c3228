"""A stand-in for the creator's browser that has not clicked Allow yet (stdlib only).

``python g_browser.py URL`` is what a system opener runs: a process with the URL on its
command line. It detaches a child that loads the URL (following redirects to Kit's consent
page, as a browser would) and then just stays open for a while, so the URL stays on a
command line that every account can read; the launcher itself exits at once (Python's
``webbrowser`` waits for its ``BROWSER`` command, as for a real browser's launcher).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

STAY_OPEN = 30.0


def _load(url: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as answer:
            answer.read()
    except OSError:
        pass


def main() -> int:
    """Detach the browser child (``--child``) and return, or be that child."""
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _load(sys.argv[2])
        time.sleep(STAY_OPEN)
        return 0
    subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", sys.argv[1]],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
