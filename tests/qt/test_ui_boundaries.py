"""The widgets stay passive: no imports of the core's I/O layers from ``kit_desktop.ui``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kit_desktop.ui

UI_DIR = Path(kit_desktop.ui.__file__).parent
FORBIDDEN = ("kit_desktop.auth", "kit_desktop.api", "kit_desktop.sandbox", "requests", "keyring")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(UI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_ui_module_imports_no_io_layer(path: Path) -> None:
    bad = {
        name
        for name in imported_modules(path)
        for prefix in FORBIDDEN
        if name == prefix or name.startswith(prefix + ".")
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"
