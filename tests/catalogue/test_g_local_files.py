"""Catalogue G74-G75: per-account rendezvous names, and private files whatever the umask.

G74: another account (a real one, uid 65534, see :mod:`tests.helpers.second_account`)
squats the names the single-instance check uses: the old socket name Qt put in the shared
temporary folder, and the ``kit-desktop-<uid>`` folder the app falls back to there. The
real app (``python main.py --sandbox``, offscreen) must start, never talk to the
squatter's socket, and say in plain words what happened.

G75: with umask 022, the real window and CLI (and the log and refresh lock used without
``main()``) leave only 0600 files and 0700 folders under a throwaway HOME and XDG folders;
files an older version left readable are tightened; the browser the app starts gets the
creator's own umask back.

The app is given ``TMPDIR`` pointing at a fresh sticky, world-writable folder standing in
for the shared ``/tmp`` (Qt and the app both honour ``TMPDIR``), so runs never collide.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.errors import NameTakenError, NotPrivateError
from kit_desktop.gui.launch import show_name_taken
from kit_desktop.paths import data_dir, runtime_dir
from kit_desktop.qt.single_instance import Claim, SingleInstance
from tests.helpers.realparts import require
from tests.helpers.second_account import (
    OTHER_UID,
    other_account_command,
    require_other_account,
    script_folder,
)

ROOT = Path(__file__).resolve().parents[2]
SQUAT_SCRIPT = Path(__file__).with_name("g_squat.py")
#: The plain words the app uses when another account holds its name.
TAKEN = "Another account on this computer"
#: Deep enough that a socket under the data folder would pass the Unix path limit.
DEEP = "d" * 90
PROBE_SETTLE_MS = 400
OFFSCREEN_NOISE = r"^This plugin does not support propagateSizeHints\(\)$"
APP = "kit-desktop"


# --- places -------------------------------------------------------------------------------


@pytest.fixture
def home() -> Iterator[Path]:
    """A short throwaway root for HOME and the XDG folders (the app creates what it needs)."""
    folder = Path(tempfile.mkdtemp(prefix="kit-g-home-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A stand-in for the shared ``/tmp``: sticky and writable by every account."""
    folder = Path(tempfile.mkdtemp(prefix="kit-g-tmp-", dir="/tmp"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def app_env(
    home: Path, shared_tmp: Path, *, data_home: Path | None = None, runtime: Path | None = None
) -> dict[str, str]:
    """The app's environment: throwaway folders, offscreen, no keyring, no KIT_ settings."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home / "home"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(data_home or home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "TMPDIR": str(shared_tmp),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONDONTWRITEBYTECODE": "1",
        "KIT_REDIRECT_URI": "http://127.0.0.1:0/callback",  # one, so no fixed install port
    }
    if runtime is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


def old_socket_name(shared_tmp: Path, data_home: Path) -> Path:
    """Where the app used to put its single-instance socket: a name anyone can compute."""
    digest = zlib.crc32(str(data_home / "kit-desktop").encode("utf-8"))
    return shared_tmp / f"kit-desktop-{digest:08x}"


def window_command() -> list[str]:
    """The real app's window in practice mode."""
    return [sys.executable, "main.py", "--sandbox"]


def run_window(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real window offscreen until the start-up probe quits it (umask 022)."""
    return subprocess.run(
        window_command(),
        cwd=ROOT,
        env={**env, "KIT_STARTUP_PROBE": str(PROBE_SETTLE_MS)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        umask=0o022,
    )


def started(done: subprocess.CompletedProcess[str]) -> None:
    """Assert the window really opened and the app ended normally (not a silent exit)."""
    assert "kit-probe painted" in done.stdout, (
        f"the app exited (code {done.returncode}) without opening its window; "
        f"stdout={done.stdout!r} stderr={done.stderr[-2000:]!r}"
    )
    assert done.returncode == 0, done.stderr[-2000:]


def log_text(data_home: Path) -> str:
    """The app's log file under ``data_home``."""
    return (data_home / "kit-desktop" / "logs" / "kit-desktop.log").read_text("utf-8")


# --- the other account --------------------------------------------------------------------


class Squat:
    """The other account's listening socket; ``report`` is filled in when it has stopped."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.report: dict[str, object] = {}

    def stop(self) -> None:
        out, err = self.process.communicate(timeout=30)
        lines = [line for line in out.splitlines() if line.strip()]
        assert lines, f"the squatter printed nothing (exit {self.process.returncode}): {err}"
        self.report = json.loads(lines[-1])


@contextmanager
def squatting(socket_path: Path, *, folder_mode: int | None = None) -> Iterator[Squat]:
    """Have the other account listen on ``socket_path`` (creating its folder when asked)."""
    args = [str(socket_path)]
    if folder_mode is not None:
        args += ["--folder", f"{folder_mode:o}"]
    with script_folder(SQUAT_SCRIPT) as scripts:
        process = subprocess.Popen(
            other_account_command(scripts / SQUAT_SCRIPT.name, args),
            cwd=scripts,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        squat = Squat(process)
        assert process.stdout is not None and process.stdin is not None
        ready = process.stdout.readline()
        if '"ready"' not in ready:
            process.kill()
            _, err = process.communicate(timeout=30)
            pytest.fail(f"the other account could not squat {socket_path}: {err[-2000:]}")
        try:
            yield squat
        finally:
            squat.stop()  # closes its stdin: the squatter reports and exits


# --- walking what the app wrote -------------------------------------------------------------


def modes_under(root: Path) -> dict[Path, int]:
    """Every file, folder and socket under ``root`` (not ``root`` itself), with its mode."""
    found: dict[Path, int] = {}
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder, name)
            found[path] = os.lstat(path).st_mode
    return found


def not_private(found: dict[Path, int]) -> list[str]:
    """Entries that are not 0700 folders, 0600 files, or sockets only this account reaches."""
    wrong = []
    for path, mode in sorted(found.items()):
        bits = stat.S_IMODE(mode)
        if stat.S_ISDIR(mode):
            ok = bits == 0o700
        elif stat.S_ISREG(mode):
            ok = bits == 0o600
        else:
            ok = not stat.S_ISLNK(mode) and bits & 0o077 == 0
        if not ok:
            wrong.append(f"{path} {stat.filemode(mode)}")
    return wrong


def write_loose(path: Path, text: str = "") -> None:
    """Write ``path`` (and its folders) as a umask-022 program would: 0644, folders 0755."""
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir()
            parent.chmod(0o755)
    path.write_text(text, "utf-8")
    path.chmod(0o644)


# --- G74 ----------------------------------------------------------------------------------


def test_c74_old_shared_name_taken_by_another_account_no_longer_stops_the_app(
    home: Path, shared_tmp: Path
) -> None:
    require_other_account()
    env = app_env(home, shared_tmp)
    with squatting(old_socket_name(shared_tmp, Path(env["XDG_DATA_HOME"]))) as squat:
        done = run_window(env)
    started(done)
    assert squat.report["connections"] == 0, "the app talked to another account's socket"
    assert TAKEN not in done.stderr, "the old name is nothing to the app any more"


def test_c74_fallback_folder_taken_by_another_account_is_reported_and_the_app_starts(
    home: Path, shared_tmp: Path
) -> None:
    require_other_account()
    data_home = home / "data" / DEEP  # too deep for a socket: the temporary-folder fallback
    env = app_env(home, shared_tmp, data_home=data_home)
    squatted = shared_tmp / f"kit-desktop-{os.getuid()}"
    key = old_socket_name(shared_tmp, data_home).name
    with squatting(squatted / key, folder_mode=0o755) as squat:
        done = run_window(env)
    started(done)  # without single-instance, but running: better than not starting
    assert TAKEN in done.stderr and str(squatted) in done.stderr, done.stderr[-2000:]
    logged = log_text(data_home)
    assert TAKEN in logged and str(squatted) in logged
    assert squat.report["connections"] == 0, "the app talked to another account's socket"
    assert squatted.stat().st_uid == OTHER_UID, "the other account's folder is left alone"


@pytest.mark.expected_log(
    r"^single-instance name taken by another account: ", logger="kit_desktop.qt.single_instance"
)
def test_c74_socket_planted_in_our_open_folder_is_reported(
    qtbot: QtBot, home: Path, shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_other_account()
    folder = shared_tmp / f"kit-desktop-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o777)  # ours, but left open to everyone (a careless script, an old bug)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(shared_tmp))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data" / DEEP))
    key = "kit-desktop-test-" + secrets.token_hex(4)
    with squatting(folder / key) as squat:
        instance = SingleInstance(key)
        assert instance.claim_name() is Claim.NAME_TAKEN
        instance.release()
    problem = instance.problem
    assert isinstance(problem, NameTakenError)
    assert TAKEN in problem.user_message and key in problem.user_message
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700, "our own folder is tightened"
    assert squat.report["connections"] == 0


def test_c74_rendezvous_folder_is_this_accounts_own(
    qtbot: QtBot, home: Path, shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_other_account()
    monkeypatch.setenv("TMPDIR", str(shared_tmp))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    # XDG_RUNTIME_DIR ours and private: used, with a private folder of the app's own.
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert runtime_dir() == runtime / "kit-desktop"
    assert stat.S_IMODE((runtime / "kit-desktop").stat().st_mode) == 0o700
    key = "kit-desktop-test-" + secrets.token_hex(4)
    instance = SingleInstance(key)
    assert instance.claim_name() is Claim.FIRST
    socket_mode = (runtime / "kit-desktop" / key).lstat().st_mode
    assert stat.S_ISSOCK(socket_mode) and stat.S_IMODE(socket_mode) & 0o077 == 0
    instance.release()
    # Open to others, or another account's: not used; the data folder is.
    runtime.chmod(0o755)
    assert runtime_dir() == data_dir() / "run"
    with squatting(shared_tmp / "run-squatted" / "s", folder_mode=0o700):
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared_tmp / "run-squatted"))
        assert runtime_dir() == data_dir() / "run"
    assert stat.S_IMODE((data_dir() / "run").stat().st_mode) == 0o700
    # The temporary-folder fallback as a link (anyone may make one in /tmp): refused.
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data" / DEEP))
    target = home / "elsewhere"
    target.mkdir(mode=0o700)
    (shared_tmp / f"kit-desktop-{os.getuid()}").symlink_to(target)
    with pytest.raises(NotPrivateError) as refused:
        runtime_dir()
    assert str(shared_tmp / f"kit-desktop-{os.getuid()}") in refused.value.user_message


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
def test_c74_name_taken_box_says_what_happened_and_what_to_do(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    place = Path("/tmp/kit-desktop-1000")
    box = show_name_taken(parent, NameTakenError(place))  # deleted with its parent
    assert box.isVisible()
    assert box.icon() is QMessageBox.Icon.Warning
    text = box.text()
    assert TAKEN in text and str(place) in text and "will start anyway" in text


def test_c74_data_folder_of_another_account_is_refused_in_plain_words(shared_tmp: Path) -> None:
    require_other_account()
    theirs = shared_tmp / APP  # the data folder, made first by another account
    env = app_env(shared_tmp / "unused", shared_tmp, data_home=shared_tmp)
    with squatting(theirs / "s", folder_mode=0o777):
        done = subprocess.run(
            [sys.executable, "main.py", "--sandbox", "status"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # it ran, and said why below
    assert "belongs to another account on this computer" in done.stderr
    assert str(theirs) in done.stderr
    assert sorted(path.name for path in theirs.iterdir()) == [], "nothing written in theirs"
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o777, "their folder is left alone"


# --- G75 ----------------------------------------------------------------------------------


def test_c75_window_and_cli_leave_only_private_files_under_umask_022(
    home: Path, shared_tmp: Path
) -> None:
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    env = app_env(home, shared_tmp, runtime=runtime)
    with subprocess.Popen(
        window_command(),
        cwd=ROOT,
        env={**env, "KIT_STARTUP_PROBE": "1500"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=0o022,
    ) as window:
        assert window.stdout is not None
        painted = window.stdout.readline()
        status = Path(f"/proc/{window.pid}/status").read_text("ascii")
        _, err = window.communicate(timeout=90)
    assert painted.startswith("kit-probe painted"), err[-2000:]
    assert window.returncode == 0, err[-2000:]
    umask = next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:"))
    assert umask == "0077", "the app runs with umask 077, so Qt and libraries write privately"
    cli = subprocess.run(
        [sys.executable, "main.py", "--sandbox", "status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        umask=0o022,
    )
    assert cli.returncode in (0, 1), cli.stderr[-2000:]
    found = modes_under(home)
    data = home / "data" / "kit-desktop"
    settings = home / "config" / "Kit Desktop" / "Kit Desktop.conf"  # written by Qt at quit
    for expected in (
        data,
        data / "logs",
        data / "logs" / "kit-desktop.log",
        runtime / APP,
        settings,
    ):
        assert expected in found, f"{expected} was not written; found {sorted(found)}"
    assert not_private(found) == []


@pytest.mark.real_keyring
def test_c75_refresh_lock_taken_by_the_real_cli_is_private(home: Path, shared_tmp: Path) -> None:
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
    from kit_desktop.config import Settings
    from kit_desktop.connection import Connection
    from kit_desktop.sandbox import SandboxServer
    from kit_desktop.sandbox.visitor import ApprovingVisitor
    from kit_desktop.services import build_services

    client_id = "g75-lock-" + secrets.token_hex(8)
    with SandboxServer(client_id=client_id, loopback_any_port=True) as server:
        endpoints = {
            "KIT_CLIENT_ID": client_id,
            "KIT_AUTHORIZE_URL": f"{server.base_url}/v4/oauth/authorize",
            "KIT_TOKEN_URL": f"{server.base_url}/v4/oauth/token",
            "KIT_REVOKE_URL": f"{server.base_url}/v4/oauth/revoke",
            "KIT_API_URL": server.base_url,
            "KIT_REDIRECT_URI": "http://127.0.0.1:0/callback",
        }
        settings = Settings(
            client_id=client_id,
            authorize_url=endpoints["KIT_AUTHORIZE_URL"],
            token_url=endpoints["KIT_TOKEN_URL"],
            revoke_url=endpoints["KIT_REVOKE_URL"],
            api_url=server.base_url,
            redirect_uris=("http://127.0.0.1:0/callback",),
        )
        connection = Connection(build_services(settings))
        receiver, attempt = connection.begin_attempt(timeout=20)
        with receiver:
            assert ApprovingVisitor().open(attempt.url)
            response = receiver.wait()
        connection.keep(connection.exchange(response.code, attempt))
        store = KeyringTokenStore(profile_key(settings.token_url, client_id))
        try:
            env = app_env(home, shared_tmp)
            del env["PYTHON_KEYRING_BACKEND"]  # the real Secret Service holds the tokens
            env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
            before = server.oauth.refresh_requests
            done = subprocess.run(
                [sys.executable, "main.py", "refresh"],
                cwd=ROOT,
                env={**env, **endpoints},
                capture_output=True,
                text=True,
                timeout=90,
                check=False,
                umask=0o022,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            assert server.oauth.refresh_requests - before == 1
        finally:
            store.delete()
    found = modes_under(home)
    locks = [path for path in found if path.suffix == ".lock"]
    assert len(locks) == 1 and locks[0].parent == home / "data" / "kit-desktop" / "locks", found
    assert not_private(found) == []


def test_c75_files_left_open_by_an_older_version_are_tightened(
    home: Path, shared_tmp: Path
) -> None:
    settings_file = home / "config" / "Kit Desktop" / "Kit Desktop.conf"
    write_loose(settings_file, "[General]\n")
    logs = home / "data" / "kit-desktop" / "logs"
    write_loose(logs / "kit-desktop.log", "old line\n")
    write_loose(logs / "kit-desktop.log.1", "older line\n")
    started(run_window(app_env(home, shared_tmp)))
    for folder in (settings_file.parent, logs.parent, logs):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in (settings_file, logs / "kit-desktop.log", logs / "kit-desktop.log.1"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


LOG_AND_LOCK_WITHOUT_MAIN = """
import logging, sys
from pathlib import Path
from kit_desktop.log import setup_logging
from kit_desktop.auth.refresh_lock import ProcessLock, lock_for_profile

setup_logging()
log = logging.getLogger("kit_desktop.g75")
handler = logging.getLogger("kit_desktop").handlers[0]
for number in range(3):
    log.info("line %d", number)
    handler.doRollover()
log.info("after rotating")
with lock_for_profile("https://api.kit.com#g75").held() as taken:
    assert taken
with ProcessLock(Path(sys.argv[1])).held() as taken:
    assert taken
"""


def test_c75_log_and_lock_are_private_without_main(home: Path) -> None:
    old_lock = home / "old-locks" / "refresh-0.lock"
    write_loose(old_lock)
    done = subprocess.run(
        [sys.executable, "-c", LOG_AND_LOCK_WITHOUT_MAIN, str(old_lock)],
        cwd=ROOT,
        env={**app_env(home, home / "tmp"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        umask=0o022,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = modes_under(home)
    logs = home / "data" / "kit-desktop" / "logs"
    rotated = sorted(path.name for path in found if path.parent == logs)
    assert rotated == [f"kit-desktop.log{suffix}" for suffix in ("", ".1", ".2", ".3")]
    assert any(path.parent.name == "locks" for path in found)
    assert not_private(found) == []
    assert stat.S_IMODE(old_lock.stat().st_mode) == 0o600
    assert stat.S_IMODE(old_lock.parent.stat().st_mode) == 0o700


BROWSER_UMASK = """
import os, sys
sys.frozen = True  # the path that starts xdg-open itself
from kit_desktop.private_files import restrict_umask
from kit_desktop.auth.browser import open_system_browser

restrict_umask()
assert os.umask(0o077) == 0o077
print(open_system_browser("https://app.kit.com/oauth/authorize?client_id=x"))
"""


def test_c75_browser_the_app_starts_keeps_the_creators_umask(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    out = tmp_path / "umask.txt"
    fake = bin_dir / "xdg-open"
    fake.write_text(f'#!/bin/sh\numask > "{out}.part" && mv "{out}.part" "{out}"\n', "utf-8")
    fake.chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-c", BROWSER_UMASK],
        cwd=ROOT,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        umask=0o022,
    )
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]
    deadline = time.monotonic() + 20
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # xdg-open is detached: poll for what it wrote
    assert out.read_text("ascii").strip() == "0022"
