"""Headless commands on the same core: connect, status, refresh, request, disconnect."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TextIO

from kit_desktop.api.pipeline import check_request, compose_request, parse_json_body, query_pair
from kit_desktop.auth.browser import BrowserOpener, open_system_browser
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.cli_args import add_commands
from kit_desktop.config import Settings
from kit_desktop.connection import Connection
from kit_desktop.errors import (
    KitError,
    ReconnectNeededError,
)
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.practice import start_practice
from kit_desktop.services import Services, build_services

log = logging.getLogger(__name__)


class Cli:
    """Runs one command and returns its exit code; output goes to ``out``, problems to ``err``.

    Args:
        settings: The configured Kit app (with a client ID).
        services: The core services (built from ``settings`` by default).
        sandbox: The in-process practice sandbox (its saved grants are restored into it).
        opener: Opens the browser (tests pass their own).
        out: Where results go.
        err: Where progress and problems go.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        services: Services | None = None,
        sandbox: SandboxServer | None = None,
        opener: BrowserOpener = open_system_browser,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.services = services or build_services(settings)
        self.connection = Connection(self.services, sandbox)
        self.opener = opener
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def run(self, args: argparse.Namespace) -> int:
        """Run ``args.command``; a KitError becomes one plain line on ``err``."""
        handlers: dict[str, Callable[[argparse.Namespace], int]] = {
            "connect": self.connect,
            "status": self.status,
            "refresh": self.refresh,
            "request": self.request,
            "disconnect": self.disconnect,
        }
        try:
            self.connection.share_with_practice()
            return handlers[args.command](args)
        except KitError as exc:
            log.info("%s failed: %s", args.command, exc.detail or type(exc).__name__, exc_info=True)
            self._say(exc.user_message)
            return 1
        except KeyboardInterrupt:
            self._say("Stopped.")
            return 130

    def connect(self, args: argparse.Namespace) -> int:
        """Run the whole browser flow and keep the tokens."""
        receiver, attempt = self.connection.begin_attempt()
        with receiver:
            print(attempt.url, file=self.out, flush=True)
            if args.no_browser:
                self._say("Open the link above in your browser, then click Allow.")
            elif not self._open(receiver):
                self._say("Your browser could not be opened. Open the link above yourself.")
            self._say("Waiting for you to click Allow in your browser...")
            response = receiver.wait()
            with _serving_done_page(receiver):
                try:
                    kept = self.connection.keep(self.connection.exchange(response.code, attempt))
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

    def request(self, args: argparse.Namespace) -> int:
        """Send one API request and print the JSON answer.

        The request goes through the API panel's checks (:mod:`kit_desktop.api.pipeline`)
        before anything is sent. Unlike the panel, ``--data`` is sent whatever the method.
        """
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
            summary = response.error_summary() or response.reason
            self._say(f"Kit answered {response.status}: {summary}")
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
            self._say(
                "Kit could not be reached to cancel the access, so it may keep working until "
                f"it expires ({_local(tokens.expires_at)}). {problem.user_message}"
            )
        else:
            print("Disconnected: Kit cancelled the access and it was removed here.", file=self.out)
        return 0

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
    if getattr(args, "sandbox", False) or settings.practice_mode:
        sandbox, practice = start_practice(settings)
        try:
            return Cli(practice, sandbox=sandbox).run(args)
        finally:
            sandbox.stop()
    return Cli(settings).run(args)


__all__ = ["Cli", "add_commands", "run_cli"]
