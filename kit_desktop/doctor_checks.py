"""The check-up's checks of this computer: ports, loopback, storage, network settings, browser.

Each check is a small function returning a :class:`~kit_desktop.doctor_report.CheckResult`;
the checks that talk to Kit are in :mod:`kit_desktop.doctor_kit`, and
:mod:`kit_desktop.doctor` runs them all. Nothing here reads or prints a token: the storage
check writes, reads back and deletes an entry of its own, never the connection's.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import logging
import os
import secrets
import shutil
import socket
import sys
import threading
import webbrowser
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from kit_desktop import APP_NAME
from kit_desktop.auth.keyring_backends import KeyringUnavailableError
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.loopback_bind import Binding, parse_redirect_uri
from kit_desktop.auth.token_store import SERVICE_NAME, KeyringTokenStore
from kit_desktop.config import Settings
from kit_desktop.doctor_report import CheckResult
from kit_desktop.errors import KitError, StorageError, StorageLockedError
from kit_desktop.http import environment_overrides

_log = logging.getLogger(__name__)

#: Seconds a probe of a local port may take.
PROBE_TIMEOUT = 3.0
#: The keyring user name of the storage check's own entry (a random suffix is added).
TEST_ENTRY = "kit-desktop-doctor-check"
#: Variables naming a file of certificate authorities to trust instead of the usual ones.
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


# --- 1. the registered ports ------------------------------------------------------------------


def check_ports(settings: Settings, *, timeout: float = PROBE_TIMEOUT) -> CheckResult:
    """Are the registered redirect ports free (or held by Kit Desktop itself)?

    A port another program holds is a problem; it blocks connecting only when no registered
    port is left (port 0 means "any free port", which is always left).
    """
    bindings = [parse_redirect_uri(uri) for uri in settings.redirect_uris]
    any_port = any(binding.port == 0 for binding in bindings)
    free: list[int] = []
    ours: list[int] = []
    taken: list[int] = []
    broken: list[str] = []
    for binding in bindings:
        if binding.port == 0:
            continue
        state = _port_state(binding, timeout)
        if state == "free":
            free.append(binding.port)
        elif state == "ours":
            ours.append(binding.port)
        elif state == "taken":
            taken.append(binding.port)
        else:
            broken.append(state)
    title = "Ports for Kit's answer"
    found = []
    if free:
        found.append(f"{_ports(free)} {'is' if len(free) == 1 else 'are'} free")
    if ours:
        found.append(f"{_ports(ours)} {'is' if len(ours) == 1 else 'are'} held by {APP_NAME}")
    if any_port:
        found.append("any free port may be used")
    if not taken and not broken:
        return CheckResult("ports", title, True, False, _sentence("; ".join(found)))
    usable = free or any_port
    said = []
    if taken:
        who = "another program" if len(taken) == 1 else "other programs"
        said.append(f"{_ports(taken)} {'is' if len(taken) == 1 else 'are'} used by {who}")
    said += broken
    if usable:
        instead = "any free port" if not free else f"port {free[0]}"
        message = f"{_sentence('; '.join(said))} Connecting will use {instead} instead."
    else:
        message = f"{_sentence('; '.join(said))} Connecting will fail: no registered port is left."
    installs = bindings[0].port if len(bindings) >= 2 else 0
    if installs and installs in taken:
        message += f" App Store installs cannot reach {APP_NAME} while port {installs} is taken."
    first = taken[0] if taken else None
    fix = (
        f"Close the program using port {first} (or restart the computer), then check again."
        + _who_holds_hint(first)
        if first is not None
        else "Check that this computer's loopback address (127.0.0.1) is not blocked."
    )
    return CheckResult("ports", title, False, not usable, message, fix)


def _port_state(binding: Binding, timeout: float) -> str:
    """``free``, ``ours`` (Kit Desktop answers there), ``taken``, or why it cannot be used."""
    with socket.socket(binding.family, socket.SOCK_STREAM) as probe:
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)  # as the receiver binds
        if exclusive is not None:
            probe.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        try:
            probe.bind((binding.host, binding.port))
        except OSError as exc:
            if not _is_busy(exc):
                return f"port {binding.port} cannot be used ({exc.strerror or exc})"
        else:
            return "free"
    return "ours" if _answers_as_app(binding.host, binding.port, timeout) else "taken"


def _answers_as_app(host: str, port: int, timeout: float) -> bool:
    """Whether the program on ``port`` answers with one of Kit Desktop's own pages."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/kit-desktop-doctor")
        answer = connection.getresponse()
        body = answer.read(65536).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return (
        f" - {APP_NAME}</title>" in body and answer.getheader("Content-Security-Policy") is not None
    )


