r"""The command line, whole process: `connect` against google-auth-oauthlib, `status`, `--help`.

    .venv/bin/python -m bench.cli [--runs 20] [--import-runs 5] [--commit REV]
        [--quiet-load LOAD] [--write]

``--commit REV`` measures the app as committed (``git archive`` to a temporary folder; the
repository is only read) instead of the working tree, for a before/after comparison while
others are editing the tree. ``--quiet-load`` first waits for a quieter machine.

What one round measures, from just before the process is started to its exit:

- **app**: ``python main.py connect`` against a standalone sandbox
  (``python -m kit_desktop.sandbox --auto-approve --loopback-any-port``), configured with
  ``KIT_*`` variables (direct route, ephemeral loopback port), tokens saved in a real
  Secret Service (gnome-keyring, checked: ``status`` must say "Saved in: GNOME Keyring").
- **anchor**: the same sign-in by google-auth-oauthlib's ``InstalledAppFlow.run_local_server``
  (this file run with ``--as-anchor``) against the same sandbox with the same PKCE (S256, a
  verifier from 64 random bytes), then what the app's ``connect`` also does: the token saved
  (to a 0600 file, as the library's quickstarts do) and the account asked for, so it can
  say who is connected.
- **status** (connected: keyring read and an account request) and **--help**.

Both programs open the "browser" through Python's ``webbrowser`` with the same ``BROWSER``
stand-in: this file run with ``--as-browser``, a stdlib-only process that follows the
redirects as a browser navigating would (the sandbox approves at once) and reads the last
page. App and anchor take turns (the order flips every round); after each round the app
disconnects and the anchor's token file is removed, untimed, so every connect starts from
"not connected" (no replaced tokens to revoke). One round is a warm-up.

Then ``python -X importtime main.py status`` and ``... connect`` (``--import-runs`` each):
the median cumulative and self import times of kit_desktop and third-party modules, and
what each package costs with the standard-library modules it pulls in; and the anchor's
import total, for comparison.

Everything runs inside a private D-Bus session with an unlocked gnome-keyring, a throwaway
HOME and no DISPLAY (as tests/run-suite.sh does): the script starts that session itself,
so the user's own keyring is never touched. Python's bytecode cache goes to the throwaway
HOME (``PYTHONPYCACHEPREFIX``, ``PYTHONDONTWRITEBYTECODE`` unset), so every module of both
programs is compiled once, in the warm-up, and loaded as an installed copy loads it.
Needs ``dbus-run-session``, ``gnome-keyring-daemon`` and google-auth-oauthlib
(``pip install -e '.[bench]'``).

The output is a Markdown section for docs/benchmarks.md; ``--write`` puts it there.

This module doubles as the anchor program and the browser stand-in, so its top level
imports only ``os`` and ``sys``: what those roles cost is the same for both sides, and
kept small so that it does not blur the ratio.
"""

from __future__ import annotations

import os
import sys

HEADING = "## Command line, whole process (bench/cli.py)"
TARGET = 0.8  # connect at or below 0.8x the anchor (issue 14)
CLIENT_ID = "bench-cli"
KEYRING_PASSWORD = "kit-desktop-bench"
#: The anchor's token file, relative to the throwaway HOME.
ANCHOR_TOKEN = "anchor-token.json"
MAX_HOPS = 10


# --- the browser stand-in (its own process; stdlib only) ----------------------------------


def browse(url: str) -> int:
    """Follow ``url``'s redirects like a browser's navigation; return 0 on a final 200 page.

    One connection per hop with ``Connection: close``; each answer is read as far as its
    ``Content-Length`` and the connection closed at once, as a browser leaving the page.
    """
    import socket
    from urllib.parse import urljoin, urlsplit

    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # never hold the caller's pipes open
        os.dup2(quiet, fd)
    for _ in range(MAX_HOPS):
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname or ""
        port = parts.port or 80
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: bench-browser\r\n"
            "Accept: text/html\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n"
            "Connection: close\r\n\r\n"
        )
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.sendall(request.encode("ascii"))
            reader = sock.makefile("rb")
            status = int(reader.readline().split()[1])
            headers: dict[str, str] = {}
            while (line := reader.readline().rstrip(b"\r\n")) != b"":
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            length = headers.get("content-length")
            if length is not None:
                reader.read(int(length))
            else:
                reader.read()
        location = headers.get("location")
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return 0 if status == 200 else 1
    return 1


# --- the anchor: google-auth-oauthlib's InstalledAppFlow (its own process) ----------------


