"""Shared parts for catalogue sections C and D: hostile servers, recorded requests, wiring.

Everything here runs on real sockets: a scripted HTTP server that misbehaves on purpose
(optionally over TLS, see cd_tls.py for certificates) and a ``requests.Session`` that notes
what the app asked it to send. Ports that refuse or never answer: tests/helpers/ports.py.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urljoin

import requests
from keyring.backend import KeyringBackend

from kit_desktop.api.client import KitApiClient
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import KeyringTokenStore, SessionTokenStore, profile_key
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.http import Timeouts, new_session
from kit_desktop.services import Services
from tests.helpers.flow import consent_id, location_params

REDIRECT_URI = "http://127.0.0.1:0/callback"  # the app binds an ephemeral port
FAST = Timeouts(2.0, 2.0)
SLOW_FAULT = Timeouts(0.5, 0.3)  # for faults that only end with a time-out
TECHNICAL_WORDS = (
    "Traceback",
    "Exception",
    "HTTPConnectionPool",
    "urllib3",
    "requests.",
    "Errno",
    "errno",
    "Max retries",
    "127.0.0.1",
    "SSL:",
    "CERTIFICATE_VERIFY",
    "{",
    "<",
)


# --- a server that misbehaves on purpose -------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request as it arrived on the wire."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def form(self) -> dict[str, str]:
        """The body as a form; every name must appear once."""
        pairs = parse_qsl(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        names = [name for name, _ in pairs]
        assert len(names) == len(set(names)), names
        return dict(pairs)


Then = Literal["end", "stall", "reset", "close"]


@dataclass(frozen=True)
class Answer:
    """What to send back.

    Attributes:
        status: The status code.
        body: The body bytes (all of them, or the start of them with ``stall``/``reset``).
        headers: Extra headers.
        length: The Content-Length to announce (default: ``len(body)``).
        then: ``end`` (normal), ``stall`` (stop sending until released), ``reset`` (send a
            TCP reset after ``body``), or ``close`` (close without answering at all).
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    length: int | None = None
    then: Then = "end"

    @classmethod
    def json(cls, status: int, data: object, **changes: Any) -> Answer:
        """An answer whose body is ``data`` as JSON."""
        headers = {"Content-Type": "application/json", **changes.pop("headers", {})}
        return cls(status, json.dumps(data).encode(), headers, **changes)


Script = Callable[[Seen], Answer]


