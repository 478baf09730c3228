"""Commands on Windows write to a file or a pipe as UTF-8, not in the ANSI code page.

Python on Windows writes a redirected stream in the ANSI code page (cp1252 on most Western
computers), which cannot hold most names or any emoji: ``status > file`` would end in
UnicodeEncodeError. The platform is simulated: ``sys.platform`` says ``win32`` and the
standard streams are text files in cp1252, as a redirected stream there is.
"""

from __future__ import annotations

import argparse
import io
import sys

import pytest

from kit_desktop import __version__, app, cli
from kit_desktop.config import Settings

NAME = "Zoë 李雷 🎉"


class _Console(io.TextIOWrapper):
    """A stream that says it is a console (Python writes those as UTF-16 on Windows)."""

    def isatty(self) -> bool:
        return True


def _redirected(encoding: str = "cp1252", errors: str = "strict") -> io.TextIOWrapper:
    """A redirected stream as Python makes it on Windows: its code page, and CRLF line ends."""
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors, newline="\r\n")


def _bytes(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


def test_a_windows_command_prints_any_name_to_a_redirected_stdout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    out, err = _redirected(), _redirected(errors="backslashreplace")
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)

    def status(self: cli.Cli, args: argparse.Namespace) -> int:
        print(f"Connected to Kit as {NAME}.", file=self.out)
        print(f"Kit says: “{NAME}”", file=self.err)
        return 0

    monkeypatch.setattr(cli.Cli, "run", status)
    args = argparse.Namespace(command="status", sandbox=False)
    assert cli.run_cli(args, Settings(client_id="portability-test")) == 0
    # LF alone: a script's $(kit-desktop-cli.exe token) would otherwise keep a carriage return
    assert _bytes(out).decode("utf-8") == f"Connected to Kit as {NAME}.\n"
    assert _bytes(err).decode("utf-8") == f"Kit says: “{NAME}”\n"
    assert err.errors == "backslashreplace"  # the stream's own error handling is kept


def test_a_windows_console_is_left_as_python_made_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    console = _Console(io.BytesIO(), encoding="cp437")
    monkeypatch.setattr(sys, "stdout", console)
    monkeypatch.setattr(sys, "stderr", None)  # the window's program: nowhere to write
    cli.utf8_when_redirected()
    assert console.encoding == "cp437"


def test_other_platforms_keep_their_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    out = _redirected("latin-1")
    monkeypatch.setattr(sys, "stdout", out)
    cli.utf8_when_redirected()
    assert out.encoding == "latin-1"


def test_version_redirected_on_windows_is_utf8_with_lf_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # argparse prints --version before any command runs (seen as CRLF under Wine)
    monkeypatch.setattr(sys, "platform", "win32")
    out = _redirected()
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(SystemExit) as ended:
        app.main(["--version"])
    assert ended.value.code == 0
    assert _bytes(out) == f"Kit Desktop {__version__}\n".encode()
