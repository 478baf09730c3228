"""The change stamp: who wrote it last, private, and never a hang (decision 0025)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kit_desktop.auth.change_stamp import ChangeStamp, stamp_beside


def test_a_stamp_is_private_holds_no_secret_and_knows_its_writer(tmp_path: Path) -> None:
    stamp = stamp_beside(tmp_path / "locks" / "refresh-0000abcd.lock")
    assert stamp.path.name == "refresh-0000abcd.changed"
    stamp.touch()
    assert stat.S_IMODE(stamp.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(stamp.path.parent.stat().st_mode) == 0o700
    assert stamp.written_by_us()
    writer, counter = stamp.path.read_text(encoding="utf-8").strip().split(":")
    assert len(writer) == 16 and counter.isdigit()


def test_another_process_writing_is_seen_as_another(tmp_path: Path) -> None:
    stamp = ChangeStamp(tmp_path / "changed")
    stamp.touch()
    code = (
        "from pathlib import Path; from kit_desktop.auth.change_stamp import ChangeStamp; "
        f"ChangeStamp(Path({str(stamp.path)!r})).touch()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert not stamp.written_by_us()
    stamp.touch()
    assert stamp.written_by_us()


@pytest.mark.skipif(sys.platform == "win32", reason="pipes at file paths are POSIX")
def test_a_pipe_planted_at_the_path_never_hangs(tmp_path: Path) -> None:
    stamp = ChangeStamp(tmp_path / "changed")
    os.mkfifo(stamp.path, 0o600)
    stamp.touch()  # refused (not a regular file), not blocked
    assert not stamp.written_by_us()
    assert stamp.ensure()
