"""Catalogue G, case 70: another account on this computer cannot take over a connection.

A real second account (uid 65534, ``tests/helpers/second_account.py``) runs
``g_attacker.py``: it reads every process's command line, as any account may, looking for
the app's authorization URL; with it, it authorizes that URL itself and delivers the code
to the app's loopback port before the creator clicks Allow (RFC 8252 section 8.3). The
creator's browser is ``g_browser.py``, a real process holding what the app opened on its
command line, exactly as a system opener leaves it; it loads the page and has not clicked
Allow yet.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.state import AttemptView, Phase
from tests.helpers.browser import browser_env, chromium_path, open_in_thread
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.gui_apps import LOOPBACK, QT_NOISE, recorder, show_app
from tests.helpers.realparts import require
from tests.helpers.second_account import (
    other_account_command,
    require_other_account,
    script_folder,
)
from tests.helpers.user_browser import UserBrowser

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ATTACKER = HERE / "g_attacker.py"
BROWSER = HERE / "g_browser.py"
pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)


def launch_browser(url: str) -> bool:
    """The system opener: a browser process with ``url`` on its command line."""
    subprocess.run([sys.executable, str(BROWSER), url], check=True, timeout=30)
    return True


@pytest.fixture
def browsers() -> Iterator[None]:
    """Close every stand-in browser the test left open."""
    yield
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            line = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if str(BROWSER).encode() in line:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(name), signal.SIGKILL)


class Attacker:
    """The other account's watcher, running while the test drives the app."""

    def __init__(self, folder: Path, seconds: float = 15.0) -> None:
        self.process = subprocess.Popen(
            other_account_command(folder / ATTACKER.name, [str(seconds)]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=folder,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )

    @property
    def done(self) -> bool:
        return self.process.poll() is not None

    def report(self) -> dict[str, object]:
        out, err = self.process.communicate(timeout=60)
        lines = [line for line in out.splitlines() if line.strip()]
        assert lines, f"the attacker printed nothing: {err[-2000:]}"
        report = json.loads(lines[-1])
        assert isinstance(report, dict)
        assert report["uid"] == 65534, report
        return report


def assert_attack_failed(report: dict[str, object]) -> None:
    """The other account saw only the start link, which refused it, and finished nothing."""
    found = str(report["found"])
    assert found != "authorize", f"the other account got the authorization URL: {report}"
    assert found == "loopback", f"the attacker never saw the browser's command line: {report}"
    assert report["loopback_status"] == 403, report
    assert "callback_status" not in report, report


def test_c70_another_account_cannot_finish_a_connect_started_in_the_window(
    qtbot: QtBot, gui_apps: list[GuiApp], browsers: None
) -> None:
    require_other_account()
    gui = show_app(qtbot, gui_apps, opener=launch_browser)
    session, sandbox = gui.session, gui.sandbox
    assert session is not None and sandbox is not None
    with script_folder(ATTACKER) as folder:
        attacker = Attacker(folder)
        gui.window.card.primary_button.click()
        qtbot.waitUntil(lambda: attacker.done, timeout=40_000)
        report = attacker.report()
    assert_attack_failed(report)
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING)  # for the creator's own Allow
    assert sandbox.oauth.last_code_exchange(sandbox.app.client_id) is None


def test_c70_another_account_cannot_finish_a_connect_started_on_the_command_line(
    tmp_path: Path, browsers: None
) -> None:
    require_other_account()
    env = {
        **os.environ,
        "BROWSER": f"{sys.executable} {BROWSER} %s",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    with script_folder(ATTACKER) as folder:
        attacker = Attacker(folder)
        cli = subprocess.Popen(
            [sys.executable, "main.py", "--sandbox", "connect"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            report = attacker.report()
        finally:
            cli.send_signal(signal.SIGINT)
            out, err = cli.communicate(timeout=30)
    assert_attack_failed(report)
    assert "Connected" not in out, (out, err)


class ProcessWatch:
    """Reads every process's command line and environment, over and over, in a thread.

    What another account could read at any moment: ``/proc/PID/cmdline`` is readable by all,
    ``environ`` by the owner (and root, which this watch runs as, so it sees more than an
    attacker could). Distinct texts are kept; :meth:`leaks` looks for secrets in them.
    Texts of processes whose environment carries :attr:`mark` (the test's own commands and
    everything they start) are kept apart in :attr:`ours` too: the machine's other
    processes (a CI runner's shell, say) may say ``state=`` for reasons of their own.
    """

    def __init__(self) -> None:
        self.texts: set[bytes] = set()
        self.ours: set[bytes] = set()
        self.mark = f"KIT_TEST_WATCH={uuid.uuid4().hex}"
        self.rounds = 0
        self._stop = threading.Event()
        self._me = os.getpid()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name in os.listdir("/proc"):
                if not name.isdigit() or int(name) == self._me:
                    continue
                texts = []
                for part in ("cmdline", "environ"):
                    try:
                        texts.append(Path(f"/proc/{name}/{part}").read_bytes())
                    except OSError:
                        continue
                self.texts.update(texts)
                if any(self.mark.encode() in text for text in texts):
                    self.ours.update(texts)
            self.rounds += 1
            time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def leaks(self, secrets: set[str]) -> list[str]:
        """The secrets (shortened) that appeared in any command line or environment."""
        found = []
        for secret in secrets:
            raw = secret.encode()
            quoted = quote(secret, safe="").encode()
            if any(raw in text or quoted in text for text in self.texts):
                found.append(secret[:6] + "…")
        return found


def browser_cli(url: str) -> bool:
    """The system opener with a real browser: Chromium, through the test's BROWSER command."""
    env = {**os.environ, **browser_env("allow", Path(tempfile.mkdtemp()) / "result.json")}
    subprocess.run(
        [sys.executable, "-m", "tests.helpers.browser_cli", url],
        check=True,
        timeout=30,
        cwd=ROOT,
        env=env,
    )
    return True


def test_c70_nothing_that_completes_a_connection_is_on_any_command_line(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    gui = GuiApp(
        Settings(redirect_uris=LOOPBACK), practice=True, opener=browser_cli, backend=MemoryKeyring()
    )
    gui_apps.append(gui)
    attempts: list[AttemptView] = []
    watch = ProcessWatch()
    try:
        gui.show()
        qtbot.waitUntil(lambda: gui.session is not None and gui.session.view.storage is not None)
        session, sandbox = gui.session, gui.sandbox
        assert session is not None and sandbox is not None
        session.attempt_changed.connect(attempts.append)

        # An App Store install, in Chromium, through the sandbox's relay page.
        job = open_in_thread(sandbox.install_url, "allow", timeout=30)
        qtbot.waitUntil(lambda: job.done, timeout=40_000)
        assert "Installed" in job.wait().text
        qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED)
        # A renewal, a disconnect, then Connect in the window with Chromium as the browser.
        session.refresh_now()
        qtbot.waitUntil(lambda: not session.view.refreshing)
        session.disconnect_account()
        qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED)
        gui.window.card.primary_button.click()
        qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=40_000)
        session.disconnect_account()
        qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED)
    finally:
        watch.stop()
    secrets = set(sandbox.oauth.issued_secrets())
    for attempt in attempts:
        secrets |= {attempt.state, attempt.challenge, attempt.verifier, attempt.url}
    assert len(attempts) >= 2 and len(secrets) >= 12, "the flows ran"
    assert watch.rounds > 50
    assert watch.leaks(secrets) == []