def _is_busy(exc: OSError) -> bool:
    if exc.errno == errno.EADDRINUSE:
        return True
    return sys.platform == "win32" and getattr(exc, "winerror", None) in (10048, 10013)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _ports(ports: list[int]) -> str:
    numbers = [str(port) for port in ports]
    if len(numbers) == 1:
        return f"port {numbers[0]}"
    return f"ports {', '.join(numbers[:-1])} and {numbers[-1]}"


def _who_holds_hint(port: int | None) -> str:
    if port is None:
        return ""
    if sys.platform == "win32":
        return f" To see which program it is: netstat -ano | findstr :{port}"
    if sys.platform == "darwin":
        return f" To see which program it is: lsof -nP -iTCP:{port} -sTCP:LISTEN"
    return f" To see which program it is: ss -ltnp 'sport = :{port}'"


# --- 2. the loopback receiver answers ---------------------------------------------------------


def check_loopback(settings: Settings, *, timeout: float = PROBE_TIMEOUT) -> CheckResult:
    """Does a receiver on the loopback address answer? One request to its start link."""
    title = "Receiving Kit's answer on this computer"
    first = parse_redirect_uri(settings.redirect_uris[0])
    where = f"http://{first.literal}:0{first.path}"
    fix = (
        "Security software may be blocking connections inside this computer: allow "
        f"{APP_NAME} to use {first.host} (loopback), then check again."
    )
    try:
        receiver = LoopbackReceiver((where,), secrets.token_urlsafe(16), timeout=timeout * 4)
    except KitError as exc:
        message = f"{APP_NAME} could not listen on {first.host} ({exc.detail or exc.user_message})."
        return CheckResult("loopback", title, False, True, message, fix)
    with receiver:
        receiver.set_authorization_url(settings.authorize_url)
        receiver.expect_browser()
        serving = threading.Thread(target=_serve, args=(receiver,), name="kit-doctor-loopback")
        serving.daemon = True
        serving.start()
        host, port = receiver.server_address
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request("GET", urlsplit(receiver.start_url).path)
            answer = connection.getresponse()
            answer.read()
            status, location = answer.status, answer.getheader("Location")
        except (OSError, http.client.HTTPException) as exc:
            status, location = 0, f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
    serving.join(timeout)
    if status == 302 and location == settings.authorize_url:
        message = (
            f"A test receiver on {first.literal} port {port} answered the browser's first step."
        )
        return CheckResult("loopback", title, True, False, message)
    found = f"it answered {status}" if status else f"no answer ({location})"
    message = (
        f"A test receiver on {first.literal} port {port} did not answer as it should: {found}."
    )
    return CheckResult("loopback", title, False, True, message, fix)


def _serve(receiver: LoopbackReceiver) -> None:
    with contextlib.suppress(KitError):  # cancelled when the check closes it
        receiver.wait()


# --- 3. secure storage ------------------------------------------------------------------------


def check_storage(backend: object | None = None, *, timeout: float = 5.0) -> CheckResult:
    """Does secure storage keep an entry? Write, read back and delete a test entry of its own.

    Args:
        backend: The keyring back-end (a ``keyring.backend.KeyringBackend``; default: the
            one the app would use).
        timeout: Seconds each keyring call may take.
    """
    title = "Secure storage"
    store = KeyringTokenStore(
        f"{TEST_ENTRY}-{secrets.token_hex(4)}",
        backend=backend,  # type: ignore[arg-type]
        call_timeout=timeout,
    )
    probe = {"check": secrets.token_hex(8)}
    try:
        store.save(probe)  # writes, then reads back
        if store.load() != probe:
            raise StorageError(detail="the test entry read back differently")
    except StorageError as error:
        with contextlib.suppress(StorageError):
            store.delete()
        return _storage_problem(title, error)
    try:
        store.delete()
    except StorageError as error:
        message = (
            f"The test entry was written to {store.location} but could not be removed "
            f"({error.detail}). Tokens can be kept there."
        )
        return CheckResult(
            "storage",
            title,
            False,
            False,
            message,
            f"Remove the entry '{store.profile}' of '{SERVICE_NAME}' in your keyring's manager.",
        )
    message = (
        f"Tokens are kept in {store.location} (as '{SERVICE_NAME}'); a test entry was written, "
        "read back and removed."
    )
    return CheckResult("storage", title, True, False, message)


