"""The KitError hierarchy: every error carries a message a creator can act on."""

from __future__ import annotations


class KitError(Exception):
    """Base of every error the app raises on purpose.

    Attributes:
        user_message: What a creator reads: what happened and what to do.
        detail: Technical detail for the log. Never contains a secret.
    """

    default_message = "Something went wrong. Please try again."

    def __init__(self, user_message: str | None = None, *, detail: str = "") -> None:
        self.user_message = user_message or self.default_message
        self.detail = detail
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message if not self.detail else f"{self.user_message} ({self.detail})"


def as_kit_error(error: object) -> KitError:
    """``error`` if it is a :class:`KitError`, else a plain one naming its type (for logs)."""
    return error if isinstance(error, KitError) else KitError(detail=repr(type(error)))


class ConfigError(KitError):
    """The app's configuration (kit_app.toml or KIT_* variables) is not usable."""

    default_message = "The app's settings are not valid. Check the Kit app settings."


class RelayPageMissingError(ConfigError):
    """Kit's endpoints are configured but no https relay page: Kit cannot reach the app.

    Kit only accepts https Redirect URIs and Authorization URLs, so a build for real Kit
    needs the publisher's relay page (``relay_url``). Nobody is sent to Kit without it.
    """

    default_message = (
        "This copy of Kit Desktop is not finished: its publisher has not set the https relay "
        "page Kit sends your answer to, so it cannot connect to your Kit account and does not "
        "open Kit. Please tell the publisher. (Publisher: set relay_url in "
        "resources/kit_app.toml or KIT_RELAY_URL to your hosted relay page; see "
        "docs/publishing.md.)"
    )


# --- the sign-in flow -------------------------------------------------------------------


class ConsentDeniedError(KitError):
    """The creator clicked Deny (``error=access_denied``)."""

    default_message = "You chose not to connect. Nothing was changed; you can connect any time."


class AuthorizationError(KitError):
    """Kit sent the browser back with an error other than a denial."""

    default_message = "Kit could not start the connection. Please try connecting again."


class ForeignIssuerError(AuthorizationError):
    """The answer to this attempt names another authorization server (``iss``, RFC 9207).

    It carries this attempt's ``state``, so it is the real answer, but from a server other
    than the configured issuer: a wrong issuer setting, or a mix-up attack. The attempt
    ends at once and its code is never exchanged. (Knowing the ``state`` already lets
    anyone end the attempt with ``error=…``, so this gives a stray request nothing new.)
    """

    default_message = (
        "The answer to this connection came from a different sign-in server than the Kit "
        "that Kit Desktop is set up for, so Kit Desktop did not use it and nothing was "
        "connected. Try connecting again; if the same happens, tell the app's publisher. "
        "(Publisher: the server's issuer does not match issuer in resources/kit_app.toml "
        "or KIT_ISSUER.)"
    )


class FlowTimeoutError(KitError):
    """No answer came back from the browser in time (the creator did not click Allow).

    Attributes:
        seconds: How long the app waited.
        again: What starts a new attempt, as the creator sees it (a button or a command).
    """

    default_message = (
        "Nothing came back from your browser in time, so nothing was connected. Click “Try "
        "again”, then click Allow in your browser."
    )

    def __init__(
        self, seconds: float = 0.0, *, again: str = "Click “Try again”", detail: str = ""
    ) -> None:
        self.seconds = seconds
        self.again = again
        waited = f" within {how_long(seconds)}" if seconds > 0 else " in time"
        super().__init__(
            f"Nothing came back from your browser{waited}, so nothing was connected. "
            f"{again}, then click Allow in your browser.",
            detail=detail,
        )


def how_long(seconds: float) -> str:
    """A wait in words: ``5 minutes`` for whole minutes, else ``90 seconds`` or ``1 second``."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


class LinkReusedError(KitError):
    """The address the app opened the browser on was opened again, by someone unknown."""

    default_message = (
        "The link Kit Desktop opened in your browser was opened a second time, and Kit "
        "Desktop could not tell by whom, so it stopped this attempt to keep your account safe. "
        "Click Connect to start again."
    )


class FlowCancelledError(KitError):
    """The creator (or the app closing) cancelled the connection attempt."""

    default_message = "Connecting was cancelled."


class LoopbackError(KitError):
    """The app could not listen for Kit's answer on this computer."""

    default_message = "The app could not get ready to receive Kit's answer. Please try again."


class PortInUseError(LoopbackError):
    """The redirect URI's port is taken by another program."""

    def __init__(self, port: int, *, detail: str = "") -> None:
        self.port = port
        super().__init__(
            f"Another program is using port {port}, which Kit Desktop needs to receive Kit's "
            "answer. Close that program (or restart your computer) and try again.",
            detail=detail,
        )


class BrowserError(KitError):
    """The system browser could not be opened."""

    default_message = (
        "Your browser could not be opened. Copy the link and open it in your browser yourself."
    )