def anchor() -> int:
    """Sign in with InstalledAppFlow, save the token, print who is connected (as connect does).

    Reads the same ``KIT_*`` variables as the app, and ``BENCH_ANCHOR_TOKEN`` (the file).
    """
    import importlib
    import json
    import secrets

    # oauthlib refuses plain-http token endpoints; the sandbox is on 127.0.0.1.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    flow_module = importlib.import_module("google_auth_oauthlib.flow")
    env = os.environ
    config = {
        "installed": {
            "client_id": env["KIT_CLIENT_ID"],
            "client_secret": "",  # a public client: PKCE, no secret
            "auth_uri": env["KIT_AUTHORIZE_URL"],
            "token_uri": env["KIT_TOKEN_URL"],
        }
    }
    flow = flow_module.InstalledAppFlow.from_client_config(
        config,
        scopes=["public"],
        code_verifier=secrets.token_urlsafe(64),  # as kit_desktop.auth.pkce.new_verifier
        autogenerate_code_verifier=False,
    )
    credentials = flow.run_local_server(
        host="127.0.0.1",
        port=0,
        open_browser=True,
        authorization_prompt_message="{url}",
        success_message="Connected to Kit. You can close this tab.",
    )
    fd = os.open(env["BENCH_ANCHOR_TOKEN"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(credentials.to_json())
    answer = flow.authorized_session().get(f"{env['KIT_API_URL']}/v4/account", timeout=30)
    answer.raise_for_status()
    data = json.loads(answer.content)
    name = data.get("account", {}).get("name", "")
    email = data.get("user", {}).get("email", "")
    print(f"Connected to Kit as {name} ({email}).", flush=True)
    return 0


# --- the measurement ----------------------------------------------------------------------


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _wrap(argv: list[str]) -> int:
    """Re-run this benchmark inside a private D-Bus session with an unlocked gnome-keyring."""
    import shutil
    import subprocess
    import tempfile

    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            print(
                f"bench.cli needs {tool} (apt-get install -y dbus gnome-keyring)", file=sys.stderr
            )
            return 2
    with tempfile.TemporaryDirectory(prefix="kit-bench-cli-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "XDG_"))}
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "BROWSER"):
            env.pop(name, None)
        # Bytecode is cached, as an installed copy's is, but in the throwaway HOME: no
        # __pycache__ folders in the tree, none reused from it (others are editing it).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(
            PYTHONPYCACHEPREFIX=os.path.join(home, "pycache"),
            HOME=home,
            XDG_DATA_HOME=os.path.join(home, "data"),
            XDG_CONFIG_HOME=os.path.join(home, "config"),
            XDG_CACHE_HOME=os.path.join(home, "cache"),
            BENCH_KEYRING_PASSWORD=KEYRING_PASSWORD,
        )
        if "XDG_RUNTIME_DIR" in os.environ:
            env["XDG_RUNTIME_DIR"] = os.environ["XDG_RUNTIME_DIR"]
        script = (
            'printf %s "$BENCH_KEYRING_PASSWORD" '
            "| gnome-keyring-daemon --unlock --components=secrets >/dev/null"
            ' && exec "$0" -m bench.cli --in-session "$@"'
        )
        command = ["dbus-run-session", "--", "sh", "-c", script, sys.executable, *argv]
        return subprocess.run(command, cwd=_root(), env=env, check=False).returncode


class Bench:
    """The sandbox, the environment both programs share, and the timed runs."""

    def __init__(self, app_root: str) -> None:
        import shlex
        import subprocess

        self.root = app_root
        self.python = sys.executable
        self.home = os.environ["HOME"]
        self.sandbox = subprocess.Popen(
            [
                *(self.python, "-m", "kit_desktop.sandbox", "--port", "0", "--auto-approve"),
                *("--loopback-any-port", "--client-id", CLIENT_ID),
                *("--redirect-uri", "http://127.0.0.1:1/callback"),  # the app's path
                *("--redirect-uri", "http://127.0.0.1:1/"),  # InstalledAppFlow's path
            ],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.sandbox.stdout is not None
        base = self.sandbox.stdout.readline().strip().rstrip("/")
        if not base.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the sandbox did not start (first line: {base!r})")
        self.base = base
        me = os.path.abspath(__file__)
        browser = f"{shlex.quote(self.python)} -I -S {shlex.quote(me)} --as-browser %s &"
        if os.pathsep in browser:  # webbrowser splits BROWSER on os.pathsep
            raise SystemExit(f"BROWSER would contain {os.pathsep!r}: {browser}")
        from pathlib import Path

        from tests.helpers.kit_env import kit_environment

        self.env = {
            **kit_environment(base, CLIENT_ID, Path(self.home)),
            "BROWSER": browser,
            "BENCH_ANCHOR_TOKEN": os.path.join(self.home, ANCHOR_TOKEN),
        }
        self.commands = {
            "app": [self.python, "main.py", "connect"],
            "anchor": [self.python, me, "--as-anchor"],
            "status": [self.python, "main.py", "status"],
            "help": [self.python, "main.py", "--help"],
        }

    def close(self) -> None:
        self.sandbox.terminate()
        self.sandbox.wait(10)

    def run(self, command: list[str], expect: str = "") -> tuple[float, str, str]:
        """Run ``command`` to its end; return (seconds, stdout, stderr). Fails loudly."""
        import subprocess
        import time

        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0 or expect not in done.stdout:
            raise SystemExit(
                f"{' '.join(command)} exited {done.returncode}; expected {expect!r}\n"
                f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}"
            )
        return elapsed, done.stdout, done.stderr

    def timed(self, name: str) -> float:
        expect = {
            "app": "Connected to Kit as",
            "anchor": "Connected to Kit as",
            "status": "Saved in: GNOME Keyring",  # a real Secret Service, not memory
            "help": "usage:",
        }[name]
        return self.run(self.commands[name], expect)[0]

    def reset(self, app: bool = True) -> None:
        """Back to "not connected" on both sides (untimed); ``app``: it was connected."""
        self.run([self.python, "main.py", "disconnect"], "isconnected" if app else "")
        token = self.env["BENCH_ANCHOR_TOKEN"]
        if os.path.exists(token):
            os.remove(token)

    def rounds(self, runs: int) -> dict[str, list[float]]:
        """Warm up once, then ``runs`` rounds, app and anchor taking turns to go first."""
        times: dict[str, list[float]] = {name: [] for name in self.commands}
        for number in range(runs + 1):
            pair = ["app", "anchor"] if number % 2 == 0 else ["anchor", "app"]
            measured = {name: self.timed(name) for name in [*pair, "status", "help"]}
            self.reset()
            if number == 0:
                continue  # the warm-up
            for name, seconds in measured.items():
                times[name].append(seconds)
            print(
                f"round {number}/{runs}: "
                + ", ".join(f"{n} {s * 1000:.0f} ms" for n, s in measured.items()),
                file=sys.stderr,
                flush=True,
            )
        return times

    def import_times(self, command: str, runs: int) -> Imports:
        """``-X importtime`` of ``main.py <command>`` (or the anchor), ``runs`` times."""
        if command == "anchor":
            argv = [self.python, "-X", "importtime", self.commands["anchor"][1], "--as-anchor"]
        else:
            argv = [self.python, "-X", "importtime", "main.py", command]
        expect = "Saved in: GNOME Keyring" if command == "status" else "Connected to Kit as"
        imports = Imports()
        for _ in range(runs):
            if command == "status":
                self.run(self.commands["app"], "Connected to Kit as")
            imports.add(self.run(argv, expect)[2])
            self.reset(app=command != "anchor")
        return imports


class Imports:
    """``-X importtime`` reports of several runs of one command, summed up by median."""

    def __init__(self) -> None:
        self.modules: dict[str, list[tuple[float, float]]] = {}  # (cumulative, self) ms
        self.owners: list[dict[str, float]] = []  # per run: self ms by owning package
        self.totals: list[float] = []

    def add(self, stderr: str) -> None:
        """Read one run's report (the lines come children first, nested by indentation)."""
        rows = []
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            own_us, total_us, raw = line[len("import time:") :].split("|")
            name = raw.strip()
            depth = (len(raw) - len(raw.lstrip(" ")) - 1) // 2
            rows.append((name, depth, int(own_us) / 1000, int(total_us) / 1000))
            self.modules.setdefault(name, []).append((int(total_us) / 1000, int(own_us) / 1000))
        # Each module's self time goes to its package; a standard-library module's goes to
        # the package whose import first pulled it in (the nearest such ancestor).
        owners: dict[str, float] = {}
        stack: list[tuple[int, str]] = []
        for name, depth, own, _ in reversed(rows):  # parents before their children
            while stack and stack[-1][0] >= depth:
                stack.pop()
            if _not_stdlib(name):
                owner = _group(name)
            else:
                owner = stack[-1][1] if stack else "(standard library: start-up, run time)"
            owners[owner] = owners.get(owner, 0.0) + own
            stack.append((depth, owner))
        self.owners.append(owners)
        self.totals.append(sum(own for _, _, own, _ in rows))

    @property
    def total(self) -> float:
        """Median milliseconds of all imports (self times summed)."""
        import statistics

        return statistics.median(self.totals)

    def table(self, top: int = 10) -> str:
        """Markdown: the top modules by cumulative time, and the cost of each package."""
        import statistics

        ours = {
            name: (
                statistics.median(t for t, _ in values),
                statistics.median(s for _, s in values),
            )
            for name, values in self.modules.items()
            if _not_stdlib(name)
        }
        rows = sorted(ours.items(), key=lambda item: -item[1][0])[:top]
        lines = [
            f"All imports: {self.total:.0f} ms (self times summed; `-X importtime` adds a "
            "little of its own).\n",
            f"The {top} kit_desktop and third-party modules with the largest cumulative time:\n",
            "| module | cumulative ms | self ms |",
            "|---|---|---|",
        ]
        lines += [f"| `{name}` | {total:.1f} | {own:.1f} |" for name, (total, own) in rows]
        packages = {name for owners in self.owners for name in owners}
        costs = {
            name: statistics.median(owners.get(name, 0.0) for owners in self.owners)
            for name in packages
        }
        ranked = sorted(costs.items(), key=lambda item: -item[1])[: top + 2]
        lines += [
            "",
            "What each package costs: its own modules' self time plus the standard-library "
            "modules it was first to import:\n",
            "| package | ms |",
            "|---|---|",
        ]
        lines += [f"| `{name}` | {ms:.1f} |" for name, ms in ranked]
        return "\n".join(lines) + "\n"


def _spread(values: list[float]) -> str:
    """``median ms (Q1, Q3; min, max; n)``."""
    import statistics

    ms = [v * 1000 for v in values]
    q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive")
    return (
        f"{statistics.median(ms):.0f} ms (Q1 {q1:.0f}, Q3 {q3:.0f}; "
        f"min {min(ms):.0f}, max {max(ms):.0f}; n={len(ms)})"
    )


def _not_stdlib(name: str) -> bool:
    top = name.split(".")[0]
    return top == "kit_desktop" or not (
        top in sys.stdlib_module_names
        or (top.startswith("_") and not top.startswith("__editable__"))
        or top == "encodings"
    )


def _group(name: str) -> str:
    """``kit_desktop.<package>`` for our modules, the distribution's top name for others."""
    parts = name.split(".")
    if parts[0] == "kit_desktop":
        return ".".join(parts[:2])
    if parts[0].startswith("__editable__"):
        return "(pip's editable-install finder, every start)"
    return parts[0]


def _git(*args: str) -> str:
    import subprocess

    done = subprocess.run(["git", *args], cwd=_root(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _export(commit: str, dest: str) -> str:
    """Write ``commit``'s files to ``dest`` (``git archive``; the repository is only read)."""
    import subprocess
    import tarfile

    os.makedirs(dest)
    with subprocess.Popen(
        ["git", "archive", "--format=tar", commit], cwd=_root(), stdout=subprocess.PIPE
    ) as git:
        assert git.stdout is not None
        with tarfile.open(fileobj=git.stdout, mode="r|") as tar:
            tar.extractall(dest, filter="data")
    if git.returncode != 0:
        raise SystemExit(f"git archive {commit} failed")
    return dest


def _tree(commit: str | None) -> str:
    """Which code the app ran: a commit, or the working tree (with its uncommitted files)."""
    if commit is not None:
        return f"commit {_git('rev-parse', '--short', commit)} (exported with `git archive`)"
    dirty = _git("status", "--porcelain", "--", "kit_desktop", "main.py").splitlines()
    tree = f"the working tree at commit {_git('rev-parse', '--short', 'HEAD')}"
    if dirty:
        tree += f" with {len(dirty)} uncommitted file(s) in `kit_desktop/` and `main.py`"
    return tree


def _machine() -> str:
    import platform
    from importlib import metadata

    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((ln.split(":", 1)[1].strip() for ln in handle if "model name" in ln), "")
    except OSError:
        pass
    versions = ", ".join(
        f"{dist} {metadata.version(dist)}"
        for dist in ("google-auth-oauthlib", "requests-oauthlib", "requests", "keyring")
    )
    return (
        f"{os.cpu_count()} cores ({cpu or platform.machine()}), Python "
        f"{platform.python_version()}, {versions}"
    )


def _wait_for_quiet(load: float, patience: float = 600.0) -> None:
    """Wait (at most ``patience`` seconds) until the 1-minute load average is below ``load``."""
    import time

    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= load and time.monotonic() < deadline:
        print(f"load average {os.getloadavg()[0]:.2f}: waiting", file=sys.stderr, flush=True)
        time.sleep(15)


def measure(runs: int, import_runs: int, commit: str | None) -> str:
    """Run everything; return the Markdown section."""
    import statistics
    import time

    started = time.strftime("%Y-%m-%d %H:%M %Z")
    load = os.getloadavg()[0]
    tree = _tree(commit)
    app_root = (
        _root() if commit is None else _export(commit, os.path.join(os.environ["HOME"], "app"))
    )
    bench = Bench(app_root)
    try:
        bench.run(bench.commands["app"], "Connected to Kit as")
        bench.timed("status")  # the tokens really are in the Secret Service
        bench.reset()
        times = bench.rounds(runs)
        status_imports = bench.import_times("status", import_runs)
        connect_imports = bench.import_times("connect", import_runs)
        anchor_imports = bench.import_times("anchor", import_runs)
    finally:
        bench.close()
    load_after = os.getloadavg()[0]
    app, anchor_ = statistics.median(times["app"]), statistics.median(times["anchor"])
    ratio = app / anchor_
    paired = statistics.median(a / b for a, b in zip(times["app"], times["anchor"], strict=True))
    verdict = "met" if ratio <= TARGET else "not met"
    return (
        f"{HEADING}\n\n"
        f"Measured {started} on this machine: {_machine()}. The app: {tree}. "
        f"1-minute load average {load:.2f} at the start and {load_after:.2f} at the end "
        f"(other work shares the cores). {runs} rounds after a "
        "warm-up; in each, app and anchor take turns to go first, then `status` and `--help`; "
        "whole-process wall time, from just before the process starts to its exit. Both sign "
        "in at a standalone sandbox (`--auto-approve --loopback-any-port`), open the browser "
        "through `webbrowser` with the same stand-in (a stdlib process that follows the "
        "redirects), use PKCE S256 with a 64-byte verifier, save the tokens (the app: GNOME "
        "Keyring over a private D-Bus session; the anchor: a 0600 JSON file), ask for the "
        "account and print who is connected. Every connect starts from not connected.\n\n"
        "| command | median (quartiles; range) |\n|---|---|\n"
        f"| app: `python main.py connect` | {_spread(times['app'])} |\n"
        "| anchor: google-auth-oauthlib `InstalledAppFlow.run_local_server`, token saved, "
        f"account asked | {_spread(times['anchor'])} |\n"
        f"| app: `python main.py status` (connected: keyring read, account asked) | "
        f"{_spread(times['status'])} |\n"
        f"| app: `python main.py --help` | {_spread(times['help'])} |\n\n"
        f"Ratio app/anchor for connect: **{ratio:.2f}x** (medians; the median of the "
        f"per-round ratios is {paired:.2f}x). Target: connect at or below {TARGET}x the "
        f"anchor: **{verdict}**.\n\n"
        f"### Imports of `python main.py status` (median of {import_runs} runs)\n\n"
        f"{status_imports.table()}\n"
        f"### Imports of `python main.py connect` (median of {import_runs} runs)\n\n"
        f"{connect_imports.table()}\n"
        f"For comparison, the anchor's imports: {anchor_imports.total:.0f} ms (median of "
        f"{import_runs} runs).\n\n"
        "Reproduce (starts its own D-Bus session, gnome-keyring and sandbox; needs "
        "`pip install -e '.[bench]'`):\n\n"
        f"    .venv/bin/python -m bench.cli --runs {runs} --import-runs {import_runs}"
        f"{'' if commit is None else ' --commit ' + commit} --write\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Dispatch: the browser stand-in, the anchor, or the benchmark (in its own session)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--as-browser"] and len(args) == 2:
        return browse(args[1])
    if args == ["--as-anchor"]:
        return anchor()
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench.cli",
        description="The command line, whole process, against google-auth-oauthlib.",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed rounds (default 20)")
    parser.add_argument(
        "--import-runs", type=int, default=5, help="-X importtime runs per command (default 5)"
    )
    parser.add_argument("--write", action="store_true", help="write into docs/benchmarks.md")
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="measure the app as committed at REV (exported with git archive to a temporary "
        "folder) instead of the working tree",
    )
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=None,
        metavar="LOAD",
        help="first wait (up to 10 minutes) for the 1-minute load average to fall below LOAD",
    )
    parser.add_argument("--in-session", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(args)
    if options.runs < 2 or options.import_runs < 1:
        parser.error("--runs must be at least 2 and --import-runs at least 1")
    if not options.in_session:
        return _wrap(args)
    if options.quiet_load is not None:
        _wait_for_quiet(options.quiet_load)
    section = measure(options.runs, options.import_runs, options.commit)
    print(section)
    if options.write:
        from pathlib import Path

        from bench.report import write_section

        write_section(Path(_root()) / "docs" / "benchmarks.md", HEADING, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
