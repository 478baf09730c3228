"""The sandbox HTTP server: a threaded server on 127.0.0.1 routing to OAuth and the API."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import (
    DEFAULT_REDIRECT_URIS,
    KIT_APP_HOSTS,
    SANDBOX_APP_NAME,
    SANDBOX_CLIENT_ID,
)
from kit_desktop.sandbox import pages
from kit_desktop.sandbox.api import RATE_LIMIT, KitApi
from kit_desktop.sandbox.appstore import APPS_PATH, AppStore, RedirectForm
from kit_desktop.sandbox.behaviours import KitBehaviours
from kit_desktop.sandbox.data import build_dataset
from kit_desktop.sandbox.faults import Fault, FaultTable
from kit_desktop.sandbox.messages import BadRequest, Request, Response, parse_form
from kit_desktop.sandbox.oauth import OAuthServer, SandboxApp
from kit_desktop.sandbox.relay_host import RELAY_PATH, RelayHost, check_secure_url
from kit_desktop.sandbox.seeded import sized_dataset

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000
_OAUTH_POSTS = {
    "/oauth/token": "token",
    "/v4/oauth/token": "token",
    "/oauth/revoke": "revoke",
    "/v4/oauth/revoke": "revoke",
    "/oauth/authorize/decision": "decide",
    "/v4/oauth/authorize/decision": "decide",
}
_AUTHORIZE = ("/oauth/authorize", "/v4/oauth/authorize")
_METADATA = "/.well-known/oauth-authorization-server"


class SandboxServer:
    """A local Kit: OAuth server and API v4 subset over real HTTP on 127.0.0.1.

    Use it as a context manager or call :meth:`start` and :meth:`stop`. Fault knobs live in
    :attr:`faults`; Kit's own behaviours (401 for an account that lost access to apps, 403,
    Kit's 429, ``errors``-shaped token errors, refresh-token expiry, ignored JSON revokes) in
    :attr:`behaviours`, changeable while it runs; the OAuth state in :attr:`oauth`; the API
    in :attr:`api`; the App Store (``/apps``, Kit's install flow) in :attr:`store`; the
    relay page it hosts as the stand-in for the publisher's https site (:attr:`relay_url`)
    in :attr:`relay`.

    Args:
        port: The port to listen on (0 picks a free one).
        client_id: The registered sandbox app's client ID.
        redirect_uris: The registered app's redirect URIs (exact match). Default: the app's
            loopback addresses, or with ``strict_https`` the sandbox's own relay page.
        app_name: The app name shown on the consent page.
        auto_approve: Skip the consent page.
        token_lifetime: Access token lifetime in seconds for both grants; ``None`` gives
            Kit's (172800 s from a code exchange, 7200 s from a refresh).
        loopback_any_port: Accept loopback redirect URIs on any port (RFC 8252).
        rotate_refresh_tokens: Single-use refresh tokens, a new one on every refresh.
        rate_limit: Requests per rolling 60 s per access token.
        seed: The seed of the practice data.
        clock: Wall-clock time (Unix seconds) for tokens, codes and App Store installs.
        authorization_url: The app's Authorization URL, where the App Store's Install sends
            the browser (settable later through :attr:`authorization_url`). Default: none,
            or with ``strict_https`` the sandbox's own relay page.
        strict_https: Refuse plain-http Redirect URIs and Authorization URLs other than the
            sandbox's own origin, as Kit's app settings do.
        app_redirect_uris: The app's loopback redirect URIs, whose ports the relay page may
            forward to (the first one takes installs).
        app_hosts: Hosts the relay page lets an install return to.
        install_redirect: The form of the ``redirect`` an install sends: ``app_page``
            (``/apps/<id>?success=true``) or ``bare`` (``/apps``); Kit documents both.
        behaviours: Kit's behaviours to show (default: :class:`KitBehaviours`'s defaults).
        subscriber_count: How many subscribers the account has (default: the dataset's
            1,320); past those, subscribers are made on the fly when read, so a large
            account (100,000) starts at once and costs no memory
            (:mod:`kit_desktop.sandbox.seeded`).

    Raises:
        ValueError: A Redirect URI or the Authorization URL is not acceptable (not absolute
            http(s); with ``strict_https``, plain http elsewhere than this sandbox), or
            ``strict_https`` was asked for with ``loopback_any_port``.
        OSError: The port cannot be bound.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        client_id: str = SANDBOX_CLIENT_ID,
        redirect_uris: Iterable[str] | None = None,
        app_name: str = SANDBOX_APP_NAME,
        auto_approve: bool = False,
        token_lifetime: int | None = None,
        loopback_any_port: bool = False,
        rotate_refresh_tokens: bool = True,
        rate_limit: int = RATE_LIMIT,
        seed: int = 2026,
        clock: Callable[[], float] = time.time,
        authorization_url: str | None = None,
        strict_https: bool = False,
        app_redirect_uris: Sequence[str] = DEFAULT_REDIRECT_URIS,
        app_hosts: Iterable[str] = KIT_APP_HOSTS,
        install_redirect: RedirectForm = "app_page",
        behaviours: KitBehaviours | None = None,
        subscriber_count: int | None = None,
    ) -> None:
        if subscriber_count is not None and subscriber_count < 0:
            raise ValueError("The number of subscribers cannot be negative.")
        if strict_https and loopback_any_port:
            raise ValueError(
                "Kit accepts only https Redirect URIs, so --strict-https cannot be used with "
                "--loopback-any-port."
            )
        self._httpd = _HTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.sandbox = self
        self._thread: threading.Thread | None = None
        self.strict_https = strict_https
        self.relay = RelayHost(app_redirect_uris, app_hosts)
        if redirect_uris is None:
            redirect_uris = (self.relay_url,) if strict_https else DEFAULT_REDIRECT_URIS
        if strict_https and authorization_url is None:
            authorization_url = self.relay_url
        self.app = SandboxApp(client_id, app_name, tuple(redirect_uris))
        self.behaviours = behaviours or KitBehaviours()
        self.oauth = OAuthServer(
            [self.app],
            token_lifetime=token_lifetime,
            auto_approve=auto_approve,
            loopback_any_port=loopback_any_port,
            rotate_refresh_tokens=rotate_refresh_tokens,
            clock=clock,
            behaviours=self.behaviours,
        )
        dataset, more = sized_dataset(build_dataset(seed), subscriber_count)
        self.api = KitApi(
            self.oauth,
            dataset,
            rate_limit=rate_limit,
            behaviours=self.behaviours,
            more_subscribers=more,
        )
        self.store = AppStore(self.app, self.oauth, redirect_form=install_redirect)
        self.faults = FaultTable()
        try:
            if strict_https:
                for uri in self.app.redirect_uris:
                    check_secure_url(uri, self.base_url, "Redirect URI")
            self.authorization_url = authorization_url
        except ValueError:
            self._httpd.server_close()
            raise

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The server's origin, e.g. ``http://127.0.0.1:53100``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def authorization_url(self) -> str | None:
        """The app's Authorization URL, where the App Store's Install sends the browser.

        Settable at any time (``None`` unsets it); a bad URL raises :class:`ValueError`.
        """
        return self.store.authorization_url

    @authorization_url.setter
    def authorization_url(self, url: str | None) -> None:
        if url is not None and self.strict_https:
            check_secure_url(url, self.base_url, "Authorization URL")
        self.store.authorization_url = url

    @property
    def relay_url(self) -> str:
        """The relay page this sandbox hosts as the stand-in for the publisher's https site."""
        return f"{self.base_url}{RELAY_PATH}"

    @property
    def app_id(self) -> str:
        """The sandbox app's App Store id (stable for a given client ID)."""
        return self.store.app_id

    @property
    def app_store_url(self) -> str:
        """The App Store page, e.g. ``http://127.0.0.1:53100/apps``."""
        return f"{self.base_url}{APPS_PATH}"

    @property
    def app_page_url(self) -> str:
        """The sandbox app's page in the App Store (without ``?success=true``)."""
        return f"{self.base_url}{APPS_PATH}/{self.app_id}"

    @property
    def install_url(self) -> str:
        """The sandbox app's Install link, which redirects to the Authorization URL."""
        return f"{self.app_page_url}/install"

    def start(self) -> SandboxServer:
        """Serve in a background thread and return ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.02},
                name="kit-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until :meth:`stop` is called from another one."""
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def recognise(self, tokens: TokenSet) -> None:
        """Accept tokens a previous practice run saved, as Kit would (``PracticeKit``)."""
        self.oauth.import_grant(
            tokens.access_token,
            tokens.refresh_token,
            expires_at=tokens.expires_at,
            scope=tokens.scope or "public",
        )

    def note_app_port(self, port: int) -> None:
        """Bake the app's callback port into the practice relay page (``PracticeKit``)."""
        self.relay.note_app_port(port)

    def set_fault(self, path: str, fault: Fault) -> None:
        """Apply ``fault`` to requests on ``path`` (see :class:`Fault`)."""
        self.faults.set(path, fault)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def dispatch(self, request: Request) -> Response:
        """Route one request to the right endpoint."""
        path, method = request.path, request.method
        if path in _AUTHORIZE:
            if method != "GET":
                return Response.html(405, pages.error_page("Not allowed", "Use GET here."))
            return self.oauth.authorize(request)
        if path in _OAUTH_POSTS:
            if method != "POST":
                refused = {"error": "invalid_request", "error_description": "Use POST."}
                return self.behaviours.shape_token_error(Response.json(405, refused))
            endpoint: Callable[[Request], Response] = getattr(self.oauth, _OAUTH_POSTS[path])
            return self.behaviours.shape_token_error(endpoint(request))
        if path == "/v4" or path.startswith("/v4/"):
            return self.api.handle(request)
        if path == APPS_PATH or path.startswith(APPS_PATH + "/"):
            return self.store.handle(request, self.base_url)
        if path == RELAY_PATH and method == "GET":
            return self.relay.page()
        if path == _METADATA:
            return Response.json(200, self.oauth.metadata(self.base_url))
        if path == "/" and method == "GET":
            return Response.html(
                200, pages.home_page(self.base_url, self.app.client_id, self.app.redirect_uris)
            )
        return Response.html(404, pages.error_page("Page not found", "There is nothing here."))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sandbox: SandboxServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # errors always get a status line (no HTTP/0.9)
    disable_nagle_algorithm = True
    timeout = 30
    server_version = "KitSandbox/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Log the method and path only: queries and bodies carry codes and tokens."""
        path = getattr(self, "path", "")
        try:
            shown = urlsplit(path).path
        except ValueError:
            shown = "(unparsable target)"
        log.debug("%s %s", getattr(self, "command", "?"), shown)

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        try:
            parts = urlsplit(self.path)
            request = self._request(parts.path, parts.query)
        except ValueError:
            self._send(Response.json(400, {"errors": ["The request target is not valid."]}))
            return
        except BadRequest as exc:
            self._send(Response.json(400, {"errors": [exc.message]}))
            return
        fault = sandbox.faults.take(parts.path)
        if fault is not None:
            if fault.seconds:
                time.sleep(fault.seconds)
            if fault.kind != "delay" and fault.kind != "drop_after":
                self._send(_fault_response(fault, parts.path))
                return
        try:
            response = sandbox.dispatch(request)
        except Exception:
            log.exception("sandbox handler failed on %s %s", request.method, request.path)
            response = Response.json(500, {"errors": ["Internal Server Error"]})
        if fault is not None and fault.kind == "drop_after":
            response = Response(200, drop=True)
        self._send(response)

    def _request(self, path: str, query: str) -> Request:
        if self.headers.get("Transfer-Encoding"):
            raise BadRequest("Chunked bodies are not supported; send a Content-Length.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise BadRequest("The Content-Length header is not a number.") from exc
        if not 0 <= length <= MAX_BODY:
            raise BadRequest("The request body is too large.")
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(self.command, path, parse_form(query), headers, body)

    def _send(self, response: Response) -> None:
        if response.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Length: {len(response.body)}",
        ]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.headers.get("Connection", "").lower() == "close":
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + response.body)
        self.wfile.flush()


def _fault_response(fault: Fault, path: str) -> Response:
    oauth = "/oauth/" in path
    if fault.kind == "drop":
        return Response(200, drop=True)
    if fault.kind == "redirect":
        return Response(307, b"", {"Location": fault.location})
    if fault.kind == "malformed":
        return Response(200, b'{"access_token": "abc', {"Content-Type": "application/json"})
    if fault.kind == "html":
        page = "<html><body><h1>Proxy error</h1><p>The gateway is busy.</p></body></html>"
        return Response(200, page.encode(), {"Content-Type": "text/html"})
    if oauth:
        return Response.json(
            fault.status, {"error": "server_error", "error_description": "Simulated failure."}
        )
    if fault.status == 401:  # a 401 about the token, in Kit's words (KIT-API-NOTES §5.6)
        return Response.json(401, {"errors": ["The access token is invalid"]})
    return Response.json(fault.status, {"errors": ["Simulated failure."]})
