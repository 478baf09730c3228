"""Package a one-folder build the way a creator installs it, with checksums.

    python packaging/package.py --out dist/release           # this platform's build
    python packaging/package.py --checksums dist/release     # SHA256SUMS of a folder

- Linux: ``kit-desktop-<version>-linux-<arch>.tar.gz``: the program's folder, the menu
  entry and icon, ``install.sh`` (a per-user install: menu, icon, ``~/.local/bin``) and
  a README.
- Windows: ``Kit-Desktop-<version>-windows-<arch>.zip``: the "Kit Desktop" folder, with
  ``Kit Desktop.exe`` and ``kit-desktop-cli.exe``, and a README.
- macOS: ``Kit-Desktop-<version>-macos-<arch>.dmg``: ``Kit Desktop.app`` beside a link to
  Applications (``hdiutil``, macOS only).

The release workflow (.github/workflows/release.yml) runs this after the build (and, on
Windows and macOS, after signing the programs); docs/publishing.md says what was run where.
"""

from __future__ import annotations

import argparse
import hashlib
import platform as platform_module
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))

from spec_support import program_names  # noqa: E402

from kit_desktop import APP_NAME, __version__  # noqa: E402

LINUX = ROOT / "packaging" / "linux"
ICON = ROOT / "resources" / "icons" / "kit-desktop.png"
SUMS = "SHA256SUMS"

_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


def arch_name(machine: str) -> str:
    """Return the architecture as release names spell it (``x86_64`` or ``arm64``)."""
    return _ARCH.get(machine.lower(), machine.lower())


def archive_name(platform: str, machine: str, version: str = __version__) -> str:
    """Return the release file's name for ``platform`` (``sys.platform``)."""
    arch = arch_name(machine)
    if platform == "win32":
        return f"Kit-Desktop-{version}-windows-{arch}.zip"
    if platform == "darwin":
        return f"Kit-Desktop-{version}-macos-{arch}.dmg"
    return f"kit-desktop-{version}-linux-{arch}.tar.gz"


def readme(
    platform: str,
    version: str = __version__,
    *,
    signed: bool = False,
    glibc: tuple[int, int] | None = None,
) -> str:
    """Return the README.txt that goes with the Linux and Windows downloads."""
    if platform == "win32":
        trust = (
            "This copy is signed, so Windows names its publisher when you start it.\n\n"
            if signed
            else "If Windows says it protected your computer, this copy is not signed: click\n"
            '"More info", then "Run anyway".\n\n'
        )
        start = (
            "Unzip this folder anywhere you like (Documents, for example), open the\n"
            '"Kit Desktop" folder and double-click "Kit Desktop.exe".\n\n'
            f"{trust}"
            "For scripts and terminals, use kit-desktop-cli.exe from the same folder, for\n"
            "example: kit-desktop-cli.exe status\n"
        )
    else:
        needs = (
            f"It needs Linux with glibc {glibc[0]}.{glibc[1]} or newer (Debian 12, Ubuntu "
            "24.04,\nFedora 37 or newer); install.sh checks this first.\n\n"
            if glibc
            else ""
        )
        start = (
            f"{needs}"
            "Run ./install.sh to add Kit Desktop to your applications menu (nothing is\n"
            "installed outside your home folder; ./install.sh --uninstall removes it).\n"
            "Or start it in place: ./kit-desktop/kit-desktop\n"
        )
    return (
        f"{APP_NAME} {version}\n\nConnect your Kit account to this computer.\n\n{start}\n"
        "Tokens are kept in your computer's secure storage, never in a file.\n"
    )


