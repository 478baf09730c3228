"""What the PyInstaller spec leaves out, and why; plus the platform files it writes.

Pure functions over PyInstaller's TOC tuples ``(dest_name, src_path, typecode)``, so
tests can check the rules without running a build. ``kit_desktop.spec`` imports this.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TocEntry = tuple[str, str, str]

#: Python modules never bundled, with the reason. (Only what the app does not import;
#: ``email`` stays because ``http.server`` and ``http.client`` need it.)
EXCLUDED_MODULES: dict[str, str] = {
    "tkinter": "the app's UI is Qt",
    "_tkinter": "the app's UI is Qt",
    "unittest": "tests are not shipped",
    "pydoc": "no interactive help in the app",
    "doctest": "tests are not shipped",
    "xmlrpc": "not used",
    "lib2to3": "not used",
    "sqlite3": "not used: tokens live in the OS keyring, settings in QSettings",
    "multiprocessing": "only ProcessPoolExecutor needs it; the app's workers are threads",
    "PySide6.QtDBus": "the app never imports it (keyring talks D-Bus through jeepney)",
    "PySide6.QtOpenGL": "widgets only, no OpenGL",
    "PySide6.QtOpenGLWidgets": "widgets only, no OpenGL",
    "PySide6.QtQml": "no QML",
    "PySide6.QtQuick": "no QML",
}

_QT = "PySide6/Qt/"
_WIN = "PySide6/"

#: Parts of Qt (and icon sources) left out: (glob on the bundled path, reason). Everything
#: else PyInstaller's PySide6 hooks collect is kept: the xcb and Wayland platforms,
#: offscreen (the smoke test), the SVG image and icon plugins, compose and IBus input,
#: and the XDG desktop portal theme (native file dialogs through D-Bus, no GTK).
BUNDLE_EXCLUSIONS: tuple[tuple[str, str], ...] = (
    (_QT + "translations/*", "the app ships in English only"),
    (_QT + "plugins/platforms/libqeglfs.so", "full-screen embedded platform"),
    (_QT + "plugins/platforms/libqlinuxfb.so", "framebuffer platform, not a desktop"),
    (_QT + "plugins/platforms/libqminimal*.so", "test platforms (offscreen is kept)"),
    (_QT + "plugins/platforms/libqvnc.so", "VNC server platform"),
    (_QT + "plugins/platforms/libqvkkhrdisplay.so", "Vulkan display platform"),
    (_QT + "plugins/egldeviceintegrations/*", "only for the eglfs platform"),
    (_QT + "lib/libQt6EglF[Ss]*", "only for the eglfs platform"),
    (_QT + "plugins/generic/*", "evdev input, only for eglfs and linuxfb"),
    (_QT + "plugins/platformthemes/libqgtk3.so", "pulls in the whole GTK 3 stack (~20 MB)"),
    (_QT + "plugins/xcbglintegrations/*", "widgets only, no OpenGL"),
    (_QT + "plugins/wayland-graphics-integration-client/*", "widgets only, no OpenGL"),
    (_QT + "plugins/wayland-graphics-integration-server/*", "compositor side, not a client"),
    (_QT + "plugins/wayland-shell-integration/libfullscreen-shell-v1.so", "kiosk shells"),
    (_QT + "plugins/wayland-shell-integration/libivi-shell.so", "in-vehicle shell"),
    (_QT + "plugins/wayland-shell-integration/libqt-shell.so", "Qt's own compositor"),
    (_QT + "plugins/wayland-shell-integration/libwl-shell-plugin.so", "obsolete wl_shell"),
    (_QT + "lib/libQt6WlShellIntegration*", "only for the wl-shell plugin"),
    (_QT + "plugins/imageformats/libq[!s]*.so", "no images but PNG (built in) and SVG"),
    # macOS keeps Linux's layout under PySide6/Qt/ with .dylib plugins (the wheel's plugin
    # and translation files are in tests/data/macos-pyside6-plugins.txt).
    (_QT + "plugins/imageformats/libq[!s]*.dylib", "no images but PNG (built in) and SVG"),
    (_QT + "plugins/platforms/libqminimal.dylib", "test platform (offscreen is kept)"),
    (_QT + "plugins/vectorimageformats/*", "no Lottie animations"),
    (_QT + "plugins/networkinformation/*", "Qt networking is not used"),
    (_QT + "plugins/tls/*", "HTTPS goes through requests and Python's ssl"),
    (_QT + "plugins/printsupport/*", "nothing is printed"),
    (_QT + "plugins/platforminputcontexts/libqtvirtualkeyboard*", "needs Qt Quick"),
    (_QT + "plugins/sqldrivers/*", "no SQL"),
    (_QT + "plugins/qml*/*", "no QML"),
    (_QT + "plugins/designer/*", "Qt Designer plugins"),
    (_QT + "qml/*", "no QML"),
    # The Windows wheel lays Qt out under PySide6/ itself, with .dll plugins (the files of a
    # real Windows build are in tests/data/windows-pyside6-files.txt).
    (_WIN + "translations/*", "the app ships in English only"),
    (_WIN + "opengl32sw.dll", "software OpenGL (20 MB): widgets only, no OpenGL"),
    (_WIN + "plugins/platforms/qminimal.dll", "test platform (offscreen is kept)"),
    (_WIN + "plugins/platforms/qdirect2d.dll", "an alternative to qwindows, which is used"),
    (_WIN + "plugins/generic/*", "TUIO touch input over the network"),
    (_WIN + "plugins/imageformats/q[!s]*.dll", "no images but PNG (built in) and SVG"),
    (_WIN + "plugins/networkinformation/*", "Qt networking is not used"),
    (_WIN + "plugins/tls/*", "HTTPS goes through requests and Python's ssl"),
    ("resources/icons/*.ico", "built into the Windows executable, never read at run time"),
    ("resources/icons/*.icns", "built into the macOS bundle, never read at run time"),
    ("resources/icons/*.svg", "the source of the icons; the window uses the PNG"),
)


def excluded_reason(dest: str) -> str | None:
    """Return why ``dest`` (a bundled path) is left out, or None to keep it."""
    normal = dest.replace("\\", "/")
    for pattern, reason in BUNDLE_EXCLUSIONS:
        if fnmatch.fnmatchcase(normal, pattern):
            return reason
    return None


def drop_excluded(toc: Iterable[TocEntry]) -> tuple[list[TocEntry], list[TocEntry]]:
    """Split ``toc`` into (kept, dropped) by :data:`BUNDLE_EXCLUSIONS`."""
    kept: list[TocEntry] = []
    dropped: list[TocEntry] = []
    for entry in toc:
        (dropped if excluded_reason(entry[0]) else kept).append(entry)
    return kept, dropped


_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")


def elf_needed(path: str) -> list[str]:
    """Return the DT_NEEDED names of one ELF file (``readelf -d``; [] if not ELF)."""
    done = subprocess.run(  # noqa: S603 - fixed tool, path from the build's own TOC
        ["readelf", "-d", path],  # noqa: S607 - binutils is required by PyInstaller on Linux
        capture_output=True,
        text=True,
        check=False,
    )
    return _NEEDED.findall(done.stdout) if done.returncode == 0 else []


def _prunable(entry: TocEntry) -> bool:
    """Whether ``entry`` is a shared library kept only because something links to it.

    Python extension modules (typecode ``EXTENSION``, for example ``_cffi_backend``) are
    imported, never linked, so they are always roots.
    """
    dest, _, kind = entry
    normal = dest.replace("\\", "/")
    if kind != "BINARY" or Path(normal).name.startswith("libpython"):
        return False
    return "/" not in normal or normal.startswith(_QT + "lib/")


def prune_unreachable(
    binaries: Sequence[TocEntry], needed: Callable[[str], list[str]] = elf_needed
) -> tuple[list[TocEntry], list[TocEntry]]:
    """Drop top-level shared libraries no kept binary links to any more (Linux).

    PyInstaller resolved every dependency before the exclusions, so libraries only the
    dropped plugins needed (GTK, EGL device support...) are still listed. Roots are the
    Python library, extension modules and Qt plugins; a top-level library or a Qt
    library stays only if a root reaches it through DT_NEEDED. Returns (kept, dropped).
    """
    top_level = {Path(entry[0]).name: entry for entry in binaries if _prunable(entry)}
    roots = [entry for entry in binaries if not _prunable(entry)]
    reached: set[str] = set()
    pending = [src for _, src, _ in roots]
    while pending:
        for name in needed(pending.pop()):
            if name in top_level and name not in reached:
                reached.add(name)
                pending.append(top_level[name][1])
    kept = [entry for entry in binaries if entry in roots or Path(entry[0]).name in reached]
    dropped = [entry for entry in binaries if entry not in kept]
    return kept, dropped


@dataclass(frozen=True)
class ProgramNames:
    """What a build's files are called.

    Attributes:
        program: The window's program, without ``.exe``.
        companion: The console companion (Windows), without ``.exe``.
        folder: The one-folder build's folder.
    """

    program: str
    companion: str
    folder: str


def program_names(platform: str, name: str | None = None) -> ProgramNames:
    """Return the build's names on ``platform`` (``sys.platform``); ``name`` overrides.

    A Windows creator meets the program by its file name in Explorer and in the zip, so
    there it is "Kit Desktop"; elsewhere it is ``kit-desktop``, like a command (the macOS
    bundle is "Kit Desktop.app" all the same).
    """
    program = name or ("Kit Desktop" if platform == "win32" else "kit-desktop")
    return ProgramNames(program=program, companion="kit-desktop-cli", folder=program)


def windows_version_info(
    version: str, name: str, description: str, filename: str = "Kit Desktop.exe"
) -> str:
    """Return a PyInstaller Windows version-resource file for ``version`` (e.g. 0.1.0)."""
    numbers = [int(part) for part in re.findall(r"\d+", version)[:4]]
    numbers += [0] * (4 - len(numbers))
    quad = tuple(numbers)
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={quad}, prodvers={quad}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', '{name}'),
      StringStruct('FileDescription', '{description}'),
      StringStruct('FileVersion', '{version}'),
      StringStruct('InternalName', 'kit-desktop'),
      StringStruct('OriginalFilename', '{filename}'),
      StringStruct('ProductName', '{name}'),
      StringStruct('ProductVersion', '{version}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


#: The oldest macOS the bundle runs on: PySide6-Essentials' macOS wheels are built for 13.0
#: (macosx_13_0_universal2 for 6.11), so Finder says "needs a newer macOS" on older ones.
MACOS_MINIMUM = "13.0"


def macos_info_plist(version: str, name: str) -> dict[str, object]:
    """Return the Info.plist keys of the macOS bundle."""
    return {
        "CFBundleName": name,
        "CFBundleDisplayName": name,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "LSMinimumSystemVersion": MACOS_MINIMUM,
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,
        "LSApplicationCategoryType": "public.app-category.productivity",
        "NSHumanReadableCopyright": f"{name} contributors",
    }
