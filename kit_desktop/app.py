"""Composition root: parse the command line, build services, start the GUI or the CLI."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from kit_desktop import APP_NAME, __version__
from kit_desktop.config import load_settings
from kit_desktop.errors import KitError
from kit_desktop.log import log_file, setup_logging

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    from kit_desktop.cli import add_commands

    parser = argparse.ArgumentParser(prog="kit-desktop", description=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--sandbox", action="store_true", help="use the built-in Kit sandbox (practice mode)"
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    add_commands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app (the window, or a CLI command) and return its exit code."""
    args = _parser().parse_args(argv)
    debug = os.environ.get("KIT_DEBUG", "").lower() in ("1", "true", "yes")
    setup_logging(logging.DEBUG if debug else logging.INFO)
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
    from kit_desktop.qt.gui import run_gui

    return run_gui(settings, practice=args.sandbox or settings.practice_mode)
