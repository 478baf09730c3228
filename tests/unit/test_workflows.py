"""The build and release workflows: what they must hold, read from the files themselves.

actionlint and zizmor (make lint) check the workflows are valid and safe; these tests check
they do what issue 18 asks: a Linux, Windows and macOS matrix, a smoke test of each build at
the path the spec writes it to, pinned actions, least privilege, and a release that signs
when it can and says so when it cannot.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
sys.path.insert(0, str(ROOT / "packaging"))

from spec_support import program_names  # noqa: E402

from kit_desktop import APP_NAME  # noqa: E402


def load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    if True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document


def steps(name: str = "build.yml", job: str = "build") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = load(name)["jobs"][job]["steps"]
    return found


def step(title: str) -> dict[str, Any]:
    [found] = [item for item in steps() if item.get("name") == title]
    return found


def test_the_matrix_builds_on_linux_windows_and_macos() -> None:
    legs = load("build.yml")["jobs"]["build"]["strategy"]["matrix"]["include"]
    runners = sorted(leg["os"].split("-")[0] for leg in legs)
    assert runners == ["macos", "ubuntu", "windows"]
    assert load("build.yml")["jobs"]["build"]["strategy"]["fail-fast"] is False


def test_linux_builds_on_debian_as_ci_does_in_a_pinned_image() -> None:
    job = load("build.yml")["jobs"]["build"]
    assert job["container"] == "${{ matrix.container }}"
    [linux] = [leg for leg in job["strategy"]["matrix"]["include"] if leg["name"] == "Linux"]
    image, digest = linux["container"].split("@sha256:")
    assert image == "python:3.11-bookworm"  # Debian 12 and Python 3.11, as .ci/run's machine
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    others = [leg for leg in job["strategy"]["matrix"]["include"] if leg["name"] != "Linux"]
    assert all("container" not in leg for leg in others)


def test_every_build_is_smoke_tested_where_the_spec_puts_it() -> None:
    smoke = step("Smoke test")
    assert "if" not in smoke  # every leg
    script = smoke["run"]
    linux, windows, mac = (program_names(name) for name in ("linux", "win32", "darwin"))
    expected = [
        f"dist/onedir/{linux.folder}/{linux.program} --smoke-test",
        f'"dist/onedir/{windows.folder}/{windows.companion}.exe" --smoke-test',
        f'"dist/onedir/{APP_NAME}.app/Contents/MacOS/{mac.program}" --smoke-test',
    ]
    for command in expected:
        assert command in script, command
    window = step("Smoke test (the window's program, Windows)")
    assert f"{windows.program}.exe" in window["run"]
    assert "$started.ExitCode" in window["run"]


def test_the_macos_leg_unlocks_a_keychain_before_the_smoke_test() -> None:
    titles = [item.get("name") for item in steps()]
    assert titles.index("Prepare a keychain (macOS)") < titles.index("Smoke test")
    script = step("Prepare a keychain (macOS)")["run"]
    for command in ("create-keychain", "unlock-keychain", "default-keychain"):
        assert f"security {command}" in script
    assert "::add-mask::" in script


def test_linux_runs_what_ci_runs_and_the_others_build_from_the_build_requirements() -> None:
    linux = step("Test (the whole suite)")
    assert (linux["run"], linux["env"]["CI"], linux["if"]) == (
        "make test",
        "true",
        "runner.os == 'Linux'",
    )
    build = step("Build (one folder)")["run"]
    assert "pip install -r packaging/requirements.txt" in build
    assert "packaging/kit_desktop.spec -- --mode onedir" in build
    portable = step("Test (the portable tests)")["run"]
    assert "tests/portable.txt" in portable
    assert 'pip install -e ".[test]"' in portable


def test_the_test_extra_is_part_of_dev() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert set(extras["test"]) <= set(extras["dev"])


def test_the_portable_tests_exist_and_need_no_linux_only_part() -> None:
    lines = (ROOT / "tests" / "portable.txt").read_text(encoding="utf-8").splitlines()
    listed = [line for line in lines if line and not line.startswith("#")]
    assert len(listed) >= 15
    linux_only = re.compile(
        r"real_keyring|mark\.browser|mark\.xvfb|second_account|[\"']/proc/|setpriv|dbus|xdotool"
    )
    for name in listed:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not linux_only.search(text), name


def uses_lines() -> list[str]:
    lines = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*(- )?uses: ", line):
                lines.append(f"{path.name}: {line.strip()}")
    return lines


def test_every_action_is_pinned_to_a_full_commit_with_its_version() -> None:
    found = uses_lines()
    assert len(found) >= 8
    for line in found:
        if "uses: ./.github/workflows/" in line:
            continue  # this repository's own workflow, at the same commit
        assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


@pytest.mark.parametrize("name", ["build.yml", "release.yml", "relay-pages.yml"])
def test_least_privilege(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] in ({}, {"contents": "read"}), workflow["permissions"]
    for job_name, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert granted is not None, f"{name}: {job_name} says what it may do"
        writes = {scope for scope, level in granted.items() if level == "write"}
        allowed = {
            ("release.yml", "publish"): {"contents"},
            ("relay-pages.yml", "deploy"): {"pages", "id-token"},
        }.get((name, job_name), set())
        assert writes == allowed, (name, job_name, writes)


def test_checkouts_keep_no_credentials() -> None:
    for name in ("build.yml", "relay-pages.yml"):
        text = (WORKFLOWS / name).read_text(encoding="utf-8")
        assert text.count("actions/checkout@") == text.count("persist-credentials: false"), name


def test_a_version_tag_releases_what_the_build_workflow_makes() -> None:
    release = load("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    build = release["jobs"]["build"]
    assert build["uses"] == "./.github/workflows/build.yml"
    assert build["with"] == {"release": True}
    declared = set(load("build.yml")["on"]["workflow_call"]["secrets"])
    assert set(build["secrets"]) == declared  # passed one by one, never `inherit`
    publish = "\n".join(item.get("run", "") for item in steps("release.yml", "publish"))
    assert "sha256sum -- * > SHA256SUMS" in publish
    assert "gh release create" in publish and "--verify-tag" in publish


def test_signing_runs_with_its_secrets_and_says_so_without_them() -> None:
    finder = step("Find the signing secrets")["run"]
    assert finder.count("::notice title=") == 3  # Windows unsigned, macOS unsigned, not notarised
    for title in ("Check the signed programs (Windows)", "Sign the app (macOS)"):
        assert step(title)["if"].startswith("steps.signing.outputs.sign == 'true'")
    azure = step("Sign the programs (Windows, Azure Artifact Signing)")
    assert azure["if"].startswith("steps.signing.outputs.windows_signer == 'azure'")
    assert azure["uses"].startswith("azure/artifact-signing-action@")
    assert azure["with"]["cache-dependencies"] is False  # a release restores no cache
    assert (
        "Kit Desktop.exe" in azure["with"]["files"]
        and "kit-desktop-cli.exe" in azure["with"]["files"]
    )
    pfx = step("Sign the programs (Windows, a .pfx)")
    assert pfx["if"].startswith("steps.signing.outputs.windows_signer == 'pfx'")
    assert "signtool.FullName sign" in pfx["run"]
    mac = step("Sign the app (macOS)")["run"]
    assert "--options runtime" in mac and "packaging/macos/entitlements.plist" in mac
    assert "--smoke-test" in mac  # still works once signed with the hardened runtime
    notarise = step("Sign and notarise the disk image (macOS)")["run"]
    assert "notarytool submit" in notarise and "stapler staple" in notarise
    titles = [item.get("name") for item in steps()]
    assert titles.index("Sign the app (macOS)") < titles.index("Package for creators")


def test_the_files_the_workflows_name_exist() -> None:
    text = "".join(path.read_text(encoding="utf-8") for path in WORKFLOWS.glob("*.yml"))
    for path in sorted(set(re.findall(r"\b(?:packaging|tests)/[\w./-]+\.\w+", text))):
        assert (ROOT / path).is_file(), path


def test_make_lint_checks_the_workflows() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "actionlint" in lint
    assert "zizmor --offline --persona pedantic" in lint
    assert "shellcheck" in lint


def test_a_hang_or_a_refusal_cannot_pass_silently() -> None:
    assert step("Smoke test")["timeout-minutes"] <= 5
    assert step("Smoke test (the window's program, Windows)")["timeout-minutes"] <= 3
    finder = step("Find the signing secrets")["run"]
    assert "::error title=Signing secrets incomplete::" in finder
    assert "need MACOS_CERTIFICATE MACOS_CERTIFICATE_PASSWORD MACOS_SIGNING_IDENTITY" in finder
    notarise = step("Sign and notarise the disk image (macOS)")["run"]
    assert "--output-format json" in notarise and '"$status" != Accepted' in notarise
    windows = step("Check the signed programs (Windows)")["run"]
    assert "verify /pa" in windows and "--smoke-test" in windows  # still works once signed
    assert "need AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_CLIENT_SECRET" in finder
    assert "$signed" in step("Package for creators")["run"]


def test_builds_are_kept_as_tars_and_releases_are_drafts_until_complete() -> None:
    assert "tar -cf" in step("Pack the build")["run"]
    assert step("Keep the build")["with"]["path"] == "dist/artifact/"
    publish = "\n".join(item.get("run", "") for item in steps("release.yml", "publish"))
    assert publish.index("--draft") < publish.index('gh release edit "$TAG" --draft=false')
    assert "Get-FileHash" in publish and "shasum -a 256 -c" in publish
