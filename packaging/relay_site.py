"""Write the relay page, baked with this build's settings, to a folder ready to host.

``make relay-site`` runs this. The folder holds ``relay.html`` (the shipped page with this
build's ports and app hosts written into its settings tags, nothing else changed) and an
empty ``.nojekyll`` (GitHub Pages then serves the folder as it is). The settings are the
app's own: ``resources/kit_app.toml``, then ``KIT_*`` variables, so the hosted page always
agrees with the build it serves. Run it again, and host the folder again, whenever the
redirect URIs or app hosts change.

It needs nothing but the standard library and ``kit_desktop`` (no Qt, requests or
keyring), so ``pip install --no-deps -e .`` is enough to run it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from kit_desktop.config import Settings, load_settings
from kit_desktop.errors import ConfigError
from kit_desktop.relay_page import RelaySettings, bake, settings_for

#: The page's file name in the folder (and so the last part of ``relay_url``).
PAGE_NAME = "relay.html"
#: Tells GitHub Pages not to run Jekyll over the folder.
NO_JEKYLL = ".nojekyll"
DEFAULT_OUT = Path("dist/relay-site")


class RefusedError(Exception):
    """The folder cannot be written for these settings; the message says why and what to do."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="relay_site.py",
        description=(
            "Write the Kit Desktop relay page, baked with this build's ports and app hosts "
            "(from resources/kit_app.toml and KIT_* variables), to a folder ready to host "
            "on any https static host."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"the folder to write (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--site-url",
        metavar="URL",
        help=(
            "the https address the folder will be served at (e.g. "
            "https://you.github.io/repo); the page is then URL/relay.html, and a relay_url "
            "that is set must be exactly that"
        ),
    )
    return parser.parse_args(argv)


def relay_settings(settings: Settings) -> RelaySettings:
    """Return what the page must know about this build.

    Raises:
        RefusedError: The build never uses a relay page (``route = "direct"``), or has no fixed
            ports.
    """
    if settings.route == "direct":
        raise RefusedError(
            'This build sends its loopback addresses to the server directly (route = "direct"), '
            'so it has no relay page to host. Remove route (or set route = "relay") to use one.'
        )
    try:
        return settings_for(settings)
    except ValueError as exc:
        raise RefusedError(
            f"{exc}. Set redirect_uris (resources/kit_app.toml or KIT_REDIRECT_URI) to the "
            "fixed loopback ports the app listens on, such as http://127.0.0.1:53219/callback."
        ) from exc


def page_address(settings: Settings, site_url: str | None) -> str | None:
    """Return the address the page will be served at, if known, after checking it.

    Args:
        settings: The build's settings (``relay_url`` may be set already).
        site_url: Where the folder will be served, if given.

    Returns:
        ``site_url`` + ``/relay.html``, else ``relay_url``, else ``None`` (not known yet).

    Raises:
        RefusedError: ``site_url`` is not https, ``relay_url`` does not end in ``/relay.html``,
            or the two disagree.
    """
    expected = None
    if site_url is not None:
        parts = urlsplit(site_url)
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise RefusedError(f"--site-url must be an https address, not {site_url!r}.")
        expected = f"{site_url.rstrip('/')}/{PAGE_NAME}"
    relay_url = settings.relay_url
    if relay_url is None:
        return expected
    if not urlsplit(relay_url).path.endswith(f"/{PAGE_NAME}"):
        raise RefusedError(
            f"relay_url is {relay_url}, but the page this folder holds is {PAGE_NAME}: "
            f"make relay_url end in /{PAGE_NAME} (and register that address in Kit)."
        )
    if expected is not None and relay_url != expected:
        raise RefusedError(
            f"relay_url is {relay_url}, but this folder will be served at {expected}: Kit "
            "would send creators to a page that is not there. Make them the same (in "
            "resources/kit_app.toml, and in Kit's Redirect URI and Authorization URL)."
        )
    return relay_url


def write_site(out: Path, relay: RelaySettings) -> Path:
    """Write ``relay.html`` and ``.nojekyll`` into ``out`` (created if needed).

    The page is written as bytes: its script and style are pinned by hashes in its
    Content-Security-Policy, so not even line endings may change.

    Returns:
        The page's path.
    """
    out.mkdir(parents=True, exist_ok=True)
    page = out / PAGE_NAME
    page.write_bytes(bake(relay).encode("utf-8"))
    (out / NO_JEKYLL).write_bytes(b"")
    return page


def next_steps(settings: Settings, relay: RelaySettings, address: str | None) -> list[str]:
    """Return what to tell the publisher once the folder is written."""
    installs = (
        f"App Store installs go to port {relay.install_port}"
        if relay.install_port is not None
        else "no App Store installs (one redirect URI only)"
    )
    lines = [
        f"  callback ports {' '.join(map(str, relay.callback_ports))}; {installs}; "
        f"app hosts {' '.join(relay.app_hosts)}",
        "Host this folder as it is on your https site (docs/publishing.md).",
    ]
    if settings.relay_url is None:
        where = address or f"https://<your site>/.../{PAGE_NAME}"
        lines += [
            "relay_url is not set yet. Once the folder is hosted:",
            f'  - set relay_url = "{where}" in resources/kit_app.toml (or KIT_RELAY_URL);',
            "  - enter that same address in Kit as the Redirect URI and the Authorization URL;",
            "  - build the app again (make dist).",
        ]
    else:
        lines.append(
            f"The page must be served at {settings.relay_url}, the address registered in Kit "
            "as the Redirect URI and the Authorization URL."
        )
    return lines


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Write the folder; return 0, or 1 with the reason on stderr.

    Args:
        argv: The command line (default: ``sys.argv[1:]``).
        environ: Where ``KIT_*`` variables are read (default: ``os.environ``).
    """
    args = parse_args(argv)
    try:
        settings = load_settings(environ)
        relay = relay_settings(settings)
        address = page_address(settings, args.site_url)
    except ConfigError as exc:
        print(f"relay-site: the app's settings are not usable: {exc}", file=sys.stderr)
        return 1
    except RefusedError as exc:
        print(f"relay-site: {exc}", file=sys.stderr)
        return 1
    page = write_site(args.out, relay)
    print(f"Wrote {page} and {args.out / NO_JEKYLL}")
    for line in next_steps(settings, relay, address):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
