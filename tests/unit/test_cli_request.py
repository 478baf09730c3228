"""``request``: the API panel's checks refuse a bad request before anything is sent."""

from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest
import requests

from kit_desktop.api.client import ApiResponse, KitApiClient
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import KeyringTokenStore, SessionTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.cli import Cli, add_commands
from kit_desktop.config import Settings
from kit_desktop.services import Services
from tests.helpers.fake_keyrings import MemoryKeyring

Sent = tuple[str, str, tuple[tuple[str, str], ...], object]


class Run:
    """A ``Cli`` on a memory keyring whose API client records instead of sending."""

    def __init__(self) -> None:
        settings = Settings(client_id="cli-request-test")
        http = requests.Session()
        oauth = OAuthClient(settings, session=http)
        store = SessionTokenStore(KeyringTokenStore("cli-request-test", backend=MemoryKeyring()))
        tokens = TokenManager(oauth, store)
        api = KitApiClient(settings, tokens, session=http)
        self.cli = Cli(settings, services=Services(settings, oauth, store, tokens, api))
        self.sent: list[Sent] = []

    def request(self, method: str, path: str, **options: Any) -> ApiResponse:
        self.sent.append((method, path, tuple(options["query"]), options["json_body"]))
        return ApiResponse(200, "OK", {}, b'{"ok": true}', 0.01)

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser()
        add_commands(parser)
        out, err = io.StringIO(), io.StringIO()
        self.cli.out, self.cli.err = out, err
        code = self.cli.run(parser.parse_args(["request", *argv]))
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    made = Run()
    monkeypatch.setattr(made.cli.services.api, "request", made.request)
    return made


def test_the_request_is_composed_as_the_panel_composes_it(run: Run) -> None:
    code, out, err = run(
        "post", "/v4/tags?a=1", "--query", "b=2", "--query", "c=x=y", "--data", '{"name": "T"}'
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == {"ok": True}
    assert run.sent == [("POST", "/v4/tags", (("a", "1"), ("b", "2"), ("c", "x=y")), {"name": "T"})]


def test_data_is_sent_whatever_the_method(run: Run) -> None:
    assert run("GET", "/v4/account", "--data", "[1]")[0] == 0
    assert run.sent == [("GET", "/v4/account", (), [1])]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("POST", "/v4/tags", "--data", '{"name": }'),
            "The --data value is not valid JSON: line 1, column 10: a value is missing or not "
            'valid here: text needs double quotes, like "Completed"; true, false and null are '
            "written in small letters. Fix it and send again.",
        ),
        (
            ("GET", "/v4/tags", "--query", "per_page"),
            "The --query value 'per_page' must look like name=value (for example per_page=10); "
            "nothing was sent.",
        ),
        (
            ("FETCH", "/v4/tags"),
            "The method FETCH is not one Kit's API uses. "
            "Choose one of GET, POST, PUT, PATCH or DELETE.",
        ),
    ],
)
def test_a_bad_request_is_one_plain_line_and_nothing_is_sent(
    run: Run, argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(*argv)
    assert (code, out, err) == (1, "", message + "\n")
    assert run.sent == []


def test_a_path_off_the_api_is_refused_before_anything_is_sent(run: Run) -> None:
    code, _, err = run("GET", "https://evil.example/v4/account")
    assert code == 1 and "/v4/" in err and err.count("\n") == 1
    assert run.sent == []