def _tar_member(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owner-free entries: whoever unpacks the archive owns the files."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


_GLIBC = re.compile(rb"Name: GLIBC_(\d+)\.(\d+)")


def glibc_needed(folder: Path) -> tuple[int, int]:
    """Return the newest glibc symbol version any ELF file under ``folder`` asks for.

    The build bundles some of its system's libraries (``libstdc++``, ``libexpat``...), so
    the download runs only where the C library is at least as new as the one it was built
    on; ``readelf -V`` lists the versions each file needs.
    """
    newest = (2, 17)
    for path in _walk(folder):
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        done = subprocess.run(  # noqa: S603 - binutils, as PyInstaller needs on Linux
            ["readelf", "-V", "--wide", str(path)],  # noqa: S607
            capture_output=True,
            check=False,
        )
        for major, minor in _GLIBC.findall(done.stdout):
            newest = max(newest, (int(major), int(minor)))
    return newest


def install_script(glibc: tuple[int, int]) -> str:
    """Return install.sh with the C library the build needs written into it."""
    text = (LINUX / "install.sh").read_text(encoding="utf-8")
    return text.replace("\nNEEDS_GLIBC=0\n", f"\nNEEDS_GLIBC={glibc[0]}.{glibc[1]}\n", 1)


def linux_tarball(folder: Path, out: Path, version: str = __version__) -> Path:
    """Write the Linux tarball of the one-folder build ``folder`` into ``out``."""
    target = out / archive_name("linux", platform_module.machine(), version)
    top = f"kit-desktop-{version}"
    glibc = glibc_needed(folder)
    with tempfile.TemporaryDirectory() as scratch:
        extra = Path(scratch)
        (extra / "README.txt").write_text(readme("linux", version, glibc=glibc), encoding="utf-8")
        script = extra / "install.sh"
        script.write_text(install_script(glibc), encoding="utf-8")
        script.chmod(0o755)
        with tarfile.open(target, "w:gz", compresslevel=6) as tar:
            tar.add(folder, arcname=f"{top}/kit-desktop", filter=_tar_member)
            tar.add(LINUX / "kit-desktop.desktop", f"{top}/kit-desktop.desktop", filter=_tar_member)
            tar.add(script, f"{top}/install.sh", filter=_tar_member)
            tar.add(ICON, f"{top}/kit-desktop.png", filter=_tar_member)
            tar.add(extra / "README.txt", f"{top}/README.txt", filter=_tar_member)
    return target


def _walk(folder: Path) -> Iterable[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def windows_zip(
    folder: Path, out: Path, version: str = __version__, *, signed: bool = False
) -> Path:
    """Write the Windows zip of the one-folder build ``folder`` (``Kit Desktop``)."""
    target = out / archive_name("win32", platform_module.machine() or "amd64", version)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in _walk(folder):
            archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
        archive.writestr(f"{folder.name}/README.txt", readme("win32", version, signed=signed))
    return target


def dmg_command(stage: Path, target: Path) -> list[str]:
    """Return the ``hdiutil`` command that makes a compressed disk image of ``stage``."""
    return [
        "hdiutil", "create", "-volname", APP_NAME, "-srcfolder", str(stage),
        "-fs", "HFS+", "-format", "UDZO", "-ov", str(target),
    ]  # fmt: skip


def stage_dmg(app: Path, stage: Path) -> None:
    """Lay out a disk image's contents in ``stage``: the app and a link to Applications."""
    shutil.copytree(app, stage / app.name, symlinks=True)
    (stage / "Applications").symlink_to("/Applications")


def run_retried(
    command: list[str],
    *,
    attempts: int = 4,
    pause: float = 5.0,
    run: Callable[[list[str]], int] | None = None,
) -> None:
    """Run ``command`` until it succeeds, ``attempts`` times at most.

    ``hdiutil create`` fails now and then with "Resource busy" on CI's Macs
    (actions/runner-images#7522); another try works.

    Raises:
        subprocess.CalledProcessError: Every attempt failed.
    """
    call = run or (lambda args: subprocess.run(args, check=False).returncode)  # noqa: S603
    code = 0
    for attempt in range(1, attempts + 1):
        code = call(command)
        if code == 0:
            return
        if attempt < attempts:
            print(f"{command[0]} failed ({code}); trying again", file=sys.stderr)
            time.sleep(pause)
    raise subprocess.CalledProcessError(code, command)


def macos_dmg(app: Path, out: Path, version: str = __version__) -> Path:
    """Write the macOS disk image holding ``app`` (``Kit Desktop.app``); macOS only."""
    target = out / archive_name("darwin", platform_module.machine(), version)
    with tempfile.TemporaryDirectory() as scratch:
        stage = Path(scratch) / APP_NAME
        stage.mkdir()
        stage_dmg(app, stage)
        run_retried(dmg_command(stage, target))
    return target


def sha256sums(files: Iterable[Path]) -> str:
    """Return ``sha256sum``'s lines for ``files`` (checked with ``sha256sum -c``)."""
    lines = []
    for path in sorted(files, key=lambda item: item.name):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.name}\n")
    return "".join(lines)


def package(platform: str, dist: Path, out: Path, *, signed: bool = False) -> Path:
    """Package this platform's one-folder build under ``dist`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    built = f"{APP_NAME}.app" if platform == "darwin" else program_names(platform).folder
    folder = dist / "onedir" / built
    if not folder.is_dir():
        raise SystemExit(f"no one-folder build at {folder}: build it first (make dist)")
    if platform == "darwin":
        return macos_dmg(folder, out)
    if platform == "win32":
        return windows_zip(folder, out, signed=signed)
    return linux_tarball(folder, out)


def main(argv: list[str] | None = None) -> int:
    """Package the build, or write the checksums of a folder of packages."""
    parser = argparse.ArgumentParser(prog="package.py", description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="the builds' folder")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "release")
    parser.add_argument("--checksums", type=Path, metavar="FOLDER", help="write FOLDER/SHA256SUMS")
    parser.add_argument(
        "--signed", action="store_true", help="the programs were signed (the README says so)"
    )
    args = parser.parse_args(argv)
    if args.checksums:
        files = [path for path in args.checksums.iterdir() if path.is_file() and path.name != SUMS]
        (args.checksums / SUMS).write_text(sha256sums(files), encoding="utf-8")
        print(args.checksums / SUMS)
        return 0
    print(package(sys.platform, args.dist, args.out, signed=args.signed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
