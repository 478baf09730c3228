"""Start-up time, idle memory and size of Kit Desktop against a bare PySide6 window.

    .venv/bin/python -m bench.startup [--runs 11] [--settle-ms 2000] [--no-build]

Builds the app and the baseline (bench/bare_window.py) with the same spec and the same
build environment (.venv-dist, see `make dist`), one-folder and one-file, then runs each
of the six variants (source, one-folder, one-file; app and baseline) ``--runs`` times,
interleaved, after one warm-up each. Every run starts in a fresh HOME with the offscreen
platform and ``KIT_STARTUP_PROBE``: the time is from just before the process is started
to its "painted" line; the memory is the process's peak resident set (VmHWM) once it has
sat idle for ``--settle-ms``. The app runs as `make run` would start it with no client
ID: the built-in sandbox, started after the first paint. Results go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import write_section

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
PYINSTALLER = ROOT / ".venv-dist" / "bin" / "pyinstaller"
TARGET_TIME, TARGET_MEMORY, TARGET_SIZE = 1.2, 1.25, 1.15
HEADING = "## Start-up, memory and size (bench/startup.py)"


@dataclass
class Variant:
    """One way of starting one program, and what its runs measured."""

    name: str
    command: list[str]
    paint_ms: list[float] = field(default_factory=list)
    hwm_mib: list[float] = field(default_factory=list)


def build(entry: str, name: str, mode: str) -> Path:
    """Freeze ``entry`` with packaging/kit_desktop.spec; return the executable."""
    dist = BUILD / "dist" / mode
    env = {**os.environ, "PYINSTALLER_CONFIG_DIR": str(ROOT / ".pyi-cache")}
    command = [str(PYINSTALLER), "--noconfirm", "--log-level", "WARN"]
    command += ["--distpath", str(dist), "--workpath", str(BUILD / "work" / f"{name}-{mode}")]
    command += [str(ROOT / "packaging" / "kit_desktop.spec"), "--"]
    command += ["--mode", mode, "--entry", entry, "--name", name]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return dist / name / name if mode == "onedir" else dist / name


def run_once(variant: Variant, settle_ms: int) -> tuple[float, float]:
    """Start ``variant`` once; return (ms to the first paint, peak MiB when idle)."""
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as home:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KIT_", "QT_", "XDG_")) and key != "DISPLAY"
        }
        env.update(HOME=home, QT_QPA_PLATFORM="offscreen", KIT_STARTUP_PROBE=str(settle_ms))
        started = time.perf_counter()
        process = subprocess.Popen(
            variant.command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        painted = process.stdout.readline()
        paint_ms = (time.perf_counter() - started) * 1000
        idle = process.stdout.readline()
        process.wait(timeout=60)
    if not painted.startswith("kit-probe painted") or "hwm_kib=" not in idle:
        raise RuntimeError(f"{variant.name}: no probe output ({painted!r}, {idle!r})")
    if "deferred=ok" not in painted:
        raise RuntimeError(f"{variant.name}: loaded before the first paint: {painted.strip()}")
    fields = dict(part.split("=") for part in idle.split()[2:])
    return paint_ms, int(fields["hwm_kib"]) / 1024


def folder_bytes(folder: Path) -> int:
    """Return the size of every file under ``folder``."""
    files = (path for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
    return sum(path.stat().st_size for path in files)


def spread(values: list[float]) -> str:
    """Return 'median (min-max)' with one decimal."""
    return f"{statistics.median(values):.1f} ({min(values):.1f} to {max(values):.1f})"


def ratio_row(label: str, app: float, bare: float, target: float, unit: str) -> str:
    """Return one table row comparing the app with the baseline."""
    ratio = app / bare
    verdict = "within target" if ratio <= target else "over target"
    return (
        f"| {label} | {app:.1f} {unit} | {bare:.1f} {unit} | {ratio:.3f}x | ≤{target}x: {verdict} |"
    )


def main() -> None:
    """Build, measure and write the section of docs/benchmarks.md."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=15)
    options.add_argument("--settle-ms", type=int, default=2000)
    options.add_argument("--no-build", action="store_true", help="reuse build/bench")
    args = options.parse_args()
    if args.runs < 9:
        options.error("--runs must be at least 9")

    executables: dict[tuple[str, str], Path] = {}
    for name, entry in (("kit-desktop", "main.py"), ("bare-window", "bench/bare_window.py")):
        for mode in ("onedir", "onefile"):
            dist = BUILD / "dist" / mode
            path = dist / name / name if mode == "onedir" else dist / name
            if not args.no_build or not path.exists():
                print(f"building {name} ({mode})", flush=True)
                path = build(entry, name, mode)
            executables[name, mode] = path

    python = sys.executable
    pairs = [
        ("source", [python, "main.py"], [python, "bench/bare_window.py"]),
        (
            "one-folder",
            [str(executables["kit-desktop", "onedir"])],
            [str(executables["bare-window", "onedir"])],
        ),
        (
            "one-file",
            [str(executables["kit-desktop", "onefile"])],
            [str(executables["bare-window", "onefile"])],
        ),
    ]
    measured: list[tuple[str, Variant, Variant]] = []
    for label, app_command, bare_command in pairs:
        app, bare = Variant(f"app {label}", app_command), Variant(f"bare {label}", bare_command)
        for variant in (app, bare):
            run_once(variant, 200)  # warm-up: page cache, font cache
        for _ in range(args.runs):
            for variant in (app, bare):
                paint_ms, hwm = run_once(variant, args.settle_ms)
                variant.paint_ms.append(paint_ms)
                variant.hwm_mib.append(hwm)
        print(
            f"{label}: app {spread(app.paint_ms)} ms, bare {spread(bare.paint_ms)} ms", flush=True
        )
        measured.append((label, app, bare))

    onefile_app = executables["kit-desktop", "onefile"].stat().st_size / 2**20
    onefile_bare = executables["bare-window", "onefile"].stat().st_size / 2**20
    onedir_app = folder_bytes(executables["kit-desktop", "onedir"].parent) / 2**20
    onedir_bare = folder_bytes(executables["bare-window", "onedir"].parent) / 2**20

    lines = [
        HEADING,
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine ({os.cpu_count()} cores), "
        f"Qt offscreen, {args.runs} runs of each after a warm-up, app and baseline interleaved. "
        "Baseline: a bare PySide6 window (QApplication + QMainWindow + QLabel, "
        "bench/bare_window.py), frozen with the same spec and build environment. "
        "The app starts as `make run` does with no client ID (practice mode): the window "
        "paints first, then the sandbox, requests and keyring load. No Secret Service runs, "
        "so keyring settles on its fail backend.",
        "",
        "Median (min to max) of every run:",
        "",
        "| variant | app: ms to first paint | baseline: ms to first paint "
        "| app: peak MiB at idle | baseline: peak MiB at idle |",
        "|---|---|---|---|---|",
    ]
    for label, app, bare in measured:
        lines.append(
            f"| {label} | {spread(app.paint_ms)} | {spread(bare.paint_ms)} "
            f"| {spread(app.hwm_mib)} | {spread(bare.hwm_mib)} |"
        )
    lines += ["", "| measure | app | baseline | ratio | target |", "|---|---|---|---|---|"]
    metrics = (
        ("first paint", "paint_ms", TARGET_TIME, "ms"),
        ("peak memory at idle", "hwm_mib", TARGET_MEMORY, "MiB"),
    )
    for title, attribute, target, unit in metrics:
        for label, app, bare in measured:
            app_median = statistics.median(getattr(app, attribute))
            bare_median = statistics.median(getattr(bare, attribute))
            lines.append(ratio_row(f"{title}, {label}", app_median, bare_median, target, unit))
    lines.append(ratio_row("one-file size", onefile_app, onefile_bare, TARGET_SIZE, "MiB"))
    lines.append(
        f"| one-folder size | {onedir_app:.1f} MiB | {onedir_bare:.1f} MiB | "
        f"{onedir_app / onedir_bare:.3f}x | (reported) |"
    )
    section = "\n".join(lines) + "\n"
    print(section)
    write_section(ROOT / "docs" / "benchmarks.md", HEADING, section)


if __name__ == "__main__":
    main()