# --- the token endpoint -----------------------------------------------------------------


class InvalidGrantError(KitError):
    """Kit refused the code or refresh token (``invalid_grant``)."""

    default_message = "The sign-in link expired or was already used. Please connect again."


class NotConnectedError(KitError):
    """No Kit account is connected on this computer (for this Kit app)."""

    default_message = "Not connected to Kit yet. Connect first."


class ReconnectNeededError(InvalidGrantError):
    """The saved refresh token no longer works; the creator must connect again."""

    default_message = (
        "Kit no longer accepts this app's saved access (it was revoked or expired). "
        "Please reconnect."
    )


class ClientConfigError(KitError):
    """Kit rejected the app itself (``invalid_client`` and friends): a publisher problem."""

    default_message = (
        "Kit did not accept this app's settings. Please tell the app's publisher; "
        "reinstalling or updating the app may help."
    )

    def __init__(
        self, user_message: str | None = None, *, code: str = "", detail: str = ""
    ) -> None:
        self.code = code
        super().__init__(user_message, detail=detail)


class TokenEndpointRedirectError(ClientConfigError):
    """The token (or revoke) address answered with a redirect: its setting is wrong.

    Redirects are never followed there (catalogue 32), and trying again cannot help, so
    the message says where the redirect pointed (scheme, host and path only) and which
    setting the publisher must correct.

    Attributes:
        location: Where the redirect pointed, as shown (no query, no user name).
        setting: The setting to correct: ``token_url`` or ``revoke_url``.
    """

    def __init__(self, location: str, *, setting: str = "token_url", detail: str = "") -> None:
        self.location = location
        self.setting = setting
        name = "revoke" if setting == "revoke_url" else "token"
        where = f"a redirect to {location}" if location else "a redirect without a usable address"
        super().__init__(
            f"The {name} address this copy of Kit Desktop is set up with answered with "
            f"{where}. Kit Desktop never follows a redirect there, and trying again will not "
            "help: the address is wrong. Please tell the app's publisher. (Publisher: correct "
            f"{setting} in resources/kit_app.toml or KIT_{setting.upper()}.)",
            code="endpoint_redirect",
            detail=detail,
        )


class NetworkError(KitError):
    """Kit could not be reached (DNS, refused, reset, TLS)."""

    default_message = "Could not reach Kit. Check your internet connection and try again."


class KitUnreachableError(NetworkError):
    """Kit's sign-in page cannot be reached, so the browser was not sent there."""

    default_message = (
        "Kit can't be reached from this computer right now, so your browser was not opened. "
        "Check your internet connection, then click “Try again”."
    )

    def __init__(self, *, again: str = "click “Try again”", detail: str = "") -> None:
        super().__init__(
            "Kit can't be reached from this computer right now, so your browser was not "
            f"opened. Check your internet connection, then {again}.",
            detail=detail,
        )


class KitTimeoutError(NetworkError):
    """Kit took too long to answer."""

    default_message = "Kit took too long to answer. Check your connection and try again."


class ServerError(KitError):
    """Kit answered with a server error (5xx)."""

    default_message = "Kit is having trouble right now. Please try again in a few minutes."


class MalformedResponseError(KitError):
    """Kit's answer was not what an OAuth server sends (HTML from a proxy, bad JSON...)."""

    default_message = (
        "Kit's answer could not be understood (a network filter or proxy may be in the way). "
        "Please try again later."
    )


class RevokeRefusedError(KitError):
    """Kit answered the request to cancel access with an error: the access may still work.

    Attributes:
        status: Kit's HTTP status.
        kit_message: Kit's own words, as plain text ('' when it gave none).
    """

    def __init__(self, status: int, kit_message: str = "", *, detail: str = "") -> None:
        self.status = status
        self.kit_message = kit_message
        said = (
            f"Kit said (HTTP {status}): \u201c{kit_message.rstrip('.')}.\u201d"
            if kit_message
            else f"Kit answered HTTP {status}."
        )
        super().__init__(said, detail=detail or f"HTTP {status}")


# --- token storage ----------------------------------------------------------------------


class StorageError(KitError):
    """The OS keyring could not keep the tokens; they live in memory for this run only."""

    default_message = (
        "Your computer's secure storage is not available, so you will need to connect again "
        "next time you open the app."
    )


class CommandLineStorageError(KitError):
    """The command line cannot keep a connection: no secure storage, and each command is new.

    Attributes:
        why: The storage's own problem, in plain words ('' when it gave none).
    """

    def __init__(self, why: str = "", *, detail: str = "") -> None:
        self.why = why
        reason = f" ({why.rstrip('.')})" if why else ""
        super().__init__(
            "Not connected: the command line can't keep a connection on this computer, "
            f"because its secure storage is not available{reason}, and every command runs "
            "on its own. Nothing was kept. Set up or unlock your system keyring and run "
            "connect again, or use the Kit Desktop window, which keeps the connection until "
            "you close it.",
            detail=detail,
        )


