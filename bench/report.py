"""Writing benchmark results into docs/benchmarks.md (standard library only).

Kept apart from the benchmarks themselves so that importing it loads nothing else: the
memory benchmark must not pull in requests or the sandbox before it measures them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_section"]


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace (or append) the section starting with ``heading`` in ``path``."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
