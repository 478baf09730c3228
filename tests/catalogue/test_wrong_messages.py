"""Three messages that proved wrong against an independent server (issue 15, REAL-KIT.md).

Each is checked through the real parts: the sandbox over HTTP plays Kit (its fault knobs
make it misbehave), a real session runs under pytest-qt, and the real command line
(``main.py``) runs as a subprocess, with a creator's browser played by ``requests``.

1. A disconnect says Kit "could not be reached" only when it could not be; when Kit answered
   with an error it says what Kit said, that the access may keep working until it expires,
   and what to do. The local copy is deleted either way.
2. An answer with this attempt's ``state`` but another issuer (``iss``, RFC 9207) ends the
   attempt at once, in the browser and in the app, instead of leaving the creator waiting
   until it times out. One with a wrong ``state`` is still ignored, whatever its issuer.
3. A token endpoint that answers with a redirect is a configuration error naming where it
   pointed (scheme, host and path: no query), not "try again later".
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import requests
from pytestqt.qtbot import QtBot

from kit_desktop.errors import ForeignIssuerError
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.state import AttemptView, Phase
from tests.catalogue.cd_helpers import assert_plain
from tests.e2e.test_cli_flow import Kit, secret_service_available
from tests.helpers.flow import consent_id
from tests.helpers.realparts import require
from tests.helpers.user_browser import UserBrowser
from tests.qt.test_session import Sessions, connect, launch, stored_payload, wait_phase

TOKEN_PATH = "/v4/oauth/token"
REVOKE_PATH = "/v4/oauth/revoke"
FOREIGN = "https://login.other-server.example"
#: Where a misconfigured token address sends the app; only scheme, host and path may show.
MOVED = "https://user:pw@kit.example:8443/v4/oauth/token?client_secret=hush#frag"
MOVED_SHOWN = "https://kit.example:8443/v4/oauth/token"
ANSWERED_NOT_REVOKED = "Kit answered but did not cancel the access"


@dataclass
class Creator:
    """The creator's browser, played with ``requests``: consent, then Kit's answer to the app.

    Attributes:
        iss: The issuer the sign-in server names in its answer (None: none, as the sandbox).
        stray_first: First deliver a copy of the answer with a wrong ``state``.
        pages: ``(status, text)`` of each page the app's receiver answered, in order.
        error: What went wrong in the browser, if anything.
    """

    iss: str | None = None
    stray_first: bool = False
    pages: list[tuple[int, str]] = field(default_factory=list)
    error: str = ""
    finished: threading.Event = field(default_factory=threading.Event)

    def open(self, url: str) -> bool:
        """The window's browser opener: the visit runs on its own thread, as a browser would."""
        threading.Thread(target=self.visit, args=(url,), daemon=True).start()
        return True

    def visit(self, url: str) -> None:
        """Open ``url`` (the app's start link, or Kit's address), Allow, follow Kit's answer."""
        try:
            with requests.Session() as http:
                http.trust_env = False
                page = http.get(url, timeout=10)
                decided = http.post(
                    urljoin(page.url, "/oauth/authorize/decision"),
                    data={"consent_id": consent_id(page.text), "decision": "allow"},
                    allow_redirects=False,
                    timeout=10,
                )
                answer = decided.headers["Location"]
                if self.stray_first:
                    self._get(http, with_params(answer, state="not-this-attempt", iss=self.iss))
                callback = self._get(http, with_params(answer, iss=self.iss))
                if callback.status_code == 302:
                    self._get(http, urljoin(answer, callback.headers["Location"]))
        except Exception as exc:  # recorded for the test; nothing escapes the thread
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished.set()

    def _get(self, http: requests.Session, url: str) -> requests.Response:
        response = http.get(url, allow_redirects=False, timeout=10)
        self.pages.append((response.status_code, response.text))
        return response


