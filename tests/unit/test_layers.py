"""The core never imports Qt: every core module loads in a fresh interpreter without PySide6."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import kit_desktop

CORE_PACKAGES = ("auth", "api", "sandbox")
CORE_MODULES = (
    "cli",
    "config",
    "connection",
    "errors",
    "http",
    "log",
    "paths",
    "services",
    "status",
)


def core_modules() -> list[str]:
    root = Path(kit_desktop.__file__).parent
    names = [f"kit_desktop.{name}" for name in CORE_MODULES]
    for package in CORE_PACKAGES:
        if (root / package).is_dir():
            names.append(f"kit_desktop.{package}")
            names += [
                f"kit_desktop.{package}.{info.name}"
                for info in pkgutil.iter_modules([str(root / package)])
                if info.name != "__main__"
            ]
    return names


def test_core_modules_do_not_import_pyside6() -> None:
    modules = core_modules()
    assert "kit_desktop.sandbox.server" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith('PySide6'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