def _storage_problem(title: str, error: StorageError) -> CheckResult:
    why = f" ({error.detail})" if error.detail else ""
    message = (
        f"{APP_NAME} could not use this computer's secure storage{why}. The window would "
        "forget the connection when it closes, and the command line cannot connect."
    )
    if isinstance(error, StorageLockedError):
        fix = "Unlock your keyring (it may be waiting for your password), then check again."
    elif sys.platform == "darwin":
        fix = "Open Keychain Access and unlock the login keychain, then check again."
    elif sys.platform == "win32":
        fix = "Make sure Windows Credential Manager is available, then check again."
    elif isinstance(error, KeyringUnavailableError):
        fix = (
            "Start a keyring in your desktop session (GNOME Keyring or KWallet, through the "
            "Secret Service) and unlock it, then check again."
        )
    else:
        fix = "Unlock or repair your keyring (GNOME Keyring or KWallet), then check again."
    return CheckResult("storage", title, False, True, message, fix)


# --- 5. network settings from the environment ----------------------------------------------


def check_network_settings(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> CheckResult:
    """Which proxy and certificate overrides are in effect; a missing CA file blocks https."""
    env = os.environ if environ is None else environ
    title = "Proxy and certificate settings"
    overrides = environment_overrides(env)
    uses_https = any(
        urlsplit(url).scheme == "https"
        for url in (settings.authorize_url, settings.token_url, settings.api_url)
    )
    missing = [
        name
        for name in CA_VARIABLES
        if env.get(name, "").strip() and not Path(env[name].strip()).exists()
    ]
    if missing and uses_https:
        message = (
            f"{', '.join(missing)} names a certificate file that does not exist, so secure "
            "connections to Kit fail."
        )
        return CheckResult(
            "network",
            title,
            False,
            True,
            message,
            f"Remove {' and '.join(missing)} from your environment, or point it at the file "
            "your company gave you.",
        )
    if not overrides:
        return CheckResult("network", title, True, False, "None set: Kit is reached directly.")
    message = (
        f"In effect, from the environment: {'; '.join(overrides)}. {APP_NAME} uses them for "
        "Kit's servers (never for this computer's own addresses); your browser may use "
        "its own settings."
    )
    return CheckResult("network", title, True, False, message)


# --- 6. a browser ---------------------------------------------------------------------------


def check_browser(environ: Mapping[str, str] | None = None) -> CheckResult:
    """Can a browser be opened? Asks Python's ``webbrowser`` (never opens one)."""
    env = os.environ if environ is None else environ
    title = "Web browser"
    if getattr(sys, "frozen", False) and sys.platform.startswith("linux"):
        opener = shutil.which("xdg-open")
        if opener:
            return CheckResult("browser", title, True, False, f"Opened with {opener}.")
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        chosen = env.get("BROWSER", "").strip()
        why = f" (BROWSER is set to {chosen!r}, which was not found)" if chosen else ""
        message = f"No browser was found{why}, so {APP_NAME} cannot open Kit's page by itself."
        fix = (
            "You can still connect: click Copy link in the window (or run connect "
            "--no-browser) and paste the link into a browser. To fix it, install a browser "
            "or set BROWSER to one."
        )
        return CheckResult("browser", title, False, False, message, fix)
    name = getattr(browser, "name", "") or type(browser).__name__
    chosen = env.get("BROWSER", "").strip()
    via = f" (from BROWSER={chosen})" if chosen else ""
    return CheckResult("browser", title, True, False, f"A browser can be opened: {name}{via}.")
