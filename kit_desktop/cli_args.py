"""The command line's shape (argparse only), kept light so the window starts fast.

:mod:`kit_desktop.cli` runs the commands; importing it loads requests, keyring and the
sandbox, which the window defers until after its first paint.
"""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(parser: argparse.ArgumentParser) -> None:
    """Add the headless sub-commands to the app's argument parser."""
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    connect = sub.add_parser("connect", help="connect a Kit account in the browser")
    connect.add_argument("--no-browser", action="store_true", help="only print the link")
    connect.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in sandbox",
    )
    status = sub.add_parser("status", help="show the connection (exit 1 when not connected)")
    status.add_argument("--json", action="store_true", help="print JSON (never any token)")
    sub.add_parser("refresh", help="renew the access token now")
    token = sub.add_parser(
        "token",
        help="print the access token for scripts (renewed first when due; exit 1 if none)",
    )
    shape = token.add_mutually_exclusive_group()
    shape.add_argument(
        "--header",
        action="store_true",
        help="print 'Authorization: Bearer …' for curl -H @- (keeps it off command lines)",
    )
    shape.add_argument(
        "--json", action="store_true", help="print JSON with the expiry and the account"
    )
    request = sub.add_parser("request", help="send a Kit API v4 request, print the JSON")
    request.add_argument("method", help="GET, POST, PUT, PATCH or DELETE")
    request.add_argument("path", help="a path under /v4/, e.g. /v4/account")
    request.add_argument("--data", help="a JSON body")
    request.add_argument(
        "--query", action="append", default=[], metavar="K=V", help="a query parameter"
    )
    sub.add_parser("disconnect", help="revoke at Kit, then forget the tokens here")
    doctor = sub.add_parser(
        "doctor",
        help="check this computer for connecting (exit 1 when something stops it)",
    )
    doctor.add_argument(
        "--json", action="store_true", help="print the checks as JSON for support (no secrets)"
    )
