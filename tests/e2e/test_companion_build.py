"""The Windows build's two programs over one folder, built for real on this machine.

On Windows the spec builds "Kit Desktop.exe" (window subsystem) and kit-desktop-cli.exe
(console subsystem) into one COLLECT. Only Windows can show the subsystems differ, but the
spec's two-program branch is the same PyInstaller code everywhere: here it is built with
--console-companion and both programs must start from the shared files.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kit_desktop import __version__
from tests.helpers.frozen_build import DIST_PYTHON, ROOT
from tests.helpers.realparts import require


def test_the_spec_builds_a_companion_that_shares_the_programs_files(tmp_path: Path) -> None:
    require(DIST_PYTHON.exists(), "the build environment (make dist-onedir)")
    env = dict(os.environ, PYINSTALLER_CONFIG_DIR=str(ROOT / ".pyi-cache"))
    built = subprocess.run(
        [
            str(DIST_PYTHON),
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(tmp_path / "dist"),
            "--workpath",
            str(tmp_path / "work"),
            str(ROOT / "packaging" / "kit_desktop.spec"),
            "--",
            "--mode",
            "onedir",
            "--console-companion",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert "WARNING" not in built.stderr, built.stderr
    folder = tmp_path / "dist" / "kit-desktop"
    assert sorted(path.name for path in folder.iterdir()) == [
        "_internal",
        "kit-desktop",
        "kit-desktop-cli",
    ]
    for program in ("kit-desktop", "kit-desktop-cli"):
        done = subprocess.run(
            [str(folder / program), "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"Kit Desktop {__version__}"
