"""``python -m kit_desktop.sandbox``: run the sandbox alone; prints its base URL first."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kit_desktop.config import DEFAULT_REDIRECT_URIS, SANDBOX_CLIENT_ID
from kit_desktop.sandbox.behaviours import KitBehaviours
from kit_desktop.sandbox.relay_host import RELAY_PATH

if TYPE_CHECKING:
    from kit_desktop.sandbox.server import SandboxServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kit_desktop.sandbox",
        description="A local Kit OAuth server and API v4 subset, on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: free)")
    parser.add_argument(
        "--auto-approve", action="store_true", help="approve consent without showing the page"
    )
    parser.add_argument(
        "--token-lifetime",
        type=int,
        default=None,
        metavar="SECONDS",
        help="access token lifetime in seconds for both grants (default: Kit's, 172800 "
        "from a code exchange and 7200 from a refresh)",
    )
    parser.add_argument(
        "--client-id", default=SANDBOX_CLIENT_ID, help=f"registered client ID ({SANDBOX_CLIENT_ID})"
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        metavar="URI",
        help="registered redirect URI (repeatable; default: "
        + ", ".join(DEFAULT_REDIRECT_URIS)
        + "; with --strict-https, the sandbox's own relay page)",
    )
    parser.add_argument(
        "--loopback-any-port",
        action="store_true",
        help="accept loopback redirect URIs on any port (RFC 8252 section 7.3)",
    )
    parser.add_argument(
        "--rate-limit", type=int, default=600, help="requests per 60 s per token (default 600)"
    )
    parser.add_argument(
        "--authorization-url",
        metavar="URL",
        help="the app's Authorization URL: the App Store's Install (/apps) opens it with a "
        "redirect parameter (default: none; with --strict-https, the sandbox's relay page)",
    )
    parser.add_argument(
        "--strict-https",
        action="store_true",
        help="like Kit's app settings, refuse plain-http Redirect URIs and Authorization URLs "
        "except this sandbox's own address, which stands in for the publisher's https site "
        f"(its relay page is served at {RELAY_PATH})",
    )
    parser.add_argument(
        "--install-redirect",
        choices=("app-page", "bare"),
        default="app-page",
        help="the redirect an App Store install sends: Kit's app page "
        "(/apps/<id>?success=true, the default) or the bare App Store (/apps); Kit's docs "
        "show both",
    )
    parser.add_argument(
        "--subscribers",
        type=int,
        default=None,
        metavar="N",
        help="give the account N subscribers (default: 1,320); past those they are made on "
        "the fly, so 100000 starts at once: for trying exports and paging",
    )
    _add_behaviours(parser)
    return parser


def _add_behaviours(parser: argparse.ArgumentParser) -> None:
    kit = parser.add_argument_group(
        "Kit's own behaviours",
        "Make the sandbox behave as real Kit does in cases its kinder defaults never show.",
    )
    kit.add_argument(
        "--account-lost-access",
        action="store_true",
        help="answer every API request 401 saying the account no longer has access to apps "
        "(trial ended, free plan, failed payment); tokens stay valid and refreshing works, "
        "so reconnecting does not help",
    )
    kit.add_argument(
        "--forbidden",
        nargs="?",
        const="/v4",
        metavar="PATH_PREFIX",
        help='answer API requests 403 with Kit\'s "You do not have sufficient permissions" '
        "message: all of them, or only those under PATH_PREFIX (e.g. /v4/broadcasts)",
    )
    kit.add_argument(
        "--force-429",
        action="store_true",
        help='answer every API request with Kit\'s 429 (plain text "Retry later", no '
        "Retry-After header), without waiting for the rate limit",
    )
    kit.add_argument(
        "--token-errors",
        choices=("oauth", "kit"),
        default="oauth",
        help='the shape of token and revocation errors: oauth ({"error", '
        '"error_description"}, the default) or kit ({"errors": [...]}), same statuses',
    )
    kit.add_argument(
        "--refresh-token-lifetime",
        type=int,
        default=None,
        metavar="SECONDS",
        help="refresh tokens stop working this long after they were issued; a refresh then "
        "answers 400 invalid_grant (default: they never expire)",
    )
    kit.add_argument(
        "--json-revoke",
        choices=("ignored", "honoured"),
        default="ignored",
        help="what a revocation sent as JSON does: ignored (as at Kit: 200 and nothing "
        "revoked, the default) or honoured; form revocations always work",
    )


def _behaviours(args: argparse.Namespace) -> KitBehaviours:
    return KitBehaviours(
        account_lost_access=args.account_lost_access,
        forbidden=args.forbidden is not None,
        forbidden_prefix=args.forbidden or "/v4",
        force_429=args.force_429,
        token_error_shape=args.token_errors,
        refresh_token_lifetime=args.refresh_token_lifetime,
        json_revoke=args.json_revoke,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until interrupted; return the exit code."""
    args = _parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"The port must be between 0 and 65535, not {args.port}.", file=sys.stderr)
        return 2
    if args.token_lifetime is not None and args.token_lifetime < 1:
        print("The token lifetime must be at least 1 second.", file=sys.stderr)
        return 2
    if args.subscribers is not None and args.subscribers < 0:
        print("The number of subscribers cannot be negative.", file=sys.stderr)
        return 2
    if args.refresh_token_lifetime is not None and args.refresh_token_lifetime < 1:
        print("The refresh token lifetime must be at least 1 second.", file=sys.stderr)
        return 2
    from kit_desktop.sandbox.appstore import check_authorization_url
    from kit_desktop.sandbox.server import SandboxServer

    try:
        check_authorization_url(args.authorization_url)
        behaviours = _behaviours(args)
        server = SandboxServer(
            port=args.port,
            client_id=args.client_id,
            redirect_uris=args.redirect_uris,
            auto_approve=args.auto_approve,
            token_lifetime=args.token_lifetime,
            loopback_any_port=args.loopback_any_port,
            rate_limit=args.rate_limit,
            authorization_url=args.authorization_url,
            strict_https=args.strict_https,
            install_redirect="bare" if args.install_redirect == "bare" else "app_page",
            behaviours=behaviours,
            subscriber_count=args.subscribers,
        )
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"The sandbox could not listen on port {args.port}: {exc.strerror}.", file=sys.stderr)
        return 1
    try:  # Ctrl+C from here on, even while the lines below are written, stops it quietly
        _announce(server, args, behaviours.active())
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _announce(server: SandboxServer, args: argparse.Namespace, active: list[str]) -> None:
    """Print the address (stdout, for scripts) and the sandbox's settings (stderr)."""
    print(server.base_url, flush=True)
    print(
        f"client_id={args.client_id} redirect_uris="
        + ",".join(server.app.redirect_uris)
        + (" (auto-approve)" if args.auto_approve else "")
        + (" (strict https)" if args.strict_https else ""),
        file=sys.stderr,
        flush=True,
    )
    print(f"Relay page: {server.relay_url}", file=sys.stderr, flush=True)
    print(
        f"App Store: {server.app_store_url} authorization_url="
        + (server.authorization_url or "(none)"),
        file=sys.stderr,
        flush=True,
    )
    if active:
        print("Kit behaviours: " + ", ".join(active), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
