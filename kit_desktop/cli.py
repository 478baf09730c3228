"""Headless commands on the same core: connect, status, refresh, request, disconnect, doctor.

Only what a command needs is imported, and for ``connect`` the HTTP and keyring libraries
load while the browser is away: the browser opens before they are imported.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, TextIO

from kit_desktop.auth.attempt import PracticeKit, begin_attempt
from kit_desktop.auth.browser import BrowserOpener, open_system_browser
from kit_desktop.auth.loopback import DEFAULT_TIMEOUT, AuthorizationResponse, LoopbackReceiver
from kit_desktop.auth.pages import TERMINAL_HINT
from kit_desktop.cli_args import add_commands
from kit_desktop.config import Settings
from kit_desktop.console import utf8_when_redirected
from kit_desktop.errors import (
    CommandLineStorageError,
    FlowTimeoutError,
    KitError,
    NotConnectedError,
    ReconnectNeededError,
    how_long,
)
from kit_desktop.reach import check_reachable
from kit_desktop.words import REVOKED, api_problem, at_time, revoke_problem

if TYPE_CHECKING:
    from kit_desktop.auth.tokenset import TokenSet
    from kit_desktop.connection import Connection
    from kit_desktop.services import Services

#: What starts a new attempt on the command line, as the sentences about it name it.
CONNECT_AGAIN = "run connect again"
#: Said while connect waits, when a connection is saved already.
REPLACES_NOTE = (
    "Note: Kit Desktop is already connected on this computer. Clicking Allow replaces that "
    "connection, and its access is cancelled at Kit. To keep it, stop with Ctrl+C."
)

log = logging.getLogger(__name__)


class Cli:
    """Runs one command and returns its exit code; output goes to ``out``, problems to ``err``.

    Args:
        settings: The configured Kit app (with a client ID).
        services: The core services (built from ``settings`` by default).
        sandbox: Practice mode's in-process Kit (its saved grants are restored into it).
        opener: Opens the browser (tests pass their own).
        out: Where results go.
        err: Where progress and problems go.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        services: Services | None = None,
        sandbox: PracticeKit | None = None,
        opener: BrowserOpener = open_system_browser,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self.practice = sandbox
        if services is not None:
            self.services = services
        self.opener = opener
        self.flow_timeout = DEFAULT_TIMEOUT  # how long connect waits for Allow
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    @cached_property
    def services(self) -> Services:
        """The core services (HTTP and keyring libraries load on first use)."""
        from kit_desktop.services import build_services

        return build_services(self.settings)

    @cached_property
    def connection(self) -> Connection:
        """The connection steps on :attr:`services`."""
        from kit_desktop.connection import Connection

        return Connection(self.services, self.practice)

    def run(self, args: argparse.Namespace) -> int:
        """Run ``args.command``; a KitError becomes one plain line on ``err``."""
        handlers: dict[str, Callable[[argparse.Namespace], int]] = {
            "connect": self.connect,
            "status": self.status,
            "refresh": self.refresh,
            "token": self.token,
            "request": self.request,
            "disconnect": self.disconnect,
            "doctor": self.doctor,
        }
        try:
            if self.practice is not None and args.command != "doctor":  # asks no tokens
                self.connection.share_with_practice()
            return handlers[args.command](args)
        except FlowTimeoutError as exc:  # the window's words name its button; here, the command
            self._say(FlowTimeoutError(exc.seconds, again="Run connect again").user_message)
            return 1
        except KitError as exc:
            log.info("%s failed: %s", args.command, exc.detail or type(exc).__name__, exc_info=True)
            self._say(exc.user_message)
            return 1
        except KeyboardInterrupt:
            self._say("Stopped.")
            return 130

    def connect(self, args: argparse.Namespace) -> int:
        """Run the whole browser flow and keep the tokens."""
        if not self.settings.relay_missing:  # that one is said by begin_attempt
            check_reachable(self.settings.authorize_url, again=CONNECT_AGAIN)
        receiver, attempt = begin_attempt(self.settings, self.practice, timeout=self.flow_timeout)
        receiver.done_hint = TERMINAL_HINT
        with receiver:
            print(attempt.url, file=self.out, flush=True)
            if args.no_browser:
                self._say("Open the link above in your browser, then click Allow.")
            elif not self._open(receiver):
                self._say("Your browser could not be opened. Open the link above yourself.")
            self._say(
                "Waiting for you to click Allow in your browser (up to "
                f"{how_long(self.flow_timeout)}; Ctrl+C stops)..."
            )
            response = self._wait_while_preparing(receiver)
            with _serving_done_page(receiver):
                try:
                    self._check_storage()  # before Kit issues anything: no exchange without it
                    kept = self.connection.keep(self.connection.exchange(response.code, attempt))
                    self._check_storage(kept.tokens)  # a keyring that lost the write
                except KitError as exc:
                    receiver.finish(False, exc.user_message)
                    raise
                who = kept.account.who if kept.account else "your Kit account"
                receiver.finish(True, f"Connected as {who}.")
        self.connection.retire(kept.replaced, kept.tokens)  # revoke what this replaced
        print(f"Connected to Kit as {who}.", file=self.out, flush=True)
        if kept.problem is not None:
            self._say(f"Kit could not say who is connected just now. {kept.problem.user_message}")
        self._storage_note()
        return 0

    def _check_storage(self, issued: TokenSet | None = None) -> None:
        """Refuse to connect when the tokens could not outlive this command.

        Each command is its own process: without secure storage the next one would not be
        connected, and nothing could revoke what Kit issued. Before the exchange nothing
        is issued; after it (a keyring that lost the write), the new tokens are revoked.

        Raises:
            CommandLineStorageError: The storage is not secure.
        """
        store = self.services.store
        if store.is_secure:
            return
        warning = store.warning or self.services.tokens.warning
        error = CommandLineStorageError(
            "" if warning is None else warning.user_message, detail=store.location
        )
        if issued is not None:
            self.connection.discard(issued, ())
        raise error

    def _wait_while_preparing(self, receiver: LoopbackReceiver) -> AuthorizationResponse:
        """Wait for Kit's answer; meanwhile load the connection and find the keyring.

        The receiver answers the browser on its own thread, so the HTTP and keyring
        libraries load while the browser walks to Kit and back, not before it opens.
        """
        outcome: list[AuthorizationResponse | BaseException] = []

        def wait() -> None:
            try:
                outcome.append(receiver.wait())
            except BaseException as exc:  # handed to the main thread below
                outcome.append(exc)

        waiter = threading.Thread(target=wait, name="kit-callback", daemon=True)
        waiter.start()
        try:
            if not self.services.store.is_secure:  # finds the keyring now, not after Allow
                self._say(
                    "Note: this computer's secure storage is not available, so the command "
                    "line will not be able to keep the connection. You can stop with Ctrl+C."
                )
            elif self.services.tokens.tokens is not None:
                self._say(REPLACES_NOTE)
            while waiter.is_alive():
                waiter.join(0.2)  # in steps, so Ctrl+C is noticed
        except BaseException:
            receiver.cancel()
            waiter.join(5)
            raise
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def _open(self, receiver: LoopbackReceiver) -> bool:
        """Open the browser on the receiver's start link, never on the URL itself (case 70)."""
        receiver.expect_browser()
        return self.opener(receiver.start_url)

    def status(self, args: argparse.Namespace) -> int:
        """Print the connection, account and expiry; exit 1 when not connected."""
        try:
            snapshot = self.connection.load()
        except ReconnectNeededError as exc:
            return self._not_connected(args, exc)
        tokens = snapshot.tokens
        if tokens is None:
            return self._not_connected(args, self.services.tokens.warning)
        account, problem = snapshot.account, snapshot.problem
        info = {
            "connected": True,
            "account": account.as_dict() if account else None,
            "expires_at": _iso(tokens.expires_at),
            "scope": tokens.scope,
            "storage": snapshot.storage.location,
            "problem": _message(problem),
        }
        if args.json:
            print(json.dumps(info), file=self.out)
        else:
            who = f" as {account.who}" if account else ""
            print(f"Connected to Kit{who}.", file=self.out)
            print(f"Access expires: {_local(tokens.expires_at)}", file=self.out)
            print(f"Saved in: {snapshot.storage.location}", file=self.out)
            if problem is not None:
                self._say(problem.user_message)
        return 0

    def _not_connected(self, args: argparse.Namespace, why: KitError | None) -> int:
        if args.json:
            print(json.dumps({"connected": False, "problem": _message(why)}), file=self.out)
        else:
            print("Not connected to Kit.", file=self.out)
            if why is not None:
                self._say(why.user_message)
        return 1

    def refresh(self, args: argparse.Namespace) -> int:
        """Renew the access token now."""
        tokens = self.services.tokens.refresh()
        print(f"Access renewed; it now expires {_local(tokens.expires_at)}.", file=self.out)
        self._storage_note()
        return 0

    def token(self, args: argparse.Namespace) -> int:
        """Print the access token for a script, renewed first when it is due.

        The renewal runs under the cross-process refresh lock, so a window or another script
        renewing at the same time never makes a second refresh at Kit. The token goes to
        standard output only (never to the log), alone on one line; ``--header`` prints it
        as an ``Authorization`` header for ``curl -H @-``, which keeps it off every command
        line (other accounts can read those); ``--json`` adds the expiry and the account.
        """
        try:
            tokens = self.services.tokens.valid_tokens()
        except NotConnectedError:
            warning = self.services.tokens.warning
            self._say("Not connected to Kit. Run connect first.")
            if warning is not None:
                self._say(warning.user_message)
            return 1
        if args.header:
            print(f"Authorization: Bearer {tokens.access_token}", file=self.out, flush=True)
        elif args.json:
            from kit_desktop.api.account import fetch_account

            account, problem = None, None
            try:
                account = fetch_account(self.services.api)
            except KitError as exc:  # the token is still good to hand over
                problem = exc
            info = {
                "access_token": tokens.access_token,
                "token_type": "Bearer",
                "expires_at": _iso(tokens.expires_at),
                "account": account.as_dict() if account else None,
                "problem": _message(problem),
            }
            print(json.dumps(info), file=self.out, flush=True)
        else:
            print(tokens.access_token, file=self.out, flush=True)
        return 0

    def request(self, args: argparse.Namespace) -> int:
        """Send one API request and print the JSON answer.

        The request goes through the API panel's checks (:mod:`kit_desktop.api.pipeline`)
        before anything is sent. Unlike the panel, ``--data`` is sent whatever the method.
        """
        from kit_desktop.api.pipeline import (
            check_request,
            compose_request,
            parse_json_body,
            query_pair,
        )

        query = [query_pair(item, what="The --query value") for item in args.query]
        composed = compose_request(args.method, args.path, query)
        check_request(composed, self.services.api.origin)
        body = None if args.data is None else parse_json_body(args.data, what="The --data value")
        response = self.services.api.request(
            composed.method, composed.path, query=composed.query, json_body=body
        )
        try:
            data = response.json()
            print(json.dumps(data, indent=2, ensure_ascii=False), file=self.out)
        except (ValueError, UnicodeDecodeError):
            print(response.body.decode("utf-8", "replace"), file=self.out)
        if response.status >= 400:
            status = f"{response.status} {response.reason}".strip()
            self._say(
                f"Kit answered {status}. {api_problem(response.status, response.error_summary())}"
            )
            return 1
        return 0

    def disconnect(self, args: argparse.Namespace) -> int:
        """Revoke both tokens at Kit, then delete them here whatever Kit said."""
        tokens = self.services.tokens.tokens
        if tokens is None:
            print("Not connected to Kit; nothing to do.", file=self.out)
            return 0
        problem = self.connection.disconnect()
        if problem is not None:
            print("Disconnected on this computer.", file=self.out)
            self._say(revoke_problem(problem, at_time(tokens.expires_at)))
        else:
            print(REVOKED, file=self.out)
        return 0

    def doctor(self, args: argparse.Namespace) -> int:
        """Check this computer for connecting; exit 1 when something stops it.

        Each check is one line, OK or the problem and what to do (``--json``: a list for
        support). Nothing printed holds a token.
        """
        from kit_desktop.doctor import heading, run_checks
        from kit_desktop.doctor_report import blocked, report_json, report_text

        results = run_checks(self.settings)
        if args.json:
            print(report_json(results), file=self.out, flush=True)
        else:
            title = heading(self.settings, practice=self.practice is not None)
            print(report_text(results, title), file=self.out, flush=True)
        return 1 if blocked(results) else 0

    def _storage_note(self) -> None:
        warning = self.services.tokens.warning
        if warning is not None:
            self._say(warning.user_message)

    def _say(self, text: str) -> None:
        print(text, file=self.err, flush=True)


@contextmanager
def _serving_done_page(receiver: LoopbackReceiver) -> Iterator[None]:
    """Serve the browser's ``/done`` page while the exchange runs, then stop."""
    thread = threading.Thread(target=receiver.serve_done, name="kit-done-page", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=10)


def _message(error: KitError | None) -> str | None:
    return None if error is None else error.user_message


def _iso(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp).astimezone().isoformat()


def _local(stamp: float | None) -> str:
    if stamp is None:
        return "unknown (it is renewed when Kit refuses it)"
    return datetime.fromtimestamp(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """Run a CLI command with ``settings`` (starting an in-process sandbox when asked)."""
    utf8_when_redirected()
    if getattr(args, "sandbox", False) or settings.practice_mode:
        from kit_desktop.sandbox.practice import start_practice  # practice only: not for Kit

        sandbox, practice = start_practice(settings)
        try:
            return Cli(practice, sandbox=sandbox).run(args)
        finally:
            sandbox.stop()
    return Cli(settings).run(args)


__all__ = ["Cli", "add_commands", "run_cli", "utf8_when_redirected"]
