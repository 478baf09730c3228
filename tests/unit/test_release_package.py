"""packaging/package.py: names, the Windows zip, the macOS disk image's layout, checksums."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kit_desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import package  # noqa: E402


@pytest.mark.parametrize(
    ("platform", "machine", "name"),
    [
        ("linux", "x86_64", "kit-desktop-1.2.3-linux-x86_64.tar.gz"),
        ("linux", "aarch64", "kit-desktop-1.2.3-linux-arm64.tar.gz"),
        ("win32", "AMD64", "Kit-Desktop-1.2.3-windows-x86_64.zip"),
        ("win32", "ARM64", "Kit-Desktop-1.2.3-windows-arm64.zip"),
        ("darwin", "arm64", "Kit-Desktop-1.2.3-macos-arm64.dmg"),
        ("darwin", "x86_64", "Kit-Desktop-1.2.3-macos-x86_64.dmg"),
    ],
)
def test_archive_names(platform: str, machine: str, name: str) -> None:
    assert package.archive_name(platform, machine, "1.2.3") == name


def fake_windows_build(dist: Path) -> Path:
    folder = dist / "onedir" / "Kit Desktop"
    (folder / "_internal" / "PySide6").mkdir(parents=True)
    (folder / "Kit Desktop.exe").write_bytes(b"MZ window")
    (folder / "kit-desktop-cli.exe").write_bytes(b"MZ console")
    (folder / "_internal" / "PySide6" / "Qt6Core.dll").write_bytes(b"MZ qt")
    return folder


def test_the_windows_zip_holds_the_folder_with_both_programs_and_a_readme(tmp_path: Path) -> None:
    fake_windows_build(tmp_path / "dist")
    target = package.package("win32", tmp_path / "dist", tmp_path / "out")
    assert target.name.startswith(f"Kit-Desktop-{__version__}-windows-")
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        assert names == {
            "Kit Desktop/Kit Desktop.exe",
            "Kit Desktop/kit-desktop-cli.exe",
            "Kit Desktop/_internal/PySide6/Qt6Core.dll",
            "Kit Desktop/README.txt",
        }
        words = archive.read("Kit Desktop/README.txt").decode()
        assert archive.read("Kit Desktop/kit-desktop-cli.exe") == b"MZ console"
    assert 'double-click "Kit Desktop.exe"' in words
    assert '"More info", then "Run anyway"' in words
    assert "kit-desktop-cli.exe status" in words


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin"])
def test_a_missing_build_says_what_to_run(tmp_path: Path, platform: str) -> None:
    with pytest.raises(SystemExit, match=r"no one-folder build at .*make dist"):
        package.package(platform, tmp_path / "dist", tmp_path / "out")


def test_the_disk_image_holds_the_app_beside_a_link_to_applications(tmp_path: Path) -> None:
    app = tmp_path / "Kit Desktop.app"
    (app / "Contents" / "MacOS").mkdir(parents=True)
    (app / "Contents" / "MacOS" / "kit-desktop").write_bytes(b"\xcf\xfa\xed\xfe")
    (app / "Contents" / "Frameworks").symlink_to("MacOS")
    stage = tmp_path / "stage"
    stage.mkdir()
    package.stage_dmg(app, stage)
    assert sorted(path.name for path in stage.iterdir()) == ["Applications", "Kit Desktop.app"]
    assert (stage / "Applications").readlink() == Path("/Applications")
    assert (stage / "Kit Desktop.app" / "Contents" / "Frameworks").is_symlink()
    command = package.dmg_command(stage, tmp_path / "Kit.dmg")
    assert command[:2] == ["hdiutil", "create"]
    assert command[command.index("-volname") + 1] == "Kit Desktop"
    assert command[command.index("-srcfolder") + 1] == str(stage)
    assert command[command.index("-format") + 1] == "UDZO"


def test_checksums_are_what_sha256sum_checks(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(b"one")
    (tmp_path / "b.tar.gz").write_bytes(b"two")
    (tmp_path / "SHA256SUMS").write_text("stale", encoding="utf-8")
    assert package.main(["--checksums", str(tmp_path)]) == 0
    lines = (tmp_path / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert [line.split("  ")[1] for line in lines] == ["a.zip", "b.tar.gz"]
    checker = shutil.which("sha256sum")
    assert checker is not None
    done = subprocess.run(
        [checker, "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "a.zip").write_bytes(b"changed")
    tampered = subprocess.run(
        [checker, "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert tampered.returncode == 1


def test_the_readme_says_whether_windows_will_warn() -> None:
    unsigned = package.readme("win32", "1.0.0")
    signed = package.readme("win32", "1.0.0", signed=True)
    assert '"More info", then "Run anyway"' in unsigned
    assert "Run anyway" not in signed and "This copy is signed" in signed


def test_the_linux_readme_and_install_sh_carry_the_c_library_the_build_needs() -> None:
    assert "glibc 2.36 or newer" in package.readme("linux", "1.0.0", glibc=(2, 36))
    script = package.install_script((2, 36))
    assert "\nNEEDS_GLIBC=2.36\n" in script
    assert script.count("NEEDS_GLIBC=") == 1
    source = (ROOT / "packaging" / "linux" / "install.sh").read_text(encoding="utf-8")
    assert "\nNEEDS_GLIBC=0\n" in source  # no check from the source tree


def test_glibc_needed_reads_what_an_elf_file_asks_for(tmp_path: Path) -> None:
    shutil.copy(sys.executable, tmp_path / "python")
    (tmp_path / "notes.txt").write_text("not ELF", encoding="utf-8")
    assert package.glibc_needed(tmp_path) >= (2, 17)
    assert package.glibc_needed(tmp_path / "empty-folder-that-is-missing") == (2, 17)


def test_hdiutil_is_tried_again_when_the_mac_says_resource_busy() -> None:
    answers = iter([1, 1, 0])
    calls: list[list[str]] = []

    def run(command: list[str]) -> int:
        calls.append(command)
        return next(answers)

    package.run_retried(["hdiutil", "create"], pause=0, run=run)
    assert len(calls) == 3
    with pytest.raises(subprocess.CalledProcessError):
        package.run_retried(["hdiutil", "create"], attempts=2, pause=0, run=lambda _: 16)