class Hostile:
    """A threaded HTTP/1.1 server on 127.0.0.1 that answers each request by ``script``.

    Args:
        answer: A fixed answer, or a function of the request.
        tls: A server-side TLS context (every connection must complete a handshake).

    Attributes:
        seen: Every request that arrived, in order.
        handshake_failures: Connections whose TLS handshake failed (``tls`` only).
    """

    def __init__(self, answer: Answer | Script = Answer(), *, tls: ssl.SSLContext | None = None):
        self.seen: list[Seen] = []
        self.handshake_failures = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.script: Script = answer if callable(answer) else (lambda _seen: answer)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                owner._handle(self)

            def do_POST(self) -> None:
                owner._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def finish_request(self, request: Any, client_address: Any) -> None:
                if tls is None:
                    super().finish_request(request, client_address)
                    return
                try:
                    wrapped = tls.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    with owner._lock:
                        owner.handshake_failures += 1
                    return
                try:
                    super().finish_request(wrapped, client_address)
                finally:
                    wrapped.close()

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up mid-answer is what some tests do on purpose

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._scheme = "https" if tls is not None else "http"

    @property
    def url(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:40000``."""
        return f"{self._scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(self, answer: Answer | Script) -> None:
        """Change what later requests get."""
        with self._lock:
            self.script = answer if callable(answer) else (lambda _seen: answer)

    def posts(self, path: str) -> list[Seen]:
        """The POSTs that arrived on ``path``."""
        with self._lock:
            return [s for s in self.seen if s.method == "POST" and s.path == path]

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._thread.join(5)
        self._httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in handler.headers.items()}
        seen = Seen(handler.command, handler.path, headers, body)
        with self._lock:
            self.seen.append(seen)
            script = self.script
        reply = script(seen)
        handler.close_connection = True
        connection: socket.socket = handler.connection
        if reply.then == "close":
            connection.shutdown(socket.SHUT_RDWR)
            return
        size = len(reply.body) if reply.length is None else reply.length
        head = [f"HTTP/1.1 {reply.status} Answer", f"Content-Length: {size}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        handler.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
        handler.wfile.flush()
        if reply.then == "stall":
            self.release.wait(10)
            connection.shutdown(socket.SHUT_RDWR)
        elif reply.then == "reset":
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()  # a linger of 0 sends RST instead of FIN


# --- what the app sends -------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One call the app made on its HTTP session, with the keyword arguments it passed."""

    method: str
    url: str
    kwargs: Mapping[str, Any]

    @property
    def data(self) -> Mapping[str, str]:
        """The form fields sent (``{}`` when the body was not a form)."""
        value = self.kwargs.get("data")
        return value if isinstance(value, Mapping) else {}


class RecordingSession(requests.Session):
    """The app's own kind of session, noting every request before sending it for real."""

    def __init__(self) -> None:
        super().__init__()
        self.headers.update(new_session().headers)
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        with self._lock:
            self.sent.append(Sent(method, url, dict(kwargs)))
        return super().request(method, url, *args, **kwargs)

    def posts_to(self, url: str) -> list[Sent]:
        """The POSTs sent to ``url``."""
        with self._lock:
            return [s for s in self.sent if s.method == "POST" and s.url == url]


# --- wiring -------------------------------------------------------------------------------


class FakeClock:
    """A wall clock moved by hand (starts at the real time)."""

    def __init__(self, now: float | None = None) -> None:
        self.now = float(int(time.time())) if now is None else now

    def __call__(self) -> float:
        return self.now


def sandbox_settings(base_url: str, **changes: Any) -> Settings:
    """The settings the app uses against a sandbox at ``base_url``."""
    return replace(Settings(redirect_uris=(REDIRECT_URI,)).with_sandbox(base_url), **changes)


def endpoint_settings(
    token_origin: str, *, authorize: str | None = None, **changes: Any
) -> Settings:
    """Settings whose token, revoke (and API) endpoints live at ``token_origin``."""
    base = authorize or token_origin
    return replace(
        Settings(redirect_uris=(REDIRECT_URI,)),
        client_id=SANDBOX_CLIENT_ID,
        authorize_url=f"{base}/v4/oauth/authorize",
        token_url=f"{token_origin}/token",
        revoke_url=f"{token_origin}/revoke",
        api_url=changes.pop("api_url", token_origin),
        **changes,
    )


def make_services(
    settings: Settings,
    backend: KeyringBackend,
    *,
    timeouts: Timeouts = FAST,
    call_timeout: float = 5.0,
    session: requests.Session | None = None,
    clock: Callable[[], float] = time.time,
) -> Services:
    """Wire the real services as ``build_services`` does, with test time limits and clock."""
    http = session or new_session()
    oauth = OAuthClient(settings, session=http, clock=clock, timeouts=timeouts)
    store = SessionTokenStore(
        KeyringTokenStore(
            profile_key(settings.token_url, oauth.client_id),
            backend=backend,
            call_timeout=call_timeout,
        )
    )
    tokens = TokenManager(oauth, store, clock=clock)
    api = KitApiClient(settings, tokens, session=http, timeouts=timeouts)
    return Services(settings, oauth, store, tokens, api)


def sign_in_directly(services: Services) -> TokenSet:
    """Sign in at the sandbox with plain requests (consent clicked), exchange and keep."""
    attempt = services.oauth.new_attempt("http://127.0.0.1:53219/callback")
    with requests.Session() as http:
        http.trust_env = False
        answer = http.get(attempt.url, allow_redirects=False, timeout=5)
        if answer.status_code == 200:
            answer = http.post(
                urljoin(attempt.url, "/oauth/authorize/decision"),
                data={"consent_id": consent_id(answer.text), "decision": "allow"},
                allow_redirects=False,
                timeout=5,
            )
    query = location_params(answer)
    assert query["state"] == attempt.state
    tokens = services.oauth.exchange(query["code"], attempt.verifier, attempt.redirect_uri)
    services.tokens.adopt(tokens)
    return tokens


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds (for code without an event loop)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        pause.wait(0.005)


def assert_plain(message: str, *secrets: str) -> None:
    """A message a creator can read: words, no internals, no secret."""
    assert len(message) > 20, message
    for word in TECHNICAL_WORDS:
        assert word not in message, f"{word!r} in {message!r}"
    for secret in secrets:
        assert secret not in message


def files_holding(roots: list[Path], secrets: set[str]) -> list[str]:
    """Every file under ``roots`` that contains one of ``secrets`` (as UTF-8 or UTF-16)."""
    hits: list[str] = []
    needles = [s.encode() for s in secrets] + [s.encode("utf-16-le") for s in secrets]
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else []:
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                hits += [f"{path}" for needle in needles if needle in data]
    return hits


def throwaway_secret_service() -> bool:
    """Whether a Secret Service runs in a session whose HOME is a temporary folder.

    That is what tests/run-suite.sh sets up; a developer's own keyring never qualifies.
    """
    try:
        from keyring.backends import SecretService

        SecretService.Keyring.priority  # noqa: B018  # raises when there is no service
        import jeepney  # type: ignore[import-untyped]
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        query = jeepney.message_bus.GetConnectionUnixProcessID("org.freedesktop.secrets")
        with open_dbus_connection(bus="SESSION") as connection:
            reply = connection.send_and_get_reply(query, timeout=2.0)
        pid = int(jeepney.wrappers.unwrap_msg(reply)[0])
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except Exception:
        return False
    homes = [Path(os.fsdecode(i[5:])).resolve() for i in environ if i.startswith(b"HOME=")]
    home = Path(os.environ.get("HOME", "/")).resolve()
    temp = Path(tempfile.gettempdir()).resolve()
    return homes == [home] and home.is_relative_to(temp) and home != temp