def with_params(url: str, **changes: str | None) -> str:
    """``url`` with the query parameters in ``changes`` set (None leaves one as it is)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({name: value for name, value in changes.items() if value is not None})
    return parts._replace(query=urlencode(query)).geturl()


class CommandLine(Kit):
    """The real command line (``main.py``) as a subprocess, set up for the sandbox as Kit."""

    def connect(self, creator: Creator) -> tuple[int, str, str]:
        """``connect --no-browser``: the creator opens the printed address themselves."""
        process = self.popen("connect", "--no-browser")
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        creator.visit(url)
        out, err = process.communicate(timeout=60)
        return process.returncode, out, err


@pytest.fixture
def cli_kit(tmp_path: Path) -> Iterator[tuple[SandboxServer, CommandLine]]:
    """A sandbox with its own client ID (so its own keyring entry) and the command line."""
    client_id = "wrong-messages-" + secrets.token_hex(6)
    with SandboxServer(
        client_id=client_id, loopback_any_port=True, redirect_uris=["http://127.0.0.1:1/callback"]
    ) as server:
        yield server, CommandLine(server, client_id, tmp_path)


def connected_cli(cli_kit: tuple[SandboxServer, CommandLine]) -> CommandLine:
    """The command line, connected (the tokens are in the real Secret Service)."""
    require(secret_service_available(), "a Secret Service (run through tests/run-suite.sh)")
    _, cli = cli_kit
    code, out, err = cli.connect(Creator())
    assert code == 0, err
    assert "Connected to Kit as" in out
    return cli


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


# --- 1. a disconnect Kit answered with an error is not "could not be reached" ---------------

REVOKE_FAULTS = {
    "dropped": Fault("drop"),
    "503": Fault("status", status=503),
    "400": Fault("status", status=400),
    "redirected": Fault("redirect", location=MOVED),
}


@pytest.mark.parametrize("failure", list(REVOKE_FAULTS))
def test_the_window_says_unreachable_only_when_kit_was(
    qtbot: QtBot, kit: SandboxServer, sessions: Sessions, failure: str
) -> None:
    session = sessions.new(kit, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    kit.set_fault(REVOKE_PATH, REVOKE_FAULTS[failure])

    session.disconnect_account()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)

    detail = session.view.detail
    assert detail.startswith("Removed from this computer.")
    assert "Nothing on this computer can use or renew it any more" in detail
    assert "try again" not in detail.lower()
    assert session.view.tokens is None and stored_payload(sessions.keyring) is None
    if failure == "dropped":
        assert "could not be reached" in detail
        assert "the last access Kit gave stops working when it expires (" in detail
        assert ANSWERED_NOT_REVOKED not in detail
        return
    assert "may keep working until it expires (" in detail
    assert "could not be reached" not in detail
    assert ANSWERED_NOT_REVOKED in detail
    assert detail.endswith("remove Kit Desktop's access in your Kit account.")
    if failure == "redirected":
        assert f"a redirect to {MOVED_SHOWN}." in detail and "hush" not in detail
        assert "KIT_REVOKE_URL" in detail
    else:
        assert f"Kit said (HTTP {failure}): “" in detail  # Kit's own words follow
    assert_plain(detail.replace(MOVED_SHOWN, "elsewhere"))


@pytest.mark.parametrize("failure", ["dropped", "503"])
def test_the_command_line_says_unreachable_only_when_kit_was(
    cli_kit: tuple[SandboxServer, CommandLine], failure: str
) -> None:
    kit, _ = cli_kit
    cli = connected_cli(cli_kit)
    kit.set_fault(REVOKE_PATH, REVOKE_FAULTS[failure])

    code, out, err = cli.run("disconnect")

    assert code == 0, err
    assert out.strip() == "Disconnected on this computer."
    assert err.count("\n") == 1, err  # one line
    assert "it expires (at " in err or "it expires (on " in err
    assert "try again" not in err.lower()
    if failure == "dropped":
        assert "Kit could not be reached to cancel the access" in err
    else:
        assert "could not be reached" not in err
        assert err.startswith(ANSWERED_NOT_REVOKED)
        assert "Kit said (HTTP 503): “" in err
        assert "remove Kit Desktop's access in your Kit account." in err
    assert_plain(err)
    assert cli.run("status")[0] == 1  # deleted here all the same


# --- 2. another issuer's answer to this attempt is explained at once ------------------------


def test_the_window_explains_a_foreign_issuer_at_once(
    qtbot: QtBot, kit: SandboxServer, sessions: Sessions
) -> None:
    creator = Creator(iss=FOREIGN, stray_first=True)
    session = sessions.new(kit, opener=creator.open, flow_timeout=60.0)
    launch(qtbot, session)

    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.FAILED, timeout=5_000)  # not the 60 s time-out

    assert session.view.detail == ForeignIssuerError.default_message
    assert session.view.last_error_code == "ForeignIssuerError"
    assert creator.finished.wait(10) and creator.error == ""
    (stray_status, stray), (status, page) = creator.pages
    # The stray copy (wrong state) was ignored: the real answer still reached the attempt.
    assert stray_status == 400 and "This link is not for this connection" in stray
    assert status == 400 and "This answer did not come from Kit" in page
    assert "stopped connecting" in page
    assert kit.oauth.token_requests == 0, "another server's code is never exchanged"
    assert stored_payload(sessions.keyring) is None


def test_a_wrong_state_with_a_foreign_issuer_is_still_ignored(
    qtbot: QtBot, kit: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(kit, opener=lambda url: True)
    attempts: list[AttemptView] = []
    session.attempt_changed.connect(attempts.append)
    launch(qtbot, session)
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.WAITING)
    stray = f"{attempts[-1].redirect_uri}?" + urlencode(
        {"code": "someone-elses-code", "state": "not-this-attempt", "iss": FOREIGN}
    )

    answer = requests.get(stray, timeout=10)
    qtbot.wait(200)

    assert answer.status_code == 400 and "not for this connection" in answer.text
    assert session.view.phase is Phase.WAITING


def test_the_command_line_explains_a_foreign_issuer_at_once(
    cli_kit: tuple[SandboxServer, CommandLine],
) -> None:
    kit, cli = cli_kit
    creator = Creator(iss=FOREIGN)

    code, out, err = cli.connect(creator)

    assert code == 1
    assert last_line(err) == ForeignIssuerError.default_message
    assert "Traceback" not in err
    [(status, page)] = creator.pages
    assert status == 400 and "This answer did not come from Kit" in page
    assert kit.oauth.token_requests == 0
    assert "Connected" not in out


# --- 3. a token endpoint that redirects is a configuration error naming where ---------------


def test_the_window_names_where_the_token_address_pointed_on_refresh(
    qtbot: QtBot, kit: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(kit, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    kit.set_fault(TOKEN_PATH, Fault("redirect", location=MOVED))

    session.refresh_now()
    qtbot.waitUntil(lambda: bool(session.view.refresh_error), timeout=10_000)

    message = session.view.refresh_error
    assert message.startswith(
        "The token address this copy of Kit Desktop is set up with answered with a "
        f"redirect to {MOVED_SHOWN}. "
    )
    assert "KIT_TOKEN_URL" in message and "token_url in resources/kit_app.toml" in message
    assert "try again later" not in message.lower()
    assert "hush" not in message and "user" not in message and "frag" not in message
    assert session.view.last_error_code == "TokenEndpointRedirectError"
    assert session.view.phase is Phase.CONNECTED  # the saved connection is kept


def test_the_command_line_names_where_the_token_address_pointed(
    cli_kit: tuple[SandboxServer, CommandLine],
) -> None:
    kit, cli = cli_kit
    kit.set_fault(TOKEN_PATH, Fault("redirect", location="/moved/token?code=secret"))
    creator = Creator()

    code, _out, err = cli.connect(creator)

    assert code == 1
    line = last_line(err)
    moved = f"{kit.base_url.rstrip('/')}/moved/token"  # a relative Location, resolved
    assert f"answered with a redirect to {moved}." in line
    assert "KIT_TOKEN_URL" in line and "secret" not in err
    assert "Traceback" not in err
    assert "a redirect to" in creator.pages[-1][1]  # the browser's last page says it too


def test_the_command_line_names_where_the_token_address_pointed_on_refresh(
    cli_kit: tuple[SandboxServer, CommandLine],
) -> None:
    kit, _ = cli_kit
    cli = connected_cli(cli_kit)
    kit.set_fault(TOKEN_PATH, Fault("redirect", location=MOVED))

    code, out, err = cli.run("refresh")

    assert (code, out) == (1, "")
    assert err.count("\n") == 1, err  # one line
    assert f"answered with a redirect to {MOVED_SHOWN}. " in err
    assert "KIT_TOKEN_URL" in err and "hush" not in err
    assert cli.run("status")[0] == 0, "the saved connection is kept"
