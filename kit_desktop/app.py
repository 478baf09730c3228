"""Composition root: parse the command line, build services, start the GUI or the CLI."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from kit_desktop import APP_NAME, __version__
from kit_desktop.config import load_settings
from kit_desktop.errors import KitError
from kit_desktop.log import setup_logging

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kit-desktop", description=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--sandbox", action="store_true", help="use the built-in Kit sandbox (practice mode)"
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app and return its exit code."""
    args = _parser().parse_args(argv)
    setup_logging()
    try:
        settings = load_settings()
    except KitError as exc:
        log.exception("settings could not be loaded")
        print(exc.user_message, file=sys.stderr)
        return 2
    from kit_desktop.qt.placeholder import run_window

    return run_window(settings, sandbox=args.sandbox or settings.practice_mode)
