"""Every sentence the connection card, its notices and an API answer's problem line show.

The session (``qt/session.py``) decides *when* a sentence is shown; this module decides
*what* it says, so wording is changed here and read by tests without a window or a Qt
event loop. Errors carry their own words (``KitError.user_message`` in ``errors.py``);
this table adds the headline above them. Sentences name the buttons as the window labels
them ("Connect to Kit", "Copy link"), so a rename there is a rename here.
"""

from __future__ import annotations

import time
from datetime import datetime

from kit_desktop.errors import FlowCancelledError, KitError, NetworkError, RelayPageMissingError
from kit_desktop.state import AccountView, InstallQuestion, Phase

# --- headlines, one per phase (some phases have a second, more specific one) -------------

#: The headline each phase shows unless a transition names a more specific one.
HEADLINES: dict[Phase, str] = {
    Phase.NOT_CONNECTED: "Not connected",
    Phase.OPENING: "Opening Kit in your browser…",
    Phase.WAITING: "Waiting for you to click Allow in Kit",
    Phase.FINISHING: "Finishing…",
    Phase.CONNECTED: "Connected to Kit",
    Phase.RENEWING: "Renewing access…",
    Phase.RECONNECT_NEEDED: "Reconnect needed",
    Phase.FAILED: "Could not connect",
}

CHECKING = "Checking for a saved connection…"
CHECKING_KIT = "Checking that Kit can be reached…"
INSTALL_WAITING = "Kit asked to connect this app"
#: The FAILED headline when the build cannot reach Kit at all (no relay page configured).
NOT_READY_FOR_KIT = "Kit Desktop can't connect to Kit yet"

# --- details: why, and what to do next ---------------------------------------------------

CONNECT_HINT = (
    "Click “Connect to Kit”. Kit opens in your browser; sign in if asked, click Allow, "
    "and come back here."
)
BROWSER_OPEN = "Kit is open in your browser. Click Allow there, then come back here."
BROWSER_NOT_OPENED = (
    "Your browser could not be opened. Click “Copy link” and open the link in your browser."
)
INSTALL_BROWSER_OPEN = "Kit is open in your browser. Click Allow there to finish installing."
CANCELLED = "Connecting was cancelled."
DISCONNECTING = "Disconnecting…"
REVOKED = (
    "Disconnected: Kit Desktop's access to your Kit account is cancelled at Kit, and nothing "
    "is kept on this computer."
)
REMOVED_HERE = "Removed from this computer."
#: Another copy of the app (a second window, or the command line) disconnected.
DISCONNECTED_ELSEWHERE = (
    "The saved connection was removed by another copy of Kit Desktop (the command line, for "
    "example). Click “Connect to Kit” to connect again."
)
#: Why Kit was not told, when it could not be reached; ``{until}`` is `` (when)`` or ''.
REVOKE_UNREACHED = (
    "Kit could not be reached to cancel the access. Nothing on this computer can use or "
    "renew it any more, and the last access Kit gave stops working when it expires{until}, "
    "but Kit may still list Kit Desktop as allowed. To remove it there too, remove Kit "
    "Desktop's access in your Kit account."
)
#: Why Kit was not told, when it answered but did not cancel the access.
REVOKE_REFUSED = (
    "Kit answered but did not cancel the access, so it may keep working until it "
    "expires{until}. {problem} Nothing on this computer can use or renew it any more. To end "
    "it sooner, remove Kit Desktop's access in your Kit account."
)

# --- notices (the status bar) and the browser's last page --------------------------------

SAVED_IN = "Saved securely in {location}."
CHANGED_ELSEWHERE = "The saved connection was changed by another copy of Kit Desktop; shown here."
STILL_IN_USE = "{message} Your saved connection is still in use."
INSTALL_NOT_STARTED = "Kit's install was not started. Nothing was changed."
INSTALL_WHILE_SAVING = (
    "Kit Desktop was just saving a connection. Go back to Kit and click Install again."
)
INSTALL_WHILE_DISCONNECTING = (
    "Kit Desktop is disconnecting. Wait until it has finished, then go back to Kit and click "
    "Install again."
)
DONE_CONNECTED = "Connected to Kit."
DONE_CONNECTED_AS = "Connected as {who}."

# --- the install question (catalogue 71) -------------------------------------------------

INSTALL_INTRO = "Kit asked to connect Kit Desktop (an install from Kit's App Store)."
INSTALL_IF_YOU_CLICKED = (
    "If you just clicked Install in Kit, choose “Continue”; otherwise choose “Cancel”."
)
INSTALL_REPLACES = (
    "Choosing “Replace connection” replaces {replaced}. If you did not just click Install "
    "in Kit, choose “Keep current connection”."
)
REPLACED_ATTEMPT = "the connection you started"
REPLACED_ACCOUNT = "your connection to {who}"
REPLACED_CONNECTION = "your current connection"


