"""Layers only run down, read from each module's path, with no hand-kept module lists.

::

    entry    app.py  cli.py  __main__.py     start the window or a command
      |
    gui/     the window's composition: builds session, panels, window
      |
    ui/      passive widgets                 (may use qt/ and the core)
      |
    qt/      Qt adapters: session, threads   (the core only)
      |
    sandbox/ practice Kit                    (the core only)
      |
    core     everything else: auth/, api/, config, errors, state, words…  (never Qt)

The sandbox sits beside the adapters: only the composition and the entry points may start
it (``Connection`` gets a ``PracticeKit`` instead of importing it). Every import counts,
including those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kit_desktop

PACKAGE = Path(kit_desktop.__file__).parent
ENTRY_POINTS = ("app", "cli", "__main__")
#: What each layer may import (besides itself).
MAY_IMPORT = {
    "core": {"core"},
    "sandbox": {"core", "sandbox"},
    "qt": {"core", "qt"},
    "ui": {"core", "qt", "ui"},
    "gui": {"core", "sandbox", "qt", "ui", "gui"},
    "entry": {"core", "sandbox", "qt", "ui", "gui", "entry"},
}
#: Modules allowed past 500 lines: word lists and sample data, not logic.
WORD_LISTS = {"kit_desktop.sandbox.data"}
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """``kit_desktop.<first part>...`` decides: a package's name, or an entry point's."""
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else ""
    if first in ENTRY_POINTS:
        return "entry"
    if first in {"sandbox", "qt", "ui", "gui"}:
        return first
    return "core"


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, module: str) -> set[str]:
    """Every ``kit_desktop`` module ``path`` imports, wherever the import statement is."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES}


def test_the_layers_are_found_from_paths() -> None:
    layers = {layer_of(name) for name in MODULES}
    assert layers == set(MAY_IMPORT)
    assert layer_of("kit_desktop.connection") == "core"
    assert layer_of("kit_desktop.gui.gui_app") == "gui"
    assert layer_of("kit_desktop.cli") == "entry"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_upward(module: str) -> None:
    layer = layer_of(module)
    upward = sorted(
        f"{target} ({layer_of(target)})"
        for target in imports_of(MODULES[module], module)
        if layer_of(target) not in MAY_IMPORT[layer]
    )
    assert upward == [], f"{module} ({layer}) imports upward"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The AST reading finds imports in functions, relative ones and TYPE_CHECKING ones."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from kit_desktop.ui.main_window import MainWindow\n"
        "def f():\n    import kit_desktop.sandbox.server\n"
        "from ..ui import badge\n"
    )
    found = imports_of(source, "kit_desktop.qt.probe")
    assert {"kit_desktop.ui.main_window", "kit_desktop.sandbox.server"} <= found
    assert "kit_desktop.ui.badge" in found


@pytest.mark.parametrize("module", sorted(set(MODULES) - WORD_LISTS))
def test_no_module_is_over_500_lines(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: is there a piece with its own name?"


def test_the_core_the_sandbox_and_the_command_line_never_load_qt() -> None:
    """Imported in a fresh interpreter: PySide6 must not be in ``sys.modules`` afterwards."""
    names = sorted(
        name
        for name in MODULES
        if layer_of(name) in {"core", "sandbox"} or name == "kit_desktop.cli"
        if not name.endswith("__main__")
    )
    assert "kit_desktop.sandbox.server" in names and "kit_desktop.words" in names
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith('PySide6'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
