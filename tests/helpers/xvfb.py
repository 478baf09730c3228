"""A real X server (Xvfb) for tests that need a real window, started and stopped by the test."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.helpers.realparts import require


def _free_display() -> int:
    for number in range(90, 140):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(
            f"/tmp/.X{number}-lock"
        ):
            return number
    raise RuntimeError("no free X display number between :90 and :139")


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """Start Xvfb on a free display and yield its name (``:N``)."""
    require(shutil.which("Xvfb") is not None, "Xvfb (apt-get install xvfb)")
    require(shutil.which("xdotool") is not None, "xdotool (apt-get install xdotool)")
    number = _free_display()
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not os.path.exists(f"/tmp/.X11-unix/X{number}"):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("Xvfb did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