# --- an API answer that is not a success (the request panel and ``request``) -------------

API_PROBLEMS: dict[int, str] = {
    401: "Kit did not accept this app's access.",
    403: (
        "Your Kit account is not allowed to do this. If it should be, ask the account's "
        "owner, or Kit's support."
    ),
    404: (
        "Kit found nothing for this request. Check any id in the path, and that the "
        "subscriber exists in your Kit account (add a new one with “Add or update a "
        "subscriber” first)."
    ),
    422: "Kit could not use what was sent.",
}
API_REFUSED = "Kit refused the request."
API_TROUBLE = "Kit is having trouble right now. Try again in a few minutes."


def api_problem(status: int, errors: str) -> str:
    """What an error status means, in plain words, then Kit's own words ('' for success)."""
    if status < 400:
        return ""
    lead = API_PROBLEMS.get(status) or (API_REFUSED if status < 500 else API_TROUBLE)
    return f"{lead} Kit says: {errors}" if errors else lead


def connected_headline(account: AccountView | None) -> str:
    """``Connected as Name (email)``, or the plain CONNECTED headline when nobody is known."""
    if account is None:
        return HEADLINES[Phase.CONNECTED]
    return f"Connected as {_who(account)}"


def _who(account: AccountView) -> str:
    """``Name (email)``, or whichever of the two is known."""
    if account.name and account.email:
        return f"{account.name} ({account.email})"
    return account.name or account.email


def reconnect_headline(account: AccountView | None) -> str:
    """``Reconnect needed for Name (email)``, or the plain headline when nobody is known."""
    if account is None:
        return HEADLINES[Phase.RECONNECT_NEEDED]
    return f"{HEADLINES[Phase.RECONNECT_NEEDED]} for {_who(account)}"


def failed_headline(error: KitError) -> str:
    """The FAILED headline for ``error``."""
    if isinstance(error, RelayPageMissingError):
        return NOT_READY_FOR_KIT
    return HEADLINES[Phase.FAILED]


def revoke_outcome(problem: KitError | None, expires: float | None = None) -> str:
    """What a disconnect did: revoked at Kit, or only removed here (and why).

    Args:
        problem: What revoking met, or None when Kit cancelled the access.
        expires: When the removed access token expires (a Unix time), if known.
    """
    if problem is None:
        return REVOKED
    return f"{REMOVED_HERE} {revoke_problem(problem, at_time(expires))}"


def at_time(stamp: float | None, now: float | None = None) -> str:
    """``at 14:05`` today, ``on Tue 8 Dec at 14:05`` another day (local time); '' if unknown."""
    if stamp is None:
        return ""
    when = datetime.fromtimestamp(stamp).astimezone()
    today = datetime.fromtimestamp(time.time() if now is None else now).astimezone().date()
    clock = when.strftime("%H:%M")
    if when.date() == today:
        return f"at {clock}"
    return f"on {when.strftime('%a')} {when.day} {when.strftime('%b')} at {clock}"


def revoke_problem(problem: KitError, expires: str = "") -> str:
    """Why Kit was not told of a disconnect: unreachable, or it answered but refused.

    Args:
        problem: What revoking met (a ``NetworkError`` when Kit could not be reached).
        expires: When the access runs out, if known (the command line names it).
    """
    template = REVOKE_UNREACHED if isinstance(problem, NetworkError) else REVOKE_REFUSED
    until = f" ({expires})" if expires else ""
    return template.format(until=until, problem=problem.user_message)


def why_ended(error: KitError) -> str:
    """Why an attempt ended, for the card or a notice (a cancel has no message of its own)."""
    return CANCELLED if isinstance(error, FlowCancelledError) else error.user_message


def done_page(who: str | None) -> str:
    """What the browser's last page says once the connection is kept."""
    return DONE_CONNECTED if who is None else DONE_CONNECTED_AS.format(who=who)


def install_question(
    *, attempt_running: bool, holds_tokens: bool, account: AccountView | None
) -> InstallQuestion:
    """The question asked before an install replaces anything, with its two buttons.

    Args:
        attempt_running: A connection attempt the creator started is under way.
        holds_tokens: A connection is saved (working or not).
        account: Who that connection belongs to, when known.
    """
    if attempt_running:
        replaced = REPLACED_ATTEMPT
    elif holds_tokens:
        who = (account.email or account.name) if account is not None else ""
        replaced = REPLACED_ACCOUNT.format(who=who) if who else REPLACED_CONNECTION
    else:
        return InstallQuestion(f"{INSTALL_INTRO} {INSTALL_IF_YOU_CLICKED}", "Continue", "Cancel")
    return InstallQuestion(
        f"{INSTALL_INTRO} {INSTALL_REPLACES.format(replaced=replaced)}",
        "Replace connection",
        "Keep current connection",
    )
