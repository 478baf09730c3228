"""The HTTPS relay page under test: a local site that serves it, and a fake app to forward to.

``resources/relay/relay.html`` is the page a publisher hosts on their own https site; it
forwards Kit's redirects to the app on ``http://127.0.0.1:<port>`` by top-level navigation.
Here it is served from ``http://127.0.0.1`` (a secure context, like https) by
:class:`RelaySite`, which can rewrite the page's settings (the ``<meta>`` tags a publisher may
edit) so that the install entry points at a :class:`FakeApp` on an ephemeral port.

Run ``python -m tests.helpers.relay_server`` to print the CSP hashes of the page's inline
script and style (to paste into its Content-Security-Policy after editing either).
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from kit_desktop.relay_page import meta, set_meta
from tests.helpers.ports import refused_port

REPO_ROOT = Path(__file__).resolve().parents[2]
RELAY_DIR = REPO_ROOT / "resources" / "relay"
RELAY_PAGE = RELAY_DIR / "relay.html"
RELAY_PATH = "/relay.html"

APP_PAGE = (
    b"<!doctype html><html lang='en'><meta charset='utf-8'><title>Kit Desktop</title>"
    b"<link rel='icon' href='data:,'>"
    b"<h1>Connected</h1><p>Return to Kit Desktop.</p></html>"
)


def inline_blocks(page: str, tag: str) -> list[str]:
    """Return the exact text of every inline ``<tag>...</tag>`` element of ``page``."""
    return re.findall(rf"<{tag}(?:\s[^>]*)?>(.*?)</{tag}\s*>", page, flags=re.DOTALL | re.I)


def csp_hash(text: str) -> str:
    """Return the CSP source expression for an inline block: ``'sha256-<base64>'``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def meta_content(page: str, attribute: str, value: str) -> str:
    """Return the ``content`` of the one ``<meta attribute="value" content="...">``."""
    return meta(page, value, attribute=attribute)


class _Server:
    """A ThreadingHTTPServer on an ephemeral loopback port, served from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._lock = threading.Lock()
        self._requests: list[str] = []
        self._arrived = threading.Condition(self._lock)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The server's origin."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[str]:
        """Every request's target (path and query, as sent), oldest first."""
        with self._lock:
            return list(self._requests)

    def record(self, target: str) -> None:
        """Note one request (called by the handler)."""
        with self._arrived:
            self._requests.append(target)
            self._arrived.notify_all()

    def wait_for_requests(self, count: int = 1, timeout: float = 5.0) -> list[str]:
        """Block until at least ``count`` requests arrived; return them all.

        Raises:
            TimeoutError: When fewer arrive within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._requests)} of {count} requests arrived")
                self._arrived.wait(left)
            return list(self._requests)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()


class FakeApp(_Server):
    """A stand-in for Kit Desktop's loopback listener: records every request, answers it.

    Args:
        status: The status of every answer: 200 with a small page, or e.g. 204 (no page, so
            the browser stays where it was, as when a navigation is blocked).
    """

    def __init__(self, status: int = 200) -> None:
        self.status = status
        super().__init__(_app_handler(self))

    def __enter__(self) -> FakeApp:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RelaySite(_Server):
    """Serves ``resources/relay/relay.html`` at ``/relay.html``, with its settings rewritten.

    The page is read from disk on every request, so a test always sees the shipped file; only
    the given ``<meta>`` settings change. Other paths: ``extra_pages`` (path to HTML), else 404.

    Args:
        install_port: Replaces ``kit-desktop-install-port`` (default: keep the shipped one).
        callback_ports: Replaces ``kit-desktop-callback-ports`` (default: ``install_port``
            if given, plus :attr:`spare_port`, a port that refuses connections while the
            site runs (held bound, never listening), for tests of an app that does not
            answer).
        callback_path: Replaces ``kit-desktop-callback-path``.
        app_hosts: Replaces ``kit-desktop-app-hosts``.
        headers: Extra response headers for the relay page (e.g. ``Cache-Control``).
        extra_pages: More pages to serve, e.g. one that frames the relay.
        transform: Applied to the page text last, e.g. to tamper with it.
    """

    def __init__(
        self,
        *,
        install_port: int | None = None,
        callback_ports: tuple[int, ...] | None = None,
        callback_path: str | None = None,
        app_hosts: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra_pages: Mapping[str, str] | None = None,
        transform: Callable[[str], str] | None = None,
    ) -> None:
        self.settings: dict[str, str] = {}
        self._spare = ExitStack()
        self.spare_port = self._spare.enter_context(refused_port())
        if install_port is not None:
            self.settings["kit-desktop-install-port"] = str(install_port)
        if callback_ports is None:
            callback_ports = (*filter(None, [install_port]), self.spare_port)
        self.settings["kit-desktop-callback-ports"] = " ".join(map(str, callback_ports))
        if callback_path is not None:
            self.settings["kit-desktop-callback-path"] = callback_path
        if app_hosts is not None:
            self.settings["kit-desktop-app-hosts"] = app_hosts
        self.headers = dict(headers or {})
        self.extra_pages = dict(extra_pages or {})
        self.transform = transform
        super().__init__(_site_handler(self))

    def stop(self) -> None:
        """Stop serving, and free the spare port too."""
        super().stop()
        self._spare.close()

    def page(self) -> str:
        """The relay page as this site serves it."""
        text = RELAY_PAGE.read_text(encoding="utf-8")
        for name, content in self.settings.items():
            text = set_meta(text, name, content)
        return self.transform(text) if self.transform is not None else text

    def url(self, query: str | Mapping[str, str] | None = None) -> str:
        """The relay page's URL, with a raw query string or parameters to encode."""
        base = f"{self.base_url}{RELAY_PATH}"
        if query is None:
            return base
        raw = query if isinstance(query, str) else urlencode(query)
        return f"{base}?{raw}" if raw else base

    def __enter__(self) -> RelaySite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _app_handler(app: FakeApp) -> type[BaseHTTPRequestHandler]:
    class AppHandler(_Handler):
        def do_GET(self) -> None:
            app.record(self.path)
            if app.status == 200:
                self.send(200, APP_PAGE, {"Content-Type": "text/html; charset=utf-8"})
            else:
                self.send(app.status, b"", {})

    return AppHandler


def _site_handler(site: RelaySite) -> type[BaseHTTPRequestHandler]:
    class SiteHandler(_Handler):
        def do_GET(self) -> None:
            site.record(self.path)
            path = self.path.split("?", 1)[0]
            html_type = {"Content-Type": "text/html; charset=utf-8"}
            if path == RELAY_PATH:
                body = site.page().encode("utf-8")
                self.send(200, body, {**html_type, **site.headers})
            elif path in site.extra_pages:
                self.send(200, site.extra_pages[path].encode("utf-8"), html_type)
            else:
                self.send(404, b"Not found", {"Content-Type": "text/plain"})

    return SiteHandler


def main() -> None:
    """Print the CSP hashes of the relay page's inline script and style."""
    page = RELAY_PAGE.read_text(encoding="utf-8")
    for tag in ("script", "style"):
        for block in inline_blocks(page, tag):
            print(f"{tag}-src {csp_hash(block)}")


if __name__ == "__main__":
    main()
