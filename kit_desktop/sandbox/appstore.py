"""The sandbox's App Store: Kit's install flow through an app's Authorization URL.

A creator clicks Install; Kit opens the app's Authorization URL with a ``redirect`` query
parameter; the app runs the OAuth PKCE flow and then sends the browser back to ``redirect``,
where Kit's app page shows the app as installed. The routes:

- ``GET /apps``: the App Store, listing the sandbox app with an Install link (and
  "Installed" once it is).
- ``GET /apps/<app_id>/install``: record that an install started, then redirect to the
  Authorization URL with ``redirect=<base_url>/apps/<app_id>?success=true``, or with the
  bare ``redirect=<base_url>/apps`` (Kit's docs show both forms; ``redirect_form``).
- ``GET /apps/<app_id>``: the app's page; "Installed" only with ``success=true`` after the
  app exchanged a code for tokens since the install started.
"""

from __future__ import annotations

import hashlib
import threading
from html import escape
from typing import Literal
from urllib.parse import quote, urlsplit

from kit_desktop.sandbox import pages
from kit_desktop.sandbox.messages import BadRequest, Request, Response, add_query
from kit_desktop.sandbox.oauth import OAuthServer, SandboxApp

APPS_PATH = "/apps"
#: The ``redirect`` an install sends: Kit's app page (``/apps/<id>?success=true``, PKCE-DOC
#: and the app-details docs) or the bare App Store (``/apps``, the authentication docs).
RedirectForm = Literal["app_page", "bare"]
REDIRECT_FORMS: tuple[RedirectForm, ...] = ("app_page", "bare")


def app_id_for(client_id: str) -> str:
    """Return the short, stable App Store id of the app registered with ``client_id``.

    Kit's app ids are numbers; this one is a six-digit number derived from the client ID, so
    it stays the same across restarts and differs between sandboxes with other client IDs.

    Args:
        client_id: The registered app's client ID.
    """
    digest = hashlib.sha256(client_id.encode()).digest()
    return str(100_000 + int.from_bytes(digest[:4], "big") % 900_000)


