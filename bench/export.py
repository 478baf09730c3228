"""Export 10,000, 50,000 and 100,000 subscribers to CSV from a seeded sandbox; time and memory.

Headless: the core export (``kit_desktop.api.export.export_list``) against a real sandbox
over HTTP, one sandbox per size, all in one run. For each size it prints the seconds taken,
the Python heap's peak during the export (tracemalloc) and the process's peak RSS, so a
memory that stays flat as the count grows shows at a glance. The baseline, measured in the
same run on the same sandbox, is the loop a script author would write instead: ``requests``
walking the ``after`` cursor and ``csv.DictWriter`` writing each page (no retries, no
429 handling, no formula escaping).

    .venv/bin/python -m bench.export [--sizes 10000 50000 100000]
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from kit_desktop.api.client import KitApiClient
from kit_desktop.api.export import export_list
from kit_desktop.api.pipeline import ApiRequest
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings
from kit_desktop.sandbox import SandboxServer
from tests.helpers import flow


def _rss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    try:
        fields = Path("/proc/self/status").read_text().split("VmRSS:")[1].split()
        return int(fields[0]) / 1024
    except (OSError, IndexError, ValueError):
        return float("nan")


def measure(size: int, folder: Path) -> dict[str, float]:
    """Export ``size`` subscribers; return seconds, heap peak and RSS figures."""
    with SandboxServer(auto_approve=True, token_lifetime=7200, subscriber_count=size) as server:
        settings = Settings().with_sandbox(server.base_url)
        tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
        tokens.adopt(TokenSet.from_response(flow.connect(server.base_url), received_at=time.time()))
        client = KitApiClient(settings, tokens)
        request = ApiRequest("GET", "/v4/subscribers", (("status", "all"),))
        target = folder / f"subscribers-{size}.csv"
        rss_before = _current_rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        outcome = export_list(client, request, target)
        seconds = time.perf_counter() - started
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = _current_rss_mb()
        if not outcome.complete or outcome.written != size:
            raise SystemExit(f"export of {size} did not complete: {outcome.message}")
        return {
            "size": size,
            "seconds": seconds,
            "rows_per_s": size / seconds,
            "heap_peak_mb": heap_peak / 1e6,
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_after,
            "rss_peak_mb": _rss_mb(),
            "file_mb": target.stat().st_size / 1e6,
        }


def baseline(size: int, folder: Path) -> dict[str, float]:
    """The plain script: requests and csv.DictWriter over the same pages; time and heap."""
    import csv

    import requests

    with SandboxServer(auto_approve=True, token_lifetime=7200, subscriber_count=size) as server:
        token = flow.connect(server.base_url)["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        target = folder / f"baseline-{size}.csv"
        tracemalloc.start()
        started = time.perf_counter()
        written, after = 0, None
        with target.open("w", encoding="utf-8", newline="") as file:
            writer: csv.DictWriter[str] | None = None
            while True:
                params = {
                    "status": "all",
                    "per_page": "1000",
                    **({"after": after} if after else {}),
                }
                page = session.get(f"{server.base_url}/v4/subscribers", params=params, timeout=30)
                page.raise_for_status()
                body = page.json()
                for row in body["subscribers"]:
                    flat = {k: v for k, v in row.items() if k != "fields"} | row.get("fields", {})
                    if writer is None:
                        writer = csv.DictWriter(file, list(flat), extrasaction="ignore")
                        writer.writeheader()
                    writer.writerow(flat)
                    written += 1
                pagination = body["pagination"]
                if not pagination["has_next_page"]:
                    break
                after = pagination["end_cursor"]
        seconds = time.perf_counter() - started
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if written != size:
            raise SystemExit(f"baseline wrote {written} of {size}")
        return {"seconds": seconds, "heap_peak_mb": heap_peak / 1e6}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sizes in order (smallest first, so a growing RSS peak would show)."""
    parser = argparse.ArgumentParser(prog="python -m bench.export")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    args = parser.parse_args(argv)
    print(f"{platform.node()} {platform.platform()} Python {platform.python_version()}")
    print(
        f"{'subscribers':>11} {'seconds':>8} {'rows/s':>8} {'heap peak MB':>13} "
        f"{'RSS before':>10} {'RSS after':>9} {'RSS peak':>8} {'file MB':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            r = measure(size, Path(folder))
            print(
                f"{size:>11,} {r['seconds']:>8.2f} {r['rows_per_s']:>8,.0f} "
                f"{r['heap_peak_mb']:>13.2f} {r['rss_before_mb']:>10.1f} "
                f"{r['rss_after_mb']:>9.1f} {r['rss_peak_mb']:>8.1f} {r['file_mb']:>8.2f}",
                flush=True,
            )
            b = baseline(size, Path(folder))
            print(
                f"{'baseline':>11} {b['seconds']:>8.2f} {size / b['seconds']:>8,.0f} "
                f"{b['heap_peak_mb']:>13.2f}  (requests + csv.DictWriter, same sandbox)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
