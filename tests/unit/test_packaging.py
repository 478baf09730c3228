"""The build's rules: what the spec leaves out, what it prunes, the platform files."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from kit_desktop import __version__
from kit_desktop.paths import resource_path, resources_dir

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import spec_support  # noqa: E402

QT = "PySide6/Qt/"


def test_build_requirements_are_the_runtime_dependencies_plus_pyinstaller() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {line.split("#")[0].strip() for line in project["project"]["dependencies"]}
    lines = (ROOT / "packaging" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    build = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {req for req in build if not req.startswith("pyinstaller")} == runtime
    assert any(req.startswith("pyinstaller") for req in build)


@pytest.mark.parametrize(
    "dest",
    [
        QT + "translations/qtbase_de.qm",
        QT + "plugins/platformthemes/libqgtk3.so",
        QT + "plugins/platforms/libqeglfs.so",
        QT + "plugins/platforms/libqvnc.so",
        QT + "plugins/imageformats/libqjpeg.so",
        QT + "plugins/imageformats/libqgif.so",
        QT + "plugins/tls/libqopensslbackend.so",
        QT + "plugins/wayland-graphics-integration-server/libqt-wayland-compositor-wayland-egl.so",
        QT + "plugins/wayland-shell-integration/libivi-shell.so",
        QT + "lib/libQt6EglFsKmsSupport.so.6",
        QT + "plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        "resources/icons/kit-desktop.ico",
        "resources/icons/kit-desktop.icns",
    ],
)
def test_unused_qt_parts_are_left_out_with_a_reason(dest: str) -> None:
    reason = spec_support.excluded_reason(dest)
    assert reason, dest


@pytest.mark.parametrize(
    "dest",
    [
        QT + "plugins/platforms/libqxcb.so",
        QT + "plugins/platforms/libqwayland.so",
        QT + "plugins/platforms/libqoffscreen.so",
        QT + "plugins/wayland-shell-integration/libxdg-shell.so",
        QT + "plugins/wayland-decoration-client/libbradient.so",
        QT + "plugins/imageformats/libqsvg.so",
        QT + "plugins/iconengines/libqsvgicon.so",
        QT + "plugins/platformthemes/libqxdgdesktopportal.so",
        QT + "plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
        QT + "plugins/platforminputcontexts/libibusplatforminputcontextplugin.so",
        QT + "lib/libQt6Widgets.so.6",
        "resources/relay/relay.html",  # practice mode serves it from the built-in sandbox
        QT + "lib/libicudata.so.73",
        "resources/pages/page.html",
        "resources/icons/kit-desktop.png",
        "resources/kit_app.toml",
        "certifi/cacert.pem",
    ],
)
def test_what_a_desktop_user_needs_is_kept(dest: str) -> None:
    assert spec_support.excluded_reason(dest) is None


def test_drop_excluded_splits_a_toc() -> None:
    toc = [
        (QT + "translations/qt_fr.qm", "/x/qt_fr.qm", "DATA"),
        ("resources/pages/page.css", "/x/page.css", "DATA"),
    ]
    kept, dropped = spec_support.drop_excluded(toc)
    assert kept == [toc[1]]
    assert dropped == [toc[0]]


def test_pruning_keeps_what_roots_reach_and_drops_the_rest() -> None:
    links = {
        "/src/QtWidgets.abi3.so": ["libQt6Widgets.so.6"],
        "/src/libQt6Widgets.so.6": ["libQt6Gui.so.6", "libstdc++.so.6"],
        "/src/libQt6Gui.so.6": [],
        "/src/libqxcb.so": ["libxcb-icccm.so.4"],
        "/src/libgtk-3.so.0": ["libcairo.so.2"],
    }
    binaries = [
        ("PySide6/QtWidgets.abi3.so", "/src/QtWidgets.abi3.so", "EXTENSION"),
        (QT + "lib/libQt6Widgets.so.6", "/src/libQt6Widgets.so.6", "BINARY"),
        (QT + "lib/libQt6Gui.so.6", "/src/libQt6Gui.so.6", "BINARY"),
        (QT + "lib/libQt6OpenGL.so.6", "/src/libQt6OpenGL.so.6", "BINARY"),
        (QT + "plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        ("libstdc++.so.6", "/src/libstdc++.so.6", "BINARY"),
        ("libxcb-icccm.so.4", "/src/libxcb-icccm.so.4", "BINARY"),
        ("libgtk-3.so.0", "/src/libgtk-3.so.0", "BINARY"),
        ("libcairo.so.2", "/src/libcairo.so.2", "BINARY"),
        ("libpython3.11.so.1.0", "/src/libpython3.11.so.1.0", "BINARY"),
        ("_cffi_backend.cpython-311-x86_64-linux-gnu.so", "/src/_cffi.so", "EXTENSION"),
    ]
    kept, dropped = spec_support.prune_unreachable(binaries, lambda path: links.get(path, []))
    assert {Path(dest).name for dest, _, _ in dropped} == {
        "libQt6OpenGL.so.6",
        "libgtk-3.so.0",
        "libcairo.so.2",
    }
    names = {Path(dest).name for dest, _, _ in kept}
    assert {"libQt6Gui.so.6", "libstdc++.so.6", "libxcb-icccm.so.4"} <= names
    assert "_cffi_backend.cpython-311-x86_64-linux-gnu.so" in names, "extensions are roots"
    assert "libpython3.11.so.1.0" in names


def test_elf_needed_reads_a_real_library() -> None:
    needed = spec_support.elf_needed(sys.executable)
    libc = [name for name in needed if name.startswith("libc.so")]
    assert libc or not needed, needed  # a static Python has no NEEDED at all
    assert spec_support.elf_needed(str(ROOT / "pyproject.toml")) == []


def test_windows_version_resource_carries_the_version() -> None:
    text = spec_support.windows_version_info("1.2.3", "Kit Desktop", "Connect")
    assert "filevers=(1, 2, 3, 0)" in text
    assert "StringStruct('ProductVersion', '1.2.3')" in text
    assert "StringStruct('OriginalFilename', 'Kit Desktop.exe')" in text
    cli = spec_support.windows_version_info("1.2.3", "Kit Desktop", "CLI", "kit-desktop-cli.exe")
    assert "StringStruct('OriginalFilename', 'kit-desktop-cli.exe')" in cli


def test_program_names_per_platform() -> None:
    windows = spec_support.program_names("win32")
    assert (windows.program, windows.folder) == ("Kit Desktop", "Kit Desktop")
    assert windows.companion == "kit-desktop-cli"
    for platform in ("linux", "darwin"):
        names = spec_support.program_names(platform)
        assert (names.program, names.folder) == ("kit-desktop", "kit-desktop")
    assert spec_support.program_names("win32", "bare-window").program == "bare-window"


def test_macos_bundle_keys() -> None:
    plist = spec_support.macos_info_plist(__version__, "Kit Desktop")
    assert plist["CFBundleShortVersionString"] == __version__
    assert plist["NSHighResolutionCapable"] is True
    assert plist["LSMinimumSystemVersion"] == "13.0"  # PySide6's macOS wheels need it


def test_spec_reads_the_one_version_and_bundles_resources() -> None:
    spec = (ROOT / "packaging" / "kit_desktop.spec").read_text(encoding="utf-8")
    assert "from kit_desktop import APP_NAME, __version__" in spec
    assert 'datas=[(str(ROOT / "resources"), "resources")] if args.entry == "main.py"' in spec
    assert "bundle_identifier=" in spec
    assert "strip=strip" in spec


def test_icons_exist_for_every_platform() -> None:
    for name in ("kit-desktop.png", "kit-desktop.ico", "kit-desktop.icns", "kit-desktop.svg"):
        assert resource_path("icons", name).stat().st_size > 0, name


def test_resources_resolve_from_source_and_from_a_frozen_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert resources_dir() == ROOT / "resources"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_dir() == tmp_path / "resources"
    assert resource_path("pages", "page.html") == tmp_path / "resources" / "pages" / "page.html"


WINDOWS_FILES = (
    (ROOT / "tests" / "data" / "windows-pyside6-files.txt").read_text(encoding="utf-8").split()
)


def test_a_real_windows_build_keeps_what_the_window_needs() -> None:
    # The files PyInstaller collected for Windows (packaging/wine/windows-build-under-wine.sh)
    kept = {name for name in WINDOWS_FILES if spec_support.excluded_reason(name) is None}
    for needed in (
        "PySide6/Qt6Core.dll",
        "PySide6/Qt6Gui.dll",
        "PySide6/Qt6Widgets.dll",
        "PySide6/Qt6Network.dll",  # QLocalServer: the single-instance socket
        "PySide6/Qt6Svg.dll",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/plugins/platforms/qoffscreen.dll",  # the smoke test
        "PySide6/plugins/styles/qmodernwindowsstyle.dll",
        "PySide6/plugins/iconengines/qsvgicon.dll",
        "PySide6/plugins/imageformats/qsvg.dll",
        "PySide6/VCRUNTIME140.dll",
        "shiboken6/shiboken6.abi3.dll",
    ):
        assert needed in kept, needed


def test_a_real_windows_build_leaves_out_what_the_linux_one_does() -> None:
    dropped = {name for name in WINDOWS_FILES if spec_support.excluded_reason(name)}
    assert "PySide6/opengl32sw.dll" in dropped
    assert "PySide6/plugins/tls/qschannelbackend.dll" in dropped
    assert "PySide6/plugins/platforms/qdirect2d.dll" in dropped
    assert sum(name.startswith("PySide6/translations/") for name in dropped) > 90
    assert {name.rsplit("/", 1)[1] for name in dropped if "imageformats" in name} == {
        "qgif.dll", "qicns.dll", "qico.dll", "qjpeg.dll", "qtga.dll", "qtiff.dll",
        "qwbmp.dll", "qwebp.dll",
    }  # fmt: skip


MACOS_FILES = (
    (ROOT / "tests" / "data" / "macos-pyside6-plugins.txt").read_text(encoding="utf-8").split()
)


def test_the_macos_wheel_keeps_only_what_the_window_needs() -> None:
    # The plugins and translations of PySide6-Essentials' macOS wheel (6.11.3, universal2)
    kept = sorted(name for name in MACOS_FILES if spec_support.excluded_reason(name) is None)
    assert kept == [
        "PySide6/Qt/plugins/iconengines/libqsvgicon.dylib",
        "PySide6/Qt/plugins/imageformats/libqsvg.dylib",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "PySide6/Qt/plugins/platforms/libqoffscreen.dylib",  # the smoke test
        "PySide6/Qt/plugins/styles/libqmacstyle.dylib",
    ]
    assert len(MACOS_FILES) > 200