def check_authorization_url(url: str | None) -> str | None:
    """Return ``url`` if it can be an app's Authorization URL.

    Args:
        url: An absolute ``http`` or ``https`` URL in printable ASCII, or ``None`` for none.

    Raises:
        ValueError: The URL is not absolute ``http(s)``, or has spaces or control or non-ASCII
            characters (it goes into a ``Location`` header as it is).
    """
    if url is None:
        return None
    if not url.isascii() or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise ValueError("The Authorization URL must be printable ASCII without spaces.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("The Authorization URL must be an absolute http or https URL.")
    return url


class AppStore:
    """Kit's App Store for the sandbox's one registered app; thread-safe.

    Args:
        app: The registered app the store lists.
        oauth: The OAuth server, asked when the app last exchanged a code; its clock
            timestamps installs too.
        authorization_url: The app's Authorization URL (``None``: not configured yet).
        redirect_form: Which of Kit's two ``redirect`` forms an install sends.

    Raises:
        ValueError: ``authorization_url`` is not a valid Authorization URL.
    """

    def __init__(
        self,
        app: SandboxApp,
        oauth: OAuthServer,
        *,
        authorization_url: str | None = None,
        redirect_form: RedirectForm = "app_page",
    ) -> None:
        if redirect_form not in REDIRECT_FORMS:
            raise ValueError(f"redirect_form must be one of {REDIRECT_FORMS}")
        self.redirect_form = redirect_form
        self.app = app
        self.app_id = app_id_for(app.client_id)
        self._oauth = oauth
        self._lock = threading.Lock()
        self._install_started: dict[str, float] = {}
        self._authorization_url = check_authorization_url(authorization_url)

    @property
    def authorization_url(self) -> str | None:
        """The app's Authorization URL, where Install sends the browser (``None``: not set)."""
        return self._authorization_url

    @authorization_url.setter
    def authorization_url(self, url: str | None) -> None:
        self._authorization_url = check_authorization_url(url)

    def install_started_at(self, app_id: str) -> float | None:
        """Return when the last install of ``app_id`` started, by the server's clock."""
        with self._lock:
            return self._install_started.get(app_id)

    def is_installed(self, app_id: str) -> bool:
        """Say whether the app got tokens by a code exchange since its last install started."""
        started = self.install_started_at(app_id)
        if started is None or app_id != self.app_id:
            return False
        exchanged = self._oauth.last_code_exchange(self.app.client_id)
        # ">=": a coarse or frozen clock may give the install and the exchange one timestamp.
        return exchanged is not None and exchanged >= started

    def handle(self, request: Request, base_url: str) -> Response:
        """Serve one request under ``/apps``.

        Args:
            request: A request whose path is ``/apps`` or starts with ``/apps/``.
            base_url: The sandbox's origin, for the ``redirect`` parameter.
        """
        if request.method != "GET":
            return Response.html(405, pages.error_page("Not allowed", "Use GET here."))
        rest = request.path[len(APPS_PATH) :].strip("/")
        if not rest:
            installed = self.is_installed(self.app_id)
            return Response.html(200, store_page(self.app.name, self.app_id, installed=installed))
        app_id, _, action = rest.partition("/")
        if app_id != self.app_id or action not in ("", "install"):
            return Response.html(
                404, pages.error_page("App not found", "There is no such app in the App Store.")
            )
        if action == "install":
            return self._install(base_url)
        try:
            params = request.params()
        except BadRequest as exc:
            return Response.html(400, pages.error_page("Invalid request", exc.message))
        returned = params.get("success") == "true"
        installed = returned and self.is_installed(app_id)
        return Response.html(200, app_page(self.app.name, app_id, installed, returned=returned))

    def _install(self, base_url: str) -> Response:
        authorization_url = self._authorization_url
        if authorization_url is None:
            return Response.html(
                409,
                pages.error_page(
                    "This app has no Authorization URL yet",
                    f"Kit installs {self.app.name} by opening its Authorization URL, and none "
                    "is set. Set one (for example with --authorization-url) and try again.",
                ),
            )
        with self._lock:
            self._install_started[self.app_id] = self._oauth.clock()
        back = (
            f"{base_url}{APPS_PATH}"
            if self.redirect_form == "bare"
            else f"{base_url}{APPS_PATH}/{self.app_id}?success=true"
        )
        response = Response.redirect(add_query(authorization_url, {"redirect": back}))
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def _install_link(app_id: str) -> str:
    href = f"{APPS_PATH}/{quote(app_id, safe='')}/install"
    return f'<a class="button" id="install" href="{escape(href)}">Install</a>'


def store_page(app_name: str, app_id: str, *, installed: bool = False) -> str:
    """Return the App Store page listing the app with an Install link.

    Args:
        app_name: The app's name (escaped here).
        app_id: The app's App Store id.
        installed: The app finished its install flow ("Installed" is shown beside it).
    """
    page_href = escape(f"{APPS_PATH}/{quote(app_id, safe='')}")
    badge = ' <span id="installed">Installed</span>' if installed else ""
    return pages.page(
        "App Store - Kit",
        "<h1>App Store</h1>"
        "<p>Apps connect to your Kit account through OAuth. Installing one opens the app, "
        "which asks you to allow access and then brings you back here.</p>"
        f'<ul><li><a href="{page_href}"><strong>{escape(app_name)}</strong></a>{badge}'
        f'<div class="actions">{_install_link(app_id)}</div></li></ul>',
    )


def app_page(app_name: str, app_id: str, installed: bool, *, returned: bool = False) -> str:
    """Return an app's page: "Installed", or "Not installed yet" with an Install link.

    Args:
        app_name: The app's name (escaped here).
        app_id: The app's App Store id.
        installed: The app finished its install flow.
        returned: The browser came back from the app (``success=true``).
    """
    name = escape(app_name)
    store = f'<p><a href="{APPS_PATH}">Back to the App Store</a></p>'
    if installed:
        return pages.page(
            f"{app_name} - Installed - Kit",
            f"<h1>Installed</h1><p><strong>{name}</strong> is installed and connected to "
            f"your Kit account.</p>{store}",
        )
    hint = (
        "<p>The app sent you back, but it has not finished connecting: it exchanges the "
        "authorization code for tokens before it redirects here.</p>"
        if returned
        else ""
    )
    return pages.page(
        f"{app_name} - Kit",
        f"<h1>Not installed yet</h1><p><strong>{name}</strong></p>{hint}"
        f'<div class="actions">{_install_link(app_id)}</div>{store}',
    )
