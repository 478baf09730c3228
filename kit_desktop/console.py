"""Where the command line's words go on Windows, where a program is a window or a console.

A Windows executable is built either for the window subsystem (no console: the shell
does not wait for it, and its ``print`` goes nowhere) or for the console subsystem (the
shell waits, sees the output and the exit code, but a double-click opens a black
console window behind the app). So the Windows build ships two programs over the same
files (``packaging/kit_desktop.spec``):

- ``Kit Desktop.exe``, the window's program, for the Start menu and double-clicks;
- ``kit-desktop-cli.exe``, its console companion, for terminals and scripts.

Each does the right thing when started the other way:

- The window's program given a command (``"Kit Desktop.exe" status``) with nowhere to
  write joins the console of the terminal it was typed in, writes there with a note
  that names the companion (that terminal has not waited for it), and returns the
  command's exit code. Started with no terminal at all (a shortcut with arguments),
  it shows what the command wrote in a message box. Output redirected to a file or a
  pipe is left alone: it already works.
- The companion double-clicked in Explorer (its console holds no other program) lets
  its console go before it opens the window, so no black window lingers behind it.

:func:`plan` decides from plain facts and is tested on every platform;
:class:`WindowsConsole` is the few Windows API calls, used only on Windows
(decision 0027).
"""

from __future__ import annotations

import contextlib
import enum
import io
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

#: The console companion's file name, without ``.exe``.
COMPANION_STEM = "kit-desktop-cli"
#: The window's program on Windows, as the creator sees it.
WINDOW_PROGRAM = "Kit Desktop.exe"
#: ``AttachConsole``'s "the console of my parent process".
ATTACH_PARENT_PROCESS = 0xFFFFFFFF
#: ``GetLastError`` after ``AttachConsole``: the parent has no console.
ERROR_INVALID_HANDLE = 6
#: ... this process already has a console.
ERROR_ACCESS_DENIED = 5
#: ... there is no parent process any more.
ERROR_INVALID_PARAMETER = 87
#: Windows' own libraries, named through constants so PyInstaller's scan of ctypes calls
#: does not look for them (and warn) on Linux and macOS builds: Windows always has them.
_KERNEL32 = "kernel32"
_USER32 = "user32"
#: The most of a command's words a message box shows (the rest is in the log).
BOX_LIMIT = 3000

COMPANION_NOTE = (
    f"Note: {WINDOW_PROGRAM} is the window's program, so this terminal did not wait "
    f"for it and cannot see its exit code. For commands, use {COMPANION_STEM}.exe "
    "(in the same folder): it prints here and returns its exit code."
)
BOX_NOTE = (
    "Commands are for a terminal: open Command Prompt or PowerShell in Kit Desktop's "
    f"folder and run {COMPANION_STEM}.exe with the command, for example "
    f"“{COMPANION_STEM}.exe status”."
)


class Role(enum.Enum):
    """Which of the two Windows programs is running."""

    WINDOW = "window"
    COMPANION = "companion"


class Plan(enum.Enum):
    """What to do with the console before the app runs."""

    AS_IS = "as is"
    """Nothing: not the Windows build, or the output already goes somewhere."""
    LEAVE_CONSOLE = "leave console"
    """The companion was double-clicked: let its console go, then open the window."""
    JOIN_OR_BOX = "join or box"
    """The window's program runs a command: join the terminal's console, else a box."""