class StorageLockedError(StorageError):
    """The keyring is locked (the unlock prompt was dismissed or refused)."""

    default_message = (
        "Your computer's secure storage is locked. Unlock it and click Retry, or keep "
        "working: you will need to connect again next time."
    )


class TokenTooLargeError(StorageError):
    """The value is larger than the OS store accepts (Windows Credential Manager)."""

    default_message = (
        "Kit's token is too large for Windows Credential Manager, so it is kept for this "
        "session only. Your previously saved connection is unchanged."
    )


class CorruptEntryError(StorageError):
    """The saved entry could not be read back as tokens."""

    default_message = "The saved connection could not be read. Please connect again."


# --- the API ------------------------------------------------------------------------------


class ApiError(KitError):
    """An API request failed; ``status`` is the HTTP status when there was one."""

    def __init__(
        self, user_message: str | None = None, *, status: int | None = None, detail: str = ""
    ) -> None:
        self.status = status
        super().__init__(user_message, detail=detail)


class UnsafeRequestError(ApiError):
    """The request would send the token somewhere other than Kit's API origin."""

    default_message = "That address is not part of Kit's API, so the request was not sent."


class RateLimitedError(ApiError):
    """Kit answered 429: too many requests in its rolling minute; nothing was retried.

    Attributes:
        retry_after: Seconds to wait before sending again (at least 1).
        limit: The requests-per-minute limit named in the message.
        counted: Whether this app's own count explains it (it sent ``limit`` requests in
            the last minute); else Kit just asked to slow down.
    """

    def __init__(
        self, retry_after: float, *, limit: int = 600, counted: bool = True, detail: str = ""
    ) -> None:
        self.retry_after = max(1.0, retry_after)
        self.limit = limit
        self.counted = counted
        wait = int(-(-self.retry_after // 1))  # whole seconds, rounded up
        why = (
            f"Kit's limit of {limit} requests a minute was reached"
            if counted
            else "Kit asked Kit Desktop to slow down (too many requests on this connection; "
            "another program may be using it too)"
        )
        super().__init__(f"{why}; try again in {wait} s.", status=429, detail=detail)


class AppAccessLostError(ApiError):
    """Kit refused the API for the account, not the token: it may not use apps right now.

    Kit answers 401 with its own message when "an account no longer has access to apps (due
    to their trial lapsing, being on a free account, failed account payment etc.)"
    (developers.kit.com, response codes). Renewing or reconnecting cannot help; the tokens
    are kept.

    Attributes:
        kit_message: Kit's own words ('' when it gave none).
    """

    def __init__(self, kit_message: str, *, detail: str = "") -> None:
        self.kit_message = kit_message
        said = f"Kit says: “{kit_message.rstrip('.')}.” " if kit_message else ""
        super().__init__(
            f"{said}Your Kit account can't use apps right now (for example its trial ended, "
            "it is on the free plan, or a payment failed). Check your plan and billing in "
            "Kit, then try again; connecting again will not help.",
            status=401,
            detail=detail,
        )


class PasteError(KitError):
    """What the creator pasted is not Kit's answer for this attempt."""

    default_message = (
        "That does not look like Kit's code. Copy the whole address from your browser's "
        "address bar, or the code the Kit Desktop page showed, and paste it again."
    )


class PartialPasteError(PasteError):
    """Only a bare code was pasted: without its state and issuer it cannot be checked."""

    default_message = (
        "That is only part of Kit's answer. Click Copy on the Kit Desktop page (or copy the "
        "whole address from your browser's address bar) and paste it again."
    )


class WrongAttemptPasteError(PasteError):
    """The pasted address belongs to another connection attempt."""

    default_message = (
        "That address is from an earlier attempt. Use the browser tab this attempt opened, "
        "or click Cancel and connect again."
    )


# --- private files and names (catalogue G74-G75) ------------------------------------------


class NotPrivateError(KitError):
    """A folder or file the app keeps to this account is someone else's, or not what it seems.

    Attributes:
        path: The folder or file that was refused (as text, for messages and the log).
    """

    message_template = (
        "Kit Desktop keeps its files where only your account can read them, but {path} "
        "belongs to another account on this computer (or points somewhere else), so Kit "
        "Desktop did not use it. Ask whoever looks after this computer to remove it, then "
        "start Kit Desktop again."
    )

    def __init__(self, path: object, *, detail: str = "") -> None:
        self.path = str(path)
        super().__init__(self.message_template.format(path=self.path), detail=detail)


class NameTakenError(NotPrivateError):
    """Another account holds the name the single-instance check uses; the app runs anyway."""

    message_template = (
        "Another account on this computer has taken the name Kit Desktop uses to make sure "
        "only one copy runs ({path}). Kit Desktop will start anyway, but opening it again "
        "will start a second copy instead of bringing this window forward. To fix it, ask "
        "whoever looks after this computer to remove {path}; restarting the computer "
        "usually clears it too."
    )
