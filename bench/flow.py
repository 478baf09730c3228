"""Benchmark: a complete headless connect against the in-process sandbox, 50 runs.

Each run: new PKCE values and state, a loopback receiver bound on an ephemeral port, the
authorization request (auto-approved) and the callback sent by a browser stand-in, the
code exchange, and the tokens stored. The baseline, measured in the same run, is the same
number of plain HTTP round trips (three) to the same sandbox, so the figure shows what the
flow adds over the network floor. Results go to docs/benchmarks.md.

Run: .venv/bin/python -m bench.flow [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

import requests

from bench.report import write_section as write_section  # re-exported for older scripts
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.pkce import new_state
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.config import Settings
from kit_desktop.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parent.parent
REDIRECT = ("http://127.0.0.1:0/callback",)


def _browser(url: str) -> None:
    """Follow the authorize redirect to the callback, stopping before /done."""
    with requests.Session() as session:
        to_callback = session.get(url, allow_redirects=False, timeout=10)
        session.get(to_callback.headers["Location"], allow_redirects=False, timeout=10)


def one_connect(client: OAuthClient, manager: TokenManager) -> float:
    """Run one connect and return its wall time in seconds."""
    started = time.perf_counter()
    state = new_state()
    with LoopbackReceiver(REDIRECT, state) as receiver:
        attempt = client.new_attempt(receiver.redirect_uri, state)
        browser = threading.Thread(target=_browser, args=(attempt.url,))
        browser.start()
        response = receiver.wait()
        tokens = client.exchange(response.code, attempt.verifier, receiver.redirect_uri)
        manager.adopt(tokens)
        elapsed = time.perf_counter() - started
        browser.join()
    return elapsed


def baseline(base_url: str) -> float:
    """Three plain GETs to the sandbox: the network floor of the flow's three hops."""
    started = time.perf_counter()
    for _ in range(3):
        requests.get(f"{base_url}/", timeout=10)
    return time.perf_counter() - started


def summary(samples: list[float]) -> str:
    """Median and spread in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[int(len(ms) * 0.9) - 1]
    return (
        f"median {statistics.median(ms):.1f} ms, min {ms[0]:.1f}, p90 {p90:.1f}, "
        f"max {ms[-1]:.1f} (n={len(ms)})"
    )


def main() -> None:
    """Measure and write the figures to docs/benchmarks.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    with SandboxServer(
        auto_approve=True, loopback_any_port=True, redirect_uris=["http://127.0.0.1:1/callback"]
    ) as sandbox:
        settings = Settings().with_sandbox(sandbox.base_url)
        client = OAuthClient(settings)
        manager = TokenManager(client, MemoryTokenStore())
        one_connect(client, manager)
        baseline(sandbox.base_url)
        flows, floors = [], []
        for _ in range(runs):
            floors.append(baseline(sandbox.base_url))
            flows.append(one_connect(client, manager))
    flow_line, floor_line = summary(flows), summary(floors)
    print(f"connect: {flow_line}\nbaseline (3 plain GETs): {floor_line}")
    section = (
        "## Headless connect (bench/flow.py)\n\n"
        f"Measured {time.strftime('%Y-%m-%d')} on this machine, {runs} runs, in-process sandbox, "
        "interleaved with the baseline.\n\n"
        "| what | result |\n|---|---|\n"
        f"| complete connect (PKCE, bind, authorize, callback, exchange, stored) | {flow_line} |\n"
        f"| baseline: 3 plain GET round trips to the same sandbox | {floor_line} |\n\n"
        "Target: a few tens of milliseconds at most.\n"
    )
    write_section(ROOT / "docs" / "benchmarks.md", "## Headless connect", section)


if __name__ == "__main__":
    main()
