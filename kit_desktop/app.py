"""Composition root: parse the command line, build services, start the GUI or the CLI."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kit_desktop import APP_NAME, __version__
from kit_desktop.private_files import restrict_umask

if TYPE_CHECKING:
    import argparse


def _parser() -> argparse.ArgumentParser:
    import argparse

    from kit_desktop.cli_args import add_commands

    parser = argparse.ArgumentParser(prog="kit-desktop", description=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--sandbox", action="store_true", help="use the built-in Kit sandbox (practice mode)"
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="check this installation: connect to the built-in sandbox offscreen, then exit",
    )
    add_commands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app (the window, or a CLI command) and return its exit code.

    The window (no arguments, or only ``--sandbox``) takes a fast path that loads
    nothing but Qt and the window's frame before its first paint; everything else
    goes through argparse. First of all the umask becomes 077, so every file the app,
    Qt or a library creates is this account's alone (catalogue G75).
    """
    restrict_umask()
    given = without_finder_serial(sys.argv[1:] if argv is None else argv, sys.platform)
    if sys.platform == "win32":
        # Two programs there, the window's and a console companion: kit_desktop/console.py
        from kit_desktop.console import run_with_console

        return run_with_console(given, lambda: _start(given, whole_process=argv is None))
    return _start(given, whole_process=argv is None)


def without_finder_serial(argv: Sequence[str], platform: str) -> list[str]:
    """Return ``argv`` without the ``-psn_…`` process serial number older macOS Finders add.

    A double-clicked ``Kit Desktop.app`` must open the window, not fail on an argument the
    creator never typed.
    """
    if platform != "darwin":
        return list(argv)
    return [arg for arg in argv if not arg.startswith("-psn_")]


def _start(given: list[str], *, whole_process: bool) -> int:
    if given in ([], ["--sandbox"]):
        from kit_desktop.gui.launch import start_window

        return start_window(practice=bool(given))
    return _run(given, whole_process=whole_process)


def _exit_quickly() -> None:
    """A command is done: spare the interpreter's last collections of what it imported.

    A command run as its own process (not called from a test) runs with the cycle
    collector off (``_run``): its imports, most of its work, make no cyclic garbage worth
    a pause, and reference counting frees the rest. At exit Python would still collect
    over every object alive (keyring's and requests' modules, mostly): 30-55 ms of a
    short command, for memory the process gives back anyway. Frozen objects are skipped;
    files, logs and the keyring are written and closed by then, and atexit handlers still
    run. Measured in docs/benchmarks.md; decision 0020.
    """
    import gc

    gc.freeze()


def _run(given: list[str], *, whole_process: bool = False) -> int:
    import gc
    import logging

    if sys.platform == "win32":  # before argparse writes anything (--version, usage)
        from kit_desktop.console import utf8_when_redirected

        utf8_when_redirected()
    args = _parser().parse_args(given)
    quick = whole_process and args.command is not None
    if quick:
        gc.disable()  # a command is short: see _exit_quickly
    from kit_desktop.config import load_settings
    from kit_desktop.errors import KitError
    from kit_desktop.log import level_from_environment, log_file, setup_logging

    log = logging.getLogger(__name__)
    setup_logging(level_from_environment())
    try:
        settings = load_settings()
    except KitError as exc:
        log.error("settings could not be loaded: %s", exc.detail)
        print(exc.user_message, file=sys.stderr)
        return 2
    if args.command is not None:
        from kit_desktop.cli import run_cli

        try:
            return run_cli(args, settings)
        except Exception:
            log.exception("unexpected failure in %s", args.command)
            print(f"Something unexpected went wrong. Details are in {log_file()}.", file=sys.stderr)
            return 70
        finally:
            if quick:
                _exit_quickly()
    if args.smoke_test:
        from kit_desktop.gui.smoke import run_smoke_test

        return run_smoke_test(settings)
    from kit_desktop.gui.launch import start_window

    return start_window(practice=args.sandbox)
