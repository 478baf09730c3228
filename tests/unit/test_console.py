"""The Windows console logic: the window's program and its companion, started either way.

The Windows calls are a fake that answers as ``kernel32`` does (``AttachConsole`` fails
with ERROR_INVALID_HANDLE when the parent has no console, ERROR_ACCESS_DENIED when this
process already has one); everything else is the real app: the real argument parser and
commands write into what the console logic gives them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable

import pytest

from kit_desktop import app, console
from kit_desktop.console import (
    BOX_LIMIT,
    COMPANION_NOTE,
    ERROR_ACCESS_DENIED,
    ERROR_INVALID_HANDLE,
    Facts,
    Plan,
    Role,
    plan,
    role_of,
    run_with_console,
)

WINDOW_EXE = r"C:\Users\Ana\Apps\Kit Desktop\Kit Desktop.exe"
COMPANION_EXE = r"C:\Users\Ana\Apps\Kit Desktop\kit-desktop-cli.exe"


class FakeWindowsConsole:
    """Answers as the Windows calls do for one situation.

    Args:
        parent_console: Whether the parent (a terminal) has a console to join.
        own_console: Whether this process already has one (a console program).
        sharing: How many processes share this process's console.
    """

    def __init__(self, *, parent_console: bool, own_console: bool = False, sharing: int = 0):
        self.parent_console = parent_console
        self.own_console = own_console
        self.sharing = sharing
        self.terminal = io.StringIO()
        self.boxes: list[tuple[str, str, bool]] = []
        self.freed = False

    def attach_parent(self) -> int:
        if self.own_console:
            return ERROR_ACCESS_DENIED
        if not self.parent_console:
            return ERROR_INVALID_HANDLE
        self.own_console = True
        return 0

    def free(self) -> None:
        self.freed = True
        self.own_console = False

    def process_count(self) -> int:
        return self.sharing if self.own_console else 0

    def open_streams(self) -> tuple[io.StringIO, io.StringIO]:
        assert self.own_console, "CONOUT$ opens only with a console"
        return self.terminal, self.terminal

    def message_box(self, title: str, text: str, *, error: bool) -> None:
        self.boxes.append((title, text, error))


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make this process look like the frozen Windows build of ``exe``."""

    def become(exe: str, *, output: bool) -> None:
        monkeypatch.setattr(sys, "platform", "win32")
        monkeypatch.setattr(sys, "frozen", True, raising=False)
        monkeypatch.setattr(sys, "executable", exe)
        folder = exe.rsplit("\\", 1)[0]
        monkeypatch.setattr(sys, "_MEIPASS", folder + "\\_internal", raising=False)
        if not output:  # a window-subsystem program: Python found no stdout or stderr
            monkeypatch.setattr(sys, "stdout", None)
            monkeypatch.setattr(sys, "stderr", None)

    return become


def facts(**changes: object) -> Facts:
    base: dict[str, object] = {
        "platform": "win32",
        "frozen": True,
        "role": Role.WINDOW,
        "has_output": False,
        "console_alone": False,
    }
    base.update(changes)
    return Facts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "changes", "expected"),
    [
        (["status"], {}, Plan.JOIN_OR_BOX),
        (["--version"], {}, Plan.JOIN_OR_BOX),
        (["--smoke-test"], {}, Plan.JOIN_OR_BOX),
        ([], {}, Plan.AS_IS),
        (["--sandbox"], {}, Plan.AS_IS),
        (["status"], {"has_output": True}, Plan.AS_IS),
        (["status"], {"platform": "linux"}, Plan.AS_IS),
        (["status"], {"platform": "darwin"}, Plan.AS_IS),
        (["status"], {"frozen": False}, Plan.AS_IS),
        (
            [],
            {"role": Role.COMPANION, "has_output": True, "console_alone": True},
            Plan.LEAVE_CONSOLE,
        ),
        (["--sandbox"], {"role": Role.COMPANION, "console_alone": True}, Plan.LEAVE_CONSOLE),
        ([], {"role": Role.COMPANION, "has_output": True}, Plan.AS_IS),
        (["status"], {"role": Role.COMPANION, "console_alone": True}, Plan.AS_IS),
        ([], {"role": Role.COMPANION, "console_alone": True, "platform": "linux"}, Plan.AS_IS),
    ],
)
def test_plan(argv: list[str], changes: dict[str, object], expected: Plan) -> None:
    assert plan(argv, facts(**changes)) is expected


