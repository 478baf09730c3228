"""The publisher's kit: ``make relay-site``'s refusals and the GitHub Pages workflow's rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit_desktop.relay_page import META_CALLBACK_PORTS, META_INSTALL_PORT, meta
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import relay_site  # noqa: E402

WORKFLOW = ROOT / ".github" / "workflows" / "relay-pages.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")
PAGES_SITE = "https://publisher.github.io/kit-desktop"


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps() -> list[dict[str, Any]]:
    return [step for job in workflow()["jobs"].values() for step in job["steps"]]


def actionlint() -> str | None:
    beside_python = Path(sys.executable).with_name("actionlint")
    return str(beside_python) if beside_python.is_file() else shutil.which("actionlint")


# --- the workflow -------------------------------------------------------------------------


def test_actionlint_finds_nothing_in_the_workflow() -> None:
    command = actionlint()
    require(command is not None, "actionlint (pip install -e '.[dev]')")
    assert command is not None
    result = subprocess.run(
        [command, "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_asks_for_the_least_it_needs() -> None:
    data = workflow()
    assert data["permissions"] == {"contents": "read"}
    jobs = data["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read", "pages": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["needs"] == "build"
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    assert data["concurrency"]["group"] == "pages"


def test_every_action_is_pinned_to_a_full_commit_with_its_version() -> None:
    uses = [step["uses"] for step in steps() if "uses" in step]
    assert len(uses) == 5
    for ref in uses:
        assert PINNED.match(ref), ref
    lines = [line for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert len(lines) == len(uses)
    for line in lines:
        assert VERSION_COMMENT.search(line), line
    checkout = next(step for step in steps() if step.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False


def test_the_workflow_runs_when_what_decides_the_page_changes() -> None:
    data = workflow()
    triggers = data[True]  # YAML 1.1 reads the key `on` as true
    assert "workflow_dispatch" in triggers
    assert triggers["push"]["branches"] == ["main"]
    for path in (
        "resources/relay/relay.html",
        "resources/kit_app.toml",
        "kit_desktop/relay_page.py",
        "packaging/relay_site.py",
        ".github/workflows/relay-pages.yml",
    ):
        assert any(
            path == pattern or (pattern.endswith("/**") and path.startswith(pattern[:-2]))
            for pattern in triggers["push"]["paths"]
        ), path
    run = "\n".join(step.get("run", "") for step in steps())
    assert "packaging/relay_site.py --out _site" in run
    upload = next(step for step in steps() if "upload-pages-artifact" in step.get("uses", ""))
    assert upload["with"]["path"] == "_site"


def test_actionlint_runs_with_the_linters() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/actionlint\n" in lint
    assert "relay-site: $(RUN_STAMP)" in makefile


# --- packaging/relay_site.py --------------------------------------------------------------


def test_the_folder_holds_the_baked_page_and_nojekyll(tmp_path: Path) -> None:
    env = {
        "KIT_REDIRECT_URI": "http://127.0.0.1:41001/callback http://127.0.0.1:41002/callback",
        "KIT_RELAY_URL": f"{PAGES_SITE}/relay.html",
    }
    argv = ["--out", str(tmp_path), "--site-url", PAGES_SITE + "/"]
    assert relay_site.main(argv, env) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [".nojekyll", "relay.html"]
    page = (tmp_path / "relay.html").read_bytes()
    assert b"\r" not in page
    assert meta(page.decode("utf-8"), META_CALLBACK_PORTS) == "41001 41002"
    assert meta(page.decode("utf-8"), META_INSTALL_PORT) == "41001"


@pytest.mark.parametrize(
    ("env", "argv", "words"),
    [
        (
            {"KIT_REDIRECT_URI": "http://127.0.0.1:0/callback http://127.0.0.1:0/callback"},
            [],
            "a redirect URI uses port 0",
        ),
        ({"KIT_REDIRECT_URI": "https://example.com/callback"}, [], "not usable"),
        ({"KIT_ROUTE": "sideways"}, [], "The setting route must be"),
        ({"KIT_ROUTE": "direct"}, [], "no relay page to host"),
        ({"KIT_RELAY_URL": f"{PAGES_SITE}/kit.html"}, [], "end in /relay.html"),
        (
            {"KIT_RELAY_URL": "https://example.com/relay.html"},
            ["--site-url", PAGES_SITE],
            f"served at {PAGES_SITE}/relay.html",
        ),
        ({}, ["--site-url", "http://publisher.github.io/kit-desktop"], "https address"),
    ],
    ids=["port-0", "not-loopback", "bad-route", "direct", "other-file", "other-site", "http"],
)
def test_unusable_settings_are_refused_and_nothing_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    argv: list[str],
    words: str,
) -> None:
    out = tmp_path / "site"
    assert relay_site.main(["--out", str(out), *argv], env) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("relay-site: ")
    assert words in captured.err
    assert not out.exists()


def test_the_address_to_register_is_said_when_relay_url_is_not_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert relay_site.main(["--out", str(tmp_path), "--site-url", PAGES_SITE], {}) == 0
    said = capsys.readouterr().out
    assert f'relay_url = "{PAGES_SITE}/relay.html"' in said
    assert "Redirect URI and the Authorization URL" in said


def test_baking_needs_no_qt_requests_or_keyring(tmp_path: Path) -> None:
    """The workflow installs kit_desktop with --no-deps; the script must not need them."""
    script = (
        "import runpy, sys\n"
        "for name in ('PySide6', 'shiboken6', 'requests', 'keyring'):\n"
        "    sys.modules[name] = None\n"
        f"sys.argv = ['relay_site.py', '--out', {str(tmp_path)!r}]\n"
        f"runpy.run_path({str(ROOT / 'packaging' / 'relay_site.py')!r}, run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "relay.html").is_file()