def is_window_launch(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (without the program) opens the window rather than a command."""
    return list(argv) in ([], ["--sandbox"])


def role_of(executable: str) -> Role:
    """Tell the companion from the window's program by the running file's name."""
    stem = Path(executable.replace("\\", "/")).stem.lower()
    return Role.COMPANION if stem == COMPANION_STEM else Role.WINDOW


@dataclass(frozen=True)
class Facts:
    """What :func:`plan` decides from.

    Attributes:
        platform: ``sys.platform``.
        frozen: Whether this is the PyInstaller build (``sys.frozen``).
        role: Which program is running.
        has_output: Whether ``sys.stdout`` is usable (a console, a file or a pipe).
        console_alone: Whether this program (and its own launcher) is all its console
            holds, as after a double-click in Explorer.
    """

    platform: str
    frozen: bool
    role: Role
    has_output: bool
    console_alone: bool


def plan(argv: Sequence[str], facts: Facts) -> Plan:
    """Decide what to do with the console for this start of the app."""
    if facts.platform != "win32" or not facts.frozen:
        return Plan.AS_IS
    window = is_window_launch(argv)
    if facts.role is Role.COMPANION:
        return Plan.LEAVE_CONSOLE if window and facts.console_alone else Plan.AS_IS
    if window or facts.has_output:
        return Plan.AS_IS
    return Plan.JOIN_OR_BOX


class ConsoleApi(Protocol):
    """The Windows calls this module needs (:class:`WindowsConsole`; tests pass a fake)."""

    def attach_parent(self) -> int:
        """``AttachConsole(ATTACH_PARENT_PROCESS)``: 0 on success, else ``GetLastError``."""

    def free(self) -> None:
        """``FreeConsole()``: leave this process's console."""

    def process_count(self) -> int:
        """``GetConsoleProcessList``: how many processes share this console (0: none)."""

    def open_streams(self) -> tuple[TextIO, TextIO]:
        """Open the joined console for writing: (stdout, stderr)."""

    def message_box(self, title: str, text: str, *, error: bool) -> None:
        """Show ``text`` in a message box and wait for OK."""


if sys.platform == "win32":

    class WindowsConsole:
        """:class:`ConsoleApi` through ``kernel32`` and ``user32`` (Windows only)."""

        def attach_parent(self) -> int:
            """Join the parent's console; 0 on success, else the Windows error code."""
            import ctypes

            kernel32 = ctypes.WinDLL(_KERNEL32, use_last_error=True)
            kernel32.AttachConsole.argtypes = [ctypes.c_uint32]
            if kernel32.AttachConsole(ATTACH_PARENT_PROCESS):
                return 0
            return int(ctypes.get_last_error()) or ERROR_INVALID_HANDLE

        def free(self) -> None:
            """Leave this process's console (it closes when no process holds it)."""
            import ctypes

            ctypes.WinDLL(_KERNEL32).FreeConsole()

        def process_count(self) -> int:
            """How many processes share this console."""
            import ctypes

            ids = (ctypes.c_uint32 * 4)()
            return int(ctypes.WinDLL(_KERNEL32).GetConsoleProcessList(ids, len(ids)))

        def open_streams(self) -> tuple[TextIO, TextIO]:
            """Open ``CONOUT$`` twice (Python writes it as UTF-16 through WriteConsoleW)."""
            out = open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
            err = open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
            return out, err

        def message_box(self, title: str, text: str, *, error: bool) -> None:
            """``MessageBoxW`` with an information or an error icon."""
            import ctypes

            icon = 0x10 if error else 0x40  # MB_ICONERROR, MB_ICONINFORMATION
            ctypes.WinDLL(_USER32).MessageBoxW(None, text, title, icon)

    def _system_api() -> ConsoleApi | None:
        """The Windows calls, in the frozen build only (from source a console is at hand)."""
        return WindowsConsole() if getattr(sys, "frozen", False) else None

else:

    def _system_api() -> ConsoleApi | None:
        """No console to set up off Windows."""
        return None


class ConsoleSetup:
    """Set the console up for one start of the app, and show a box at the end if needed.

    Args:
        api: The Windows calls.
        plan_: What :func:`plan` decided.
    """

    def __init__(self, api: ConsoleApi, plan_: Plan) -> None:
        self._api = api
        self._plan = plan_
        self._captured: io.StringIO | None = None

    def begin(self) -> None:
        """Prepare the streams before the app runs."""
        if self._plan is Plan.LEAVE_CONSOLE:
            self._api.free()
            sys.stdout = sys.stderr = None
        elif self._plan is Plan.JOIN_OR_BOX:
            # ERROR_ACCESS_DENIED: this process has a console already (Wine hands one to a
            # window-subsystem program; so can a parent that made one): write there.
            if self._api.attach_parent() in (0, ERROR_ACCESS_DENIED):
                sys.stdout, sys.stderr = self._api.open_streams()
                print(f"\n{COMPANION_NOTE}", file=sys.stderr, flush=True)
            else:
                self._captured = io.StringIO()
                sys.stdout = sys.stderr = self._captured

    def end(self, code: int) -> None:
        """After the app: show the captured words, or end the joined terminal's line."""
        if self._captured is not None:
            self._api.message_box(
                "Kit Desktop", box_text(self._captured.getvalue(), code), error=code != 0
            )
        elif self._plan is Plan.JOIN_OR_BOX:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
                sys.stdout.flush()


def utf8_when_redirected() -> None:
    """On Windows, write a command's words to a file or a pipe as UTF-8 with LF line ends.

    There Python writes a redirected stream in the ANSI code page (cp1252, say), which has
    no room for most of the world's letters or any emoji: ``status > file`` or a piped
    ``request`` would end in UnicodeEncodeError on an account's name or Kit's JSON. A
    console is left alone (Python writes it as UTF-16), and so is what is not a text file
    (``None`` in the window's program, a capture). Lines end in LF alone, as everywhere
    else: Bash's ``$(kit-desktop-cli.exe token)`` keeps a CR, and PowerShell splits on LF.
    ``app.py`` calls this before the arguments are read, so ``--version`` and argparse's own
    messages are written the same way; the command line calls it again (it is idempotent).
    """
    if sys.platform == "win32":
        for stream in (sys.stdout, sys.stderr):
            _reconfigure_utf8(stream)


def _reconfigure_utf8(stream: TextIO | None) -> None:
    if isinstance(stream, io.TextIOWrapper) and not stream.isatty():
        stream.reconfigure(encoding="utf-8", errors=stream.errors, newline="\n")


def box_text(words: str, code: int) -> str:
    """Return a message box's text: what the command wrote, then how to use a terminal."""
    shown = words.strip() or ("The command finished." if code == 0 else "The command did not work.")
    if len(shown) > BOX_LIMIT:
        shown = shown[:BOX_LIMIT].rstrip() + "\n…"
    return f"{shown}\n\n{BOX_NOTE}"


def is_one_file(executable: str, bundle: str) -> bool:
    """Whether a PyInstaller build is one file: its files unpack outside its own folder.

    Args:
        executable: ``sys.executable``.
        bundle: ``sys._MEIPASS``: the one-folder build's ``_internal`` folder (or its own
            folder), or the one-file build's temporary folder.
    """
    folder = executable.replace("\\", "/").rsplit("/", 1)[0].lower()
    inside = bundle.replace("\\", "/").rstrip("/").lower()
    return not (inside == folder or inside.startswith(folder + "/"))


def facts_here(api: ConsoleApi | None) -> Facts:
    """Read :class:`Facts` from this process (``api`` is None off Windows).

    A one-file build runs as two processes (PyInstaller's launcher and the app), both on
    the console, so a double-clicked one-file build counts two.
    """
    frozen = bool(getattr(sys, "frozen", False))
    one_file = frozen and is_one_file(sys.executable, getattr(sys, "_MEIPASS", ""))
    count = api.process_count() if api is not None else 0
    return Facts(
        platform=sys.platform,
        frozen=frozen,
        role=role_of(sys.executable),
        has_output=sys.stdout is not None,
        console_alone=0 < count <= (2 if one_file else 1),
    )


def run_with_console(
    argv: Sequence[str], run: Callable[[], int], api: ConsoleApi | None = None
) -> int:
    """Run ``run`` (the app) with the console set up for ``argv``; return its exit code.

    Off Windows, or from source, this is ``run()``: the plan is :attr:`Plan.AS_IS`.
    """
    if api is None:
        api = _system_api()
    chosen = plan(argv, facts_here(api)) if api is not None else Plan.AS_IS
    if chosen is Plan.AS_IS or api is None:
        return run()
    setup = ConsoleSetup(api, chosen)
    setup.begin()
    code = 1
    try:
        code = run()
    except SystemExit as exc:  # argparse: --help, --version and usage mistakes
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        raise
    finally:
        setup.end(code)
    return code


__all__ = [
    "COMPANION_STEM",
    "WINDOW_PROGRAM",
    "ConsoleApi",
    "ConsoleSetup",
    "Facts",
    "Plan",
    "Role",
    "box_text",
    "facts_here",
    "is_one_file",
    "is_window_launch",
    "plan",
    "role_of",
    "run_with_console",
    "utf8_when_redirected",
]