@pytest.mark.parametrize(
    ("executable", "role"),
    [
        (COMPANION_EXE, Role.COMPANION),
        (r"D:\KIT-DESKTOP-CLI.EXE", Role.COMPANION),
        ("/opt/kit-desktop/kit-desktop-cli", Role.COMPANION),
        (WINDOW_EXE, Role.WINDOW),
        ("/opt/kit-desktop/kit-desktop", Role.WINDOW),
        (r"C:\Python311\python.exe", Role.WINDOW),
    ],
)
def test_role_comes_from_the_programs_name(executable: str, role: Role) -> None:
    assert role_of(executable) is role


def test_a_command_typed_in_a_terminal_prints_there_with_a_note_and_keeps_its_code(
    windows: Callable[..., None],
) -> None:
    windows(WINDOW_EXE, output=False)
    api = FakeWindowsConsole(parent_console=True)
    code = run_with_console(["status"], lambda: print("Not connected to Kit.") or 1, api)
    assert code == 1
    written = api.terminal.getvalue()
    assert "Not connected to Kit." in written
    assert COMPANION_NOTE in written
    assert "kit-desktop-cli.exe" in written
    assert api.boxes == []


def test_a_program_that_has_a_console_already_writes_there(windows: Callable[..., None]) -> None:
    # Wine hands a window-subsystem program its parent's console: AttachConsole then fails
    # with ERROR_ACCESS_DENIED (packaging/wine/windows-build-under-wine.sh showed it).
    windows(WINDOW_EXE, output=False)
    api = FakeWindowsConsole(parent_console=True, own_console=True)
    assert run_with_console(["status"], lambda: print("Not connected to Kit.") or 1, api) == 1
    assert "Not connected to Kit." in api.terminal.getvalue()
    assert api.boxes == []


def test_the_real_parser_writes_into_the_joined_terminal(windows: Callable[..., None]) -> None:
    windows(WINDOW_EXE, output=False)
    api = FakeWindowsConsole(parent_console=True)
    with pytest.raises(SystemExit) as ended:
        run_with_console(["--version"], lambda: app.main(["--version"]), api)
    assert ended.value.code == 0
    assert "Kit Desktop 0." in api.terminal.getvalue()


def test_with_no_terminal_the_words_show_in_a_box(windows: Callable[..., None]) -> None:
    windows(WINDOW_EXE, output=False)
    api = FakeWindowsConsole(parent_console=False)
    with pytest.raises(SystemExit):
        run_with_console(["--version"], lambda: app.main(["--version"]), api)
    [(title, text, error)] = api.boxes
    assert title == "Kit Desktop"
    assert text.startswith("Kit Desktop 0.")
    assert "kit-desktop-cli.exe status" in text
    assert error is False


def test_a_usage_mistake_with_no_terminal_is_a_box_with_an_error_icon(
    windows: Callable[..., None],
) -> None:
    windows(WINDOW_EXE, output=False)
    api = FakeWindowsConsole(parent_console=False)
    with pytest.raises(SystemExit) as ended:
        run_with_console(["no-such-command"], lambda: app.main(["no-such-command"]), api)
    assert ended.value.code == 2
    [(_, text, error)] = api.boxes
    assert "invalid choice: 'no-such-command'" in text
    assert error is True


def test_a_silent_failure_still_says_something_in_the_box(windows: Callable[..., None]) -> None:
    windows(WINDOW_EXE, output=False)
    api = FakeWindowsConsole(parent_console=False)
    assert run_with_console(["status"], lambda: 3, api) == 3
    [(_, text, error)] = api.boxes
    assert text.startswith("The command did not work.")
    assert error is True


def test_a_long_answer_is_cut_in_the_box() -> None:
    text = console.box_text("#" * (BOX_LIMIT * 2), 0)
    assert text.count("#") == BOX_LIMIT
    assert "…" in text


