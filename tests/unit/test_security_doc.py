"""docs/security.md names a test for every catalogue case, and every named test exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
CATALOGUE_CASES = range(1, 78)
_ROW = re.compile(r"^\|\s*(\d+)\b[^|]*\|", re.MULTILINE)
_TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)(?:\[[^\]]*\])?`")


def test_every_catalogue_case_has_a_row() -> None:
    text = DOC.read_text(encoding="utf-8")
    numbers = {int(match.group(1)) for match in _ROW.finditer(text)}
    assert set(CATALOGUE_CASES) <= numbers, sorted(set(CATALOGUE_CASES) - numbers)


def test_every_named_test_exists_and_is_numbered_after_its_case() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = _TEST.findall(text)
    assert len(named) >= 77
    for path, name in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"def {name}\(", source), f"{path}::{name} is not defined"
    for row in text.splitlines():
        match = _ROW.match(row)
        if match is None:
            continue
        number = int(match.group(1))
        tests = [name for _, name in _TEST.findall(row)]
        assert all(name.startswith(f"test_c{number:02d}") for name in tests), row[:120]
