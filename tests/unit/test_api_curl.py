"""'Copy as curl': shell-safe, and the token comes from $KIT_ACCESS_TOKEN (catalogue 60, 62)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit_desktop.api.curl import as_curl
from kit_desktop.sandbox import SandboxServer
from tests.helpers import flow
from tests.helpers.realparts import require

SECRET = "tok-ABC123-secret"
SHELL_TOKEN = "the-token"
# A stand-in for curl that prints each argument it gets, one per line, NUL-terminated.
ECHO_CURL = "curl() { printf '%s\\0' \"$@\"; }; "


def shell_args(command: str) -> list[str]:
    """Run ``command`` in a real POSIX shell with ``curl`` replaced by an argument printer."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KIT_ACCESS_TOKEN": SHELL_TOKEN}
    result = subprocess.run(
        ["/bin/sh", "-c", ECHO_CURL + command],
        capture_output=True,
        env=env,
        check=True,
        timeout=10,
    )
    return result.stdout.decode().split("\0")[:-1]


def test_get_has_the_variable_not_the_token() -> None:
    command = as_curl("get", "https://api.kit.com/v4/account")
    assert command == (
        "curl -X GET https://api.kit.com/v4/account -H 'Accept: application/json' "
        '-H "Authorization: Bearer $KIT_ACCESS_TOKEN"'
    )


def test_a_typed_authorization_header_is_never_copied() -> None:
    command = as_curl(
        "POST",
        "https://api.kit.com/v4/tags",
        json_body={"name": "x"},
        headers={"Authorization": f"Bearer {SECRET}", "AUTHORIZATION": SECRET},
    )
    assert SECRET not in command
    assert command.count("Authorization") == 1


def test_the_shell_expands_the_token_and_nothing_else() -> None:
    hostile = 'O\'Brien $(touch /tmp/pwned) `id` "q" \\ $HOME ; rm -rf / \n next'
    url = "https://api.kit.com/v4/subscribers?email_address=a%40b.c&x=$(id)&y='z'"
    command = as_curl(
        "POST",
        url,
        json_body={"name": hostile, "emoji": "✓"},
        headers={"X-Note": hostile, "Accept": "text/plain"},
    )
    args = shell_args(command)
    assert args[:3] == ["-X", "POST", url]
    headers = [args[i + 1] for i, arg in enumerate(args) if arg == "-H"]
    assert headers == [
        "Accept: text/plain",
        "Content-Type: application/json",
        f"X-Note: {hostile}",
        "Authorization: Bearer the-token",
    ]
    body = args[args.index("--data-raw") + 1]
    assert json.loads(body) == {"name": hostile, "emoji": "✓"}


@settings(max_examples=40, deadline=None)
@given(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30),
    st.dictionaries(
        st.from_regex(r"\AX-[A-Za-z]{1,8}\Z"),
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20),
        max_size=3,
    ),
)
def test_any_body_and_header_survive_the_shell(text: str, headers: Mapping[str, str]) -> None:
    command = as_curl("PUT", "https://api.kit.com/v4/tags", json_body=[text], headers=headers)
    args = shell_args(command)
    assert json.loads(args[args.index("--data-raw") + 1]) == [text]
    sent = [args[i + 1] for i, arg in enumerate(args) if arg == "-H"]
    last = {name.lower(): (name, value) for name, value in headers.items()}  # as requests sends
    for name, value in last.values():
        assert f"{name}: {value}" in sent
    assert len(sent) == 3 + len(last)


def test_bad_methods_are_refused() -> None:
    with pytest.raises(ValueError, match="not an HTTP method"):
        as_curl("GET; rm -rf /", "https://api.kit.com/v4/account")


def test_the_command_works_with_real_curl(sandbox: SandboxServer) -> None:
    require(shutil.which("curl") is not None, "curl (apt-get install curl)")
    token = str(flow.connect(sandbox.base_url)["access_token"])
    command = as_curl(
        "POST", f"{sandbox.base_url}/v4/tags", json_body={"name": f"curl {time.time()}"}
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KIT_ACCESS_TOKEN": token}
    result = subprocess.run(
        ["/bin/sh", "-c", command + " --silent --show-error --max-time 10"],
        capture_output=True,
        env=env,
        check=True,
        timeout=20,
    )
    assert json.loads(result.stdout)["tag"]["name"].startswith("curl ")
    assert token not in command