def test_output_redirected_to_a_file_is_left_alone(windows: Callable[..., None]) -> None:
    windows(WINDOW_EXE, output=True)
    api = FakeWindowsConsole(parent_console=True)
    before = sys.stdout
    assert run_with_console(["status"], lambda: 0, api) == 0
    assert sys.stdout is before
    assert api.terminal.getvalue() == ""
    assert api.boxes == []


def test_the_companion_double_clicked_lets_its_console_go_and_opens_the_window(
    windows: Callable[..., None],
) -> None:
    windows(COMPANION_EXE, output=True)
    api = FakeWindowsConsole(parent_console=False, own_console=True, sharing=1)
    seen: list[object] = []

    def window() -> int:
        seen.append(sys.stdout)
        return 0

    assert run_with_console([], window, api) == 0
    assert api.freed
    assert seen == [None]  # nothing writes to the console that is gone


def test_the_companion_typed_in_a_terminal_keeps_the_terminal(
    windows: Callable[..., None],
) -> None:
    windows(COMPANION_EXE, output=True)
    api = FakeWindowsConsole(parent_console=True, own_console=True, sharing=2)
    before = sys.stdout
    assert run_with_console([], lambda: 0, api) == 0
    assert run_with_console(["status"], lambda: 1, api) == 1
    assert not api.freed
    assert sys.stdout is before


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_off_windows_nothing_is_touched(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "stdout", None)
    api = FakeWindowsConsole(parent_console=True)
    assert run_with_console(["status"], lambda: 4, api) == 4
    assert sys.stdout is None
    assert api.terminal.getvalue() == ""


def test_from_source_there_are_no_windows_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", False, raising=False)
    assert console._system_api() is None
    assert run_with_console(["status"], lambda: 5) == 5


def test_the_app_goes_through_the_console_logic_on_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[str]] = []

    def record(argv: list[str], run: Callable[[], int], api: object = None) -> int:
        calls.append(list(argv))
        return 9

    monkeypatch.setattr(console, "run_with_console", record)
    monkeypatch.setattr(sys, "platform", "win32")
    assert app.main(["status"]) == 9
    assert calls == [["status"]]


@pytest.mark.parametrize(
    ("executable", "bundle", "one_file"),
    [
        (WINDOW_EXE, r"C:\Users\Ana\Apps\Kit Desktop\_internal", False),
        (WINDOW_EXE, r"C:\Users\Ana\Apps\Kit Desktop", False),
        (WINDOW_EXE, "c:\\users\\ana\\apps\\kit desktop\\_internal\\", False),
        (WINDOW_EXE, r"C:\Users\Ana\AppData\Local\Temp\_MEI12345", True),
        ("/opt/kit-desktop/kit-desktop", "/opt/kit-desktop/_internal", False),
        ("/opt/kit-desktop/kit-desktop", "/tmp/_MEIabc", True),
    ],
)
def test_one_file_builds_unpack_elsewhere(executable: str, bundle: str, one_file: bool) -> None:
    assert console.is_one_file(executable, bundle) is one_file


def test_a_double_clicked_one_file_build_counts_its_launcher(
    windows: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    windows(COMPANION_EXE, output=True)
    monkeypatch.setattr(sys, "_MEIPASS", r"C:\Temp\_MEI777", raising=False)
    api = FakeWindowsConsole(parent_console=False, own_console=True, sharing=2)
    assert console.facts_here(api).console_alone
    api.sharing = 3  # a terminal, the launcher and the app
    assert not console.facts_here(api).console_alone


@pytest.mark.parametrize(
    ("platform", "argv", "kept"),
    [
        ("darwin", ["-psn_0_1234567"], []),
        ("darwin", ["-psn_0_1234567", "--sandbox"], ["--sandbox"]),
        ("darwin", ["status"], ["status"]),
        ("linux", ["-psn_0_1"], ["-psn_0_1"]),
        ("win32", ["-psn_0_1"], ["-psn_0_1"]),
    ],
)
def test_a_finder_launch_on_older_macos_opens_the_window(
    platform: str, argv: list[str], kept: list[str]
) -> None:
    assert app.without_finder_serial(argv, platform) == kept
