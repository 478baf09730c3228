"""The Linux download, as a creator gets it: unpack the tarball, run install.sh, start it.

The tarball is made by packaging/package.py from the real one-folder build; it is unpacked
with the system's tar and installed with its own install.sh into a throwaway home.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from kit_desktop import __version__
from tests.helpers.frozen_build import ROOT, fresh_onedir
from tests.helpers.realparts import require

sys.path.insert(0, str(ROOT / "packaging"))

import package


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app = fresh_onedir()
    return package.linux_tarball(app.parent, tmp_path_factory.mktemp("release"))


@pytest.fixture
def unpacked(tarball: Path, tmp_path: Path) -> Path:
    subprocess.run(["tar", "xzf", str(tarball), "-C", str(tmp_path)], check=True)
    return tmp_path / f"kit-desktop-{__version__}"


def creator_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(HOME=str(home), PATH="/usr/bin:/bin", QT_QPA_PLATFORM="offscreen")
    return env


def sh(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_tarball_is_named_and_laid_out_for_a_creator(tarball: Path) -> None:
    assert tarball.name == f"kit-desktop-{__version__}-linux-x86_64.tar.gz"
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
    top = f"kit-desktop-{__version__}/"
    names = {member.name for member in members}
    for expected in ("install.sh", "kit-desktop.desktop", "kit-desktop.png", "README.txt"):
        assert top + expected in names
    assert top + "kit-desktop/kit-desktop" in names
    assert all(member.name.startswith(top) for member in members)
    assert all(member.uid == 0 and member.uname == "" for member in members)
    by_name = {member.name: member for member in members}
    for runnable in ("install.sh", "kit-desktop/kit-desktop"):
        assert by_name[top + runnable].mode & stat.S_IXUSR, runnable


def test_install_sh_adds_the_menu_entry_icon_and_command_and_it_starts(
    unpacked: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = creator_env(home)
    done = sh(str(unpacked / "install.sh"), env=env)
    assert done.returncode == 0, done.stderr
    assert "find it in your applications menu" in done.stdout
    assert f"{home}/.local/bin/kit-desktop status" in done.stdout  # not on this PATH

    program = home / ".local" / "opt" / "kit-desktop" / "kit-desktop"
    entry = home / ".local" / "share" / "applications" / "kit-desktop.desktop"
    icon = home / ".local" / "share" / "icons" / "hicolor" / "256x256" / "apps" / "kit-desktop.png"
    assert f'Exec="{program}"' in entry.read_text(encoding="utf-8").splitlines()
    assert icon.read_bytes() == (ROOT / "resources" / "icons" / "kit-desktop.png").read_bytes()
    validator = shutil.which("desktop-file-validate")
    require(validator is not None, "desktop-file-validate (apt-get install desktop-file-utils)")
    checked = sh(str(validator), str(entry), env=env)
    assert checked.returncode == 0 and checked.stdout == "", checked.stdout + checked.stderr

    started = sh(str(home / ".local" / "bin" / "kit-desktop"), "--version", env=env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"Kit Desktop {__version__}"


def test_install_again_updates_and_uninstall_keeps_the_creators_data(
    unpacked: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    kept = home / ".local" / "share" / "kit-desktop" / "kit-desktop.log"
    kept.parent.mkdir(parents=True)
    kept.write_text("the app's own data\n", encoding="utf-8")
    env = creator_env(home)
    env["PATH"] = f"{home}/.local/bin:/usr/bin:/bin"
    assert sh(str(unpacked / "install.sh"), env=env).returncode == 0
    stale = home / ".local" / "opt" / "kit-desktop" / "left-from-an-older-version"
    stale.write_text("old", encoding="utf-8")
    again = sh(str(unpacked / "install.sh"), env=env)
    assert again.returncode == 0, again.stderr
    assert "run: kit-desktop status" in again.stdout
    assert not stale.exists()
    assert sh("kit-desktop", "--version", env=env).returncode == 0

    removed = sh(str(unpacked / "install.sh"), "--uninstall", env=env)
    assert removed.returncode == 0, removed.stderr
    assert "Disconnect" in removed.stdout
    assert not (home / ".local" / "opt" / "kit-desktop").exists()
    assert not (home / ".local" / "bin" / "kit-desktop").exists()
    assert not (home / ".local" / "share" / "applications" / "kit-desktop.desktop").exists()
    assert kept.read_text(encoding="utf-8") == "the app's own data\n"


def test_install_sh_from_a_broken_download_says_what_to_do(unpacked: Path, tmp_path: Path) -> None:
    shutil.rmtree(unpacked / "kit-desktop")
    home = tmp_path / "home"
    home.mkdir()
    done = sh(str(unpacked / "install.sh"), env=creator_env(home))
    assert done.returncode == 1
    assert "Unpack the whole download again" in done.stderr
    assert not (home / ".local").exists()


def test_install_sh_refuses_an_older_c_library_and_installs_nothing(
    unpacked: Path, tmp_path: Path
) -> None:
    needed = package.glibc_needed(fresh_onedir().parent)
    script = (unpacked / "install.sh").read_text(encoding="utf-8")
    assert f"\nNEEDS_GLIBC={needed[0]}.{needed[1]}\n" in script
    assert f"glibc {needed[0]}.{needed[1]} or newer" in (unpacked / "README.txt").read_text(
        encoding="utf-8"
    )
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    getconf = fake / "getconf"  # an older Linux: what `getconf GNU_LIBC_VERSION` says there
    getconf.write_text("#!/bin/sh\necho glibc 2.31\n", encoding="utf-8")
    getconf.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = creator_env(home)
    env["PATH"] = f"{fake}:/usr/bin:/bin"
    done = sh(str(unpacked / "install.sh"), env=env)
    assert done.returncode == 1
    assert f"needs a newer Linux: glibc {needed[0]}.{needed[1]} or later" in done.stderr
    assert "This computer has glibc 2.31." in done.stderr
    assert not (home / ".local").exists()
    getconf.write_text("#!/bin/sh\necho glibc 9.99\n", encoding="utf-8")
    assert sh(str(unpacked / "install.sh"), env=env).returncode == 0
