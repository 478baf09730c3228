"""``--smoke-test``: the whole app, offscreen, through one practice connection and back.

Made for the frozen build (CI runs it on the one-folder app) but runs from source too.
Step by step, each with a time limit: show the real window, connect against the
in-process sandbox with a browser stand-in that clicks Allow, read the tokens back from
the system keyring, send ``GET /v4/account``, disconnect and check the keyring entry is
gone. It uses its own practice client ID, so it never touches a creator's saved
practice connection. Exit 0 when every step passed; otherwise 1, with the failing step
on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, TypeVar

from PySide6.QtWidgets import QApplication

from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox.visitor import ApprovingVisitor
from kit_desktop.state import Phase

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from kit_desktop.qt.session import KitSession

#: The smoke test's own practice app, so its keyring entry is its own.
SMOKE_CLIENT_ID = "kit-desktop-smoke-test-000000000000000000"
STEP_TIMEOUT = 30.0

_T = TypeVar("_T")


class SmokeStepError(Exception):
    """One step of the smoke test did not work.

    Args:
        step: The step's name.
        reason: What went wrong, in a line.
    """

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


class SmokeTest:
    """Drives a :class:`GuiApp` through the steps; :meth:`run` raises :class:`SmokeStepError`.

    Args:
        app: The running QApplication.
        gui: The app, not yet shown.
        visitor: The browser stand-in ``gui`` opens URLs with.
        backend: The keyring backend the app uses (None: the system's).
        out: Where each passed step is reported.
    """

    def __init__(
        self,
        app: QApplication,
        gui: GuiApp,
        visitor: ApprovingVisitor,
        backend: KeyringBackend | None,
        out: TextIO,
    ) -> None:
        self.app = app
        self.gui = gui
        self.visitor = visitor
        self.backend = backend
        self.out = out

    def run(self) -> None:
        """Run every step in order."""
        session = self._step("show the window", self._show)
        if session.view.phase.has_tokens:
            leftover = "clear an earlier smoke test's connection"
            self._step(leftover, lambda: self._disconnect(session))
        self._step("find secure storage", lambda: self._check_storage(session))
        self._step("connect in the browser stand-in", lambda: self._connect(session))
        self._step("read the tokens back from the keyring", lambda: self._read_back(session))
        self._step("send GET /v4/account", self._get_account)
        self._step("disconnect", lambda: self._disconnect(session))

    def _step(self, name: str, action: Callable[[], _T]) -> _T:
        started = time.perf_counter()
        try:
            result = action()
        except SmokeStepError as failure:
            raise SmokeStepError(name, failure.reason) from None
        except Exception as exc:  # reported as this step's failure, with its type
            raise SmokeStepError(name, f"{type(exc).__name__}: {exc}") from exc
        elapsed = (time.perf_counter() - started) * 1000
        print(f"ok  {name} ({elapsed:.0f} ms)", file=self.out, flush=True)
        return result

    def _wait(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while not done():
            if time.monotonic() > deadline:
                raise SmokeStepError("", f"{what} did not happen within {STEP_TIMEOUT:.0f} s")
            self.app.processEvents()
            time.sleep(0.005)

    def _show(self) -> KitSession:
        self.gui.show()
        self._wait(
            lambda: self.gui.session is not None and self.gui.session.view.storage is not None,
            "the window and its saved connection",
        )
        if self.gui.session is None:
            raise SmokeStepError("", "the window was shown without its session")
        return self.gui.session

    @staticmethod
    def _check_storage(session: KitSession) -> None:
        storage = session.view.storage
        if storage is None or not storage.secure:
            warning = storage.warning if storage is not None else None
            raise SmokeStepError("", warning or "the system keyring is not available")

    def _connect(self, session: KitSession) -> None:
        self.gui.window.card.primary_button.click()
        self._wait(
            lambda: (
                session.view.phase in (Phase.CONNECTED, Phase.FAILED, Phase.NOT_CONNECTED)
                and not session.view.phase.attempt_running
                and self.visitor.done.is_set()
            ),
            "the connection",
        )
        if self.visitor.errors:
            raise SmokeStepError("", f"the browser stand-in failed: {self.visitor.errors[-1]}")
        view = session.view
        if view.phase is not Phase.CONNECTED or view.account is None:
            raise SmokeStepError("", f"{view.headline} {view.detail}".strip())

    def _keyring(self, session: KitSession) -> KeyringTokenStore:
        token_url = session.services.settings.token_url
        return KeyringTokenStore(profile_key(token_url, SMOKE_CLIENT_ID), backend=self.backend)

    def _read_back(self, session: KitSession) -> None:
        saved = self._keyring(session).load()
        held = session.services.tokens.tokens
        if saved is None or held is None:
            raise SmokeStepError("", "no tokens were saved in the keyring")
        if saved.get("access_token") != held.access_token:
            raise SmokeStepError("", "the keyring holds other tokens than the app")

    def _get_account(self) -> None:
        api = self.gui.api
        if api is None:
            raise SmokeStepError("", "the API panel was not built")
        answers: list[object] = []
        api.finished.connect(answers.append)
        api.failed.connect(answers.append)
        api.send("GET", "/v4/account")
        self._wait(lambda: bool(answers), "Kit's answer")
        answer = answers[0]
        response = getattr(answer, "response", None)
        if response is None:
            raise SmokeStepError("", f"the request failed: {answer}")
        if response.status != 200 or "account" not in json.loads(response.body):
            raise SmokeStepError("", f"Kit answered {response.status} without an account")

    def _disconnect(self, session: KitSession) -> None:
        session.disconnect_account()
        self._wait(
            lambda: session.view.phase is Phase.NOT_CONNECTED and not session.disconnecting,
            "disconnecting",
        )
        if self._keyring(session).load() is not None:
            raise SmokeStepError("", "the tokens are still in the keyring")


def run_smoke_test(
    settings: Settings,
    *,
    backend: KeyringBackend | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run the smoke test offscreen; return 0 when every step passed, else 1.

    Args:
        settings: The app's settings (the sandbox replaces Kit's endpoints).
        backend: The keyring backend (default: the system's, as the app uses).
        out: Where passed steps are reported.
        err: Where the failing step is reported.
    """
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    visitor = ApprovingVisitor()
    gui = GuiApp(
        settings,
        practice=True,
        opener=visitor.open,
        backend=backend,
        sandbox_client_id=SMOKE_CLIENT_ID,
    )
    try:
        SmokeTest(app, gui, visitor, backend, out).run()
    except SmokeStepError as failure:
        print(f"smoke test failed at step “{failure.step}”: {failure.reason}", file=err)
        return 1
    finally:
        gui.shutdown()
        gui.window.hide()
    print("smoke test passed", file=out, flush=True)
    return 0
