"""The one-folder build `make test` makes before the suite (`make dist-onedir`)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dist" / "onedir" / "kit-desktop" / "kit-desktop"
#: The build environment: the runtime dependencies and PyInstaller (`make dist`).
DIST_PYTHON = ROOT / ".venv-dist" / "bin" / "python"
SOURCES = [ROOT / "main.py", *ROOT.joinpath("kit_desktop").rglob("*.py")]
SOURCES += [p for p in ROOT.joinpath("resources").rglob("*") if p.is_file()]


def fresh_onedir() -> Path:
    """Return the built program; fail (CI) or skip when it is missing or older than a source."""
    require(APP.exists(), "the one-folder build (make dist-onedir)")
    newest = max(SOURCES, key=lambda path: path.stat().st_mtime)
    require(
        newest.stat().st_mtime <= APP.stat().st_mtime,
        f"an up-to-date one-folder build ({newest.relative_to(ROOT)} is newer: make dist-onedir)",
    )
    return APP
