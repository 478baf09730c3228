"""The Windows and macOS branches, run here by simulating the platform.

The app is only ever run on Linux, but the frozen build starts on Windows and macOS too.
These tests set ``sys.platform`` and take away what those systems lack (``os.getuid``,
``os.fchmod``, ``fcntl``...), then check each platform branch is taken and does not
raise. A test fails if its branch is removed and the POSIX code runs instead.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest

from kit_desktop import paths, private_files
from kit_desktop.auth import peer, refresh_lock
from kit_desktop.qt import single_instance

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="simulates Windows and macOS on Linux"
)

ROOT = Path(__file__).resolve().parents[2]
#: What Windows' ``os`` lacks, among what the app could reach for.
POSIX_ONLY = ("getuid", "geteuid", "fchmod", "O_NONBLOCK", "O_DIRECTORY", "O_NOFOLLOW")


@pytest.fixture
def windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Look like Windows: ``sys.platform`` is ``win32`` and POSIX-only calls are missing.

    After ``tmp_path``, which pytest names with the account's uid.
    """
    monkeypatch.setattr(sys, "platform", "win32")
    for name in POSIX_ONLY:
        monkeypatch.delattr(os, name, raising=False)


# --- private folders and files ------------------------------------------------------------


@pytest.mark.usefixtures("windows")
def test_windows_private_folders_and_files_use_no_owner_or_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared-looking"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # "others may enter" by POSIX bits, which Windows does not have
    assert private_files.is_private_dir(folder)
    assert private_files.private_dir(folder / "new" / "deeper") == folder / "new" / "deeper"
    assert private_files.private_dir(folder) == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # never chmod-ed
    file = folder / "kit-desktop.log"
    os.close(private_files.open_private(file))
    assert private_files.tighten_file(file)


@pytest.mark.usefixtures("windows")
def test_windows_runtime_folder_is_the_data_folders_whatever_its_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / ("long-profile-" + "x" * 100)  # no socket path would fit under it
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    folder = paths.runtime_dir()
    assert folder == local / "kit-desktop" / "run"
    assert folder.is_dir()


# --- the single-instance name -------------------------------------------------------------


@pytest.mark.usefixtures("windows")
def test_windows_single_instance_name_is_a_pipe_name_not_a_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_folder(room: int = 0) -> Path:
        raise AssertionError("Windows needs no socket folder")

    monkeypatch.setattr(single_instance, "runtime_dir", no_folder)
    instance = single_instance.SingleInstance("kit-desktop-portability")
    assert instance._server_name() == "kit-desktop-portability"
    assert instance.problem is None


# --- who is on the other end of a loopback connection ---------------------------------------


def test_macos_cannot_tell_the_caller_rather_than_refusing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "tcp"
    table.write_text("  sl  local_address rem_address   st\n", encoding="ascii")
    monkeypatch.setattr(peer, "PROC_NET_TCP", str(table))  # readable: not a reason here
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not peer.lookup_available()
    verdict = peer.judge_peer(("127.0.0.1", 53219), ("127.0.0.1", 40000))
    assert verdict is peer.PeerVerdict.UNKNOWN  # UNIDENTIFIED would refuse every callback


# --- the refresh lock ---------------------------------------------------------------------


class _FakeMsvcrt(types.ModuleType):
    """``msvcrt.locking`` over this computer's files: one holder per file, by descriptor."""

    LK_UNLCK = 0
    LK_NBLCK = 2

    def __init__(self) -> None:
        super().__init__("msvcrt")
        self.holders: dict[int, int] = {}
        self.calls: list[tuple[int, int]] = []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        assert nbytes == 1
        self.calls.append((mode, os.lseek(fd, 0, os.SEEK_CUR)))
        inode = os.fstat(fd).st_ino
        if mode == self.LK_UNLCK:
            self.holders.pop(inode, None)
        elif self.holders.setdefault(inode, fd) != fd:
            raise PermissionError(13, "Permission denied")


def _refresh_lock_as_on_windows(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A fresh copy of ``refresh_lock`` loaded as Windows would (the app's own is untouched)."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "msvcrt", _FakeMsvcrt())
    monkeypatch.setitem(sys.modules, "fcntl", None)  # Windows has no fcntl
    spec = importlib.util.spec_from_file_location("windows_refresh_lock", refresh_lock.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_windows_refresh_lock_is_an_msvcrt_lock_on_the_first_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _refresh_lock_as_on_windows(monkeypatch)
    fake = sys.modules["msvcrt"]
    assert isinstance(fake, _FakeMsvcrt)
    path = tmp_path / "locks" / "refresh-0.lock"
    with module.ProcessLock(path, wait=0.2).held() as taken:
        assert taken
        with module.ProcessLock(path, wait=0.2).held() as second:
            assert not second, "another holder waits, then goes ahead without the lock"
    with module.ProcessLock(path, wait=0.2).held() as again:
        assert again, "released when the first holder was done"
    locks = [position for mode, position in fake.calls if mode == fake.LK_NBLCK]
    unlocks = [position for mode, position in fake.calls if mode == fake.LK_UNLCK]
    assert set(locks) == {0} and unlocks == [0, 0]


# --- every module loads -------------------------------------------------------------------

_IMPORT_ALL = """
import importlib, os, pkgutil, sys, types
platform = sys.argv[1]
import PySide6.QtGui, PySide6.QtNetwork, PySide6.QtWidgets, keyring, requests
if platform == "win32":
    for name in {posix_only!r} + ("fork", "setsid", "killpg", "getpgid"):
        if hasattr(os, name):
            delattr(os, name)
    for name in ("fcntl", "termios", "pwd", "grp", "resource"):
        sys.modules[name] = None
    fake = types.ModuleType("msvcrt")
    fake.LK_NBLCK, fake.LK_UNLCK, fake.locking = 2, 0, lambda *args: None
    sys.modules["msvcrt"] = fake
sys.platform = platform
import kit_desktop
for info in pkgutil.walk_packages(kit_desktop.__path__, "kit_desktop."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
print("imported")
"""


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_every_module_loads_as_on(platform: str) -> None:
    code = _IMPORT_ALL.format(posix_only=POSIX_ONLY)
    done = subprocess.run(
        [sys.executable, "-c", code, platform],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1:] == ["imported"]