def practice_tokens() -> TokenSet:
    """The practice connection the command line saved in the real Secret Service."""
    payload = KeyringTokenStore(profile_key("http://127.0.0.1:1", SANDBOX_CLIENT_ID)).load()
    assert payload is not None, "connect saved its tokens"
    return TokenSet.from_payload(payload)


def test_c70_nothing_on_any_command_line_from_the_command_line_flows(tmp_path: Path) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    env = {
        **os.environ,
        **browser_env("allow", tmp_path / "browser.json"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "main.py", "--sandbox", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )

    watch = ProcessWatch()
    env["KIT_TEST_WATCH"] = watch.mark.partition("=")[2]
    saved: list[TokenSet] = []
    try:
        connected = run("connect")
        saved.append(practice_tokens())
        renewed = run("refresh")
        saved.append(practice_tokens())
        status = run("status", "--json")
        gone = run("disconnect")
    finally:
        watch.stop()
    assert connected.returncode == 0, connected.stderr
    assert renewed.returncode == 0 and status.returncode == 0 and gone.returncode == 0
    url = connected.stdout.splitlines()[0]
    query = parse_qs(urlsplit(url).query)
    secrets = {query["state"][0], query["code_challenge"][0], url}
    for tokens in saved:
        secrets |= {tokens.access_token, tokens.refresh_token or tokens.access_token}
    assert len(secrets) == 7, "two connections' tokens and the attempt's values"
    assert watch.leaks(secrets) == []
    pattern = re.compile(rb"(code|state|code_challenge|access_token|refresh_token)=[A-Za-z0-9]")
    assert len(watch.ours) >= 4, "the watch saw the test's own commands"
    assert [text[:80] for text in watch.ours if pattern.search(text)] == []


def other_account_get(url: str) -> dict[str, object]:
    """Fetch ``url`` as the other account (as if it had learnt the address somehow)."""
    with script_folder(ATTACKER) as folder:
        done = subprocess.run(
            other_account_command(folder / ATTACKER.name, ["get", url]),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=folder,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["uid"] == 65534, report
    return dict(report)


def test_c70_even_with_the_state_another_account_cannot_deliver_a_code(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    # Defence in depth: had the URL leaked some other way, the loopback still refuses a
    # callback (or the start link) from another account, and keeps waiting for the creator.
    require_other_account()
    opened: list[str] = []
    gui = show_app(
        qtbot, gui_apps, Settings(redirect_uris=LOOPBACK, route="direct"), recorder(opened)
    )
    session = gui.session
    assert session is not None
    attempts: list[AttemptView] = []
    session.attempt_changed.connect(attempts.append)
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING)
    attempt = attempts[-1]
    callback = f"{attempt.redirect_uri}?code=stolen-code&state={quote(attempt.state)}"

    assert other_account_get(opened[0])["status"] == 403  # the start link
    assert other_account_get(callback)["status"] == 403
    qtbot.wait(200)
    assert session.view.phase is Phase.WAITING

    browser = UserBrowser("allow")
    browser.open(opened[0])  # the creator's own browser still gets through
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED)


def test_c70_another_account_cannot_start_an_install(qtbot: QtBot, gui_apps: list[GuiApp]) -> None:
    require_other_account()
    gui = show_app(qtbot, gui_apps)
    assert gui.installs is not None and gui.sandbox is not None and gui.session is not None
    raised: list[bool] = []
    gui.session.attention_requested.connect(lambda: raised.append(True))
    entry = f"{gui.installs.url}?redirect={quote(gui.sandbox.app_page_url, safe='')}"

    assert other_account_get(entry)["status"] == 403
    qtbot.wait(200)
    assert gui.session.view.phase is Phase.NOT_CONNECTED and raised == []
