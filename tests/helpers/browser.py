"""A real user in a real browser: headless Chromium, driven by Playwright, answering consent."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, get_args
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

Decision = Literal["allow", "deny", "none"]
DECISIONS: tuple[str, ...] = get_args(Decision)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container: Chromium refuses to start without it
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--no-proxy-server",  # loopback only: never route the sandbox through a proxy
    "--disable-dev-shm-usage",  # a container's /dev/shm is 64 MB (build.yml's Linux leg)
)
_CONSENT_FORM = 'form[action$="/oauth/authorize/decision"]'
#: The relay page's file name, wherever it is hosted (its script navigates on by itself).
RELAY_PAGE_NAME = "relay.html"

ENV_CHROMIUM = "KIT_TEST_CHROMIUM"
ENV_DECISION = "KIT_TEST_BROWSER_DECISION"
ENV_RESULT = "KIT_TEST_BROWSER_RESULT"


def chromium_path() -> str | None:
    """Return the Chromium to drive: ``$KIT_TEST_CHROMIUM``, Debian's, or one on ``PATH``.

    Note that ``tests/conftest.py`` clears every ``KIT_*`` variable at start-up, so the
    override only reaches code that runs outside pytest (such as the CLI worker).
    """
    override = os.environ.get(ENV_CHROMIUM)
    if override:
        return override if os.access(override, os.X_OK) else None
    if os.access(DEBIAN_CHROMIUM, os.X_OK):
        return DEBIAN_CHROMIUM
    return shutil.which("chromium")


def launch_headless(playwright: Playwright) -> Browser:
    """Start headless Chromium with the tests' flags (loopback only, no sandbox as root)."""
    return playwright.chromium.launch(
        executable_path=chromium_path(),
        headless=True,
        args=list(CHROMIUM_FLAGS),
        chromium_sandbox=False,
    )


@dataclass(frozen=True)
class FinalPage:
    """Where the browser ended up, and what the user saw there.

    Attributes:
        url: The page's URL (``chrome-error://chromewebdata/`` when loading failed).
        status: The HTTP status of the page's final response, or None (no response).
        text: The visible text of the page's body.
        title: The page's title.
    """

    url: str
    status: int | None
    text: str
    title: str

    def to_json(self) -> str:
        """Serialize to a JSON object."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: str) -> FinalPage:
        """Parse :meth:`to_json`'s output; raise RuntimeError on a worker's error record."""
        obj = json.loads(data)
        if "error" in obj:
            raise RuntimeError(f"the browser worker failed: {obj['error']}")
        status = obj["status"]
        return cls(
            url=str(obj["url"]),
            status=None if status is None else int(status),
            text=str(obj["text"]),
            title=str(obj["title"]),
        )


class BrowserUser:
    """A user with a fresh headless Chromium profile who visits URLs and answers consent.

    The browser starts in the constructor (about 1 s) and stops in :meth:`close`; use it as a
    context manager. Playwright's sync API is bound to the thread that starts it: create,
    use and close a ``BrowserUser`` in one thread. To run the browser while the test's main
    thread runs a Qt event loop, use :func:`open_in_thread`.

    Args:
        executable: The Chromium binary (default: :func:`chromium_path`).
    """

    def __init__(self, executable: str | None = None) -> None:
        path = executable or chromium_path()
        if path is None:
            raise RuntimeError("Chromium is not installed (apt-get install chromium)")
        self._thread_id = threading.get_ident()
        self._profile = tempfile.mkdtemp(prefix="kit-test-chromium-")
        self._playwright: Playwright | None = None
        self._context: BrowserContext | None = None
        try:
            self._playwright = sync_playwright().start()
            self._context = self._playwright.chromium.launch_persistent_context(
                self._profile,
                executable_path=path,
                headless=True,
                args=list(CHROMIUM_FLAGS),
                chromium_sandbox=False,
            )
        except BaseException:
            self.close()
            raise

    def visit_and_decide(
        self, url: str, decision: Decision = "allow", timeout: float = 15.0
    ) -> FinalPage:
        """Open ``url``; on the consent page click Allow or Deny; return where it ends.

        With ``"none"`` the page is only loaded. Otherwise, when the sandbox shows its consent
        page, the button ``#allow`` or ``#deny`` is clicked and the browser followed (through
        any redirects, e.g. the app's loopback receiver and its ``/done`` page) until a page
        that is not the consent page has loaded. A page that cannot load (nothing listening)
        ends on Chromium's error page with ``status=None``; it does not raise.

        Args:
            url: Where to go, typically the authorization URL the app opened.
            decision: ``"allow"``, ``"deny"`` or ``"none"``.
            timeout: Seconds allowed for the whole visit.

        Raises:
            ValueError: On an unknown decision.
            playwright.sync_api.TimeoutError: When the pages do not load in time.
        """
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
        page = self._page()
        deadline = time.monotonic() + timeout
        statuses: dict[str, int] = {}

        def record(response: Response) -> None:
            request = response.request
            if request.is_navigation_request() and request.frame == page.main_frame:
                statuses[response.url] = response.status

        page.on("response", record)
        try:
            try:
                page.goto(url, wait_until="load", timeout=_ms_left(deadline))
            except PlaywrightError as exc:
                if "net::ERR_" not in exc.message:
                    raise
                return _final(page, statuses)
            _past_relay(page, deadline)
            if decision == "none" or page.locator(_CONSENT_FORM).count() == 0:
                return _final(page, statuses)
            consent_url = page.url
            page.click(f"#{decision}", timeout=_ms_left(deadline))
            page.wait_for_url(
                lambda current: current != consent_url,
                wait_until="load",
                timeout=_ms_left(deadline),
            )
            _past_relay(page, deadline)
            return _final(page, statuses)
        finally:
            page.remove_listener("response", record)

    def close(self) -> None:
        """Stop the browser and Playwright and delete the profile; safe to call twice."""
        if self._context is not None or self._playwright is not None:
            self._check_thread()
        try:
            if self._context is not None:
                context, self._context = self._context, None
                context.close()
        finally:
            try:
                if self._playwright is not None:
                    playwright, self._playwright = self._playwright, None
                    playwright.stop()
            finally:
                shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> BrowserUser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _page(self) -> Page:
        self._check_thread()
        if self._context is None:
            raise RuntimeError("this BrowserUser is closed")
        pages = self._context.pages
        return pages[0] if pages else self._context.new_page()

    def _check_thread(self) -> None:
        if threading.get_ident() != self._thread_id:
            raise RuntimeError(
                "Playwright's sync API works only in the thread that started it: create, use "
                "and close a BrowserUser in one thread (or use open_in_thread)"
            )


def _on_relay(url: str) -> bool:
    return urlsplit(url).path.endswith(RELAY_PAGE_NAME)


def _past_relay(page: Page, deadline: float) -> None:
    """Wait while the relay page's script moves the browser on (it navigates by itself)."""
    if not _on_relay(page.url):
        return
    try:
        page.wait_for_url(
            lambda current: not _on_relay(current), wait_until="load", timeout=_ms_left(deadline)
        )
    except PlaywrightError as exc:
        if "net::ERR_" not in exc.message:
            raise


def _ms_left(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _final(page: Page, statuses: dict[str, int]) -> FinalPage:
    try:
        text = page.inner_text("body", timeout=2000)
    except PlaywrightError:
        text = ""
    return FinalPage(url=page.url, status=statuses.get(page.url), text=text, title=page.title())


class BrowserJob:
    """A browser visit running in its own daemon thread; see :func:`open_in_thread`."""

    def __init__(
        self, url: str, decision: Decision, timeout: float, executable: str | None
    ) -> None:
        self._result: FinalPage | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(url, decision, timeout, executable),
            name="kit-test-browser",
            daemon=True,
        )
        self._thread.start()

    def _run(self, url: str, decision: Decision, timeout: float, executable: str | None) -> None:
        try:
            with BrowserUser(executable) as user:
                self._result = user.visit_and_decide(url, decision, timeout)
        except BaseException as exc:  # handed to wait(), in the test's thread
            self._error = exc
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        """Whether the visit has finished (successfully or not), browser closed."""
        return self._done.is_set()

    def wait(self, timeout: float = 30.0) -> FinalPage:
        """Block until the visit ends and return its page; re-raise the visit's error.

        Do not block a thread whose event loop serves the page the browser is loading (e.g. a
        Qt receiver on the main thread): first wait for the app's signal with
        ``qtbot.waitSignal`` (the loop runs meanwhile), or poll :attr:`done` with
        ``qtbot.waitUntil``, then call this.

        Raises:
            TimeoutError: When the visit has not finished within ``timeout`` seconds.
        """
        if not self._done.wait(timeout):
            raise TimeoutError(f"the browser did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def open_in_thread(
    url: str,
    decision: Decision = "allow",
    timeout: float = 15.0,
    executable: str | None = None,
) -> BrowserJob:
    """Launch a browser, visit ``url`` and answer consent, all in a new daemon thread.

    Playwright's sync API must be created and used in one thread, so the whole launch, visit
    and close happen in the job's thread; the caller's thread stays free (e.g. to run a Qt
    event loop). Collect the outcome with :meth:`BrowserJob.wait`.
    """
    return BrowserJob(url, decision, timeout, executable)


def browser_env(decision: Decision, result_path: str | os.PathLike[str]) -> dict[str, str]:
    """Return the environment variables that make ``webbrowser`` use the test browser.

    Merge them into a child's environment (``{**os.environ, **browser_env(...)}``) or set
    them with ``monkeypatch.setenv``. ``BROWSER`` runs ``tests.helpers.browser_cli``, which
    detaches a worker and returns at once; the worker answers consent with ``decision`` and
    writes the :class:`FinalPage` as JSON to ``result_path`` (see :func:`wait_for_result`).
    The repo root goes on ``PYTHONPATH`` so the module is found from any working directory.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    command = f"{shlex.quote(sys.executable)} -m tests.helpers.browser_cli %s"
    if os.pathsep in command:
        # webbrowser splits BROWSER on os.pathsep into alternatives.
        raise RuntimeError(f"the Python path {sys.executable!r} contains {os.pathsep!r}")
    python_path = os.pathsep.join(
        part for part in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if part
    )
    env = {
        "BROWSER": command,
        ENV_DECISION: decision,
        ENV_RESULT: os.fspath(result_path),
        "PYTHONPATH": python_path,
    }
    chromium = chromium_path()
    if chromium is not None:
        env[ENV_CHROMIUM] = chromium
    return env


def wait_for_result(result_path: str | os.PathLike[str], timeout: float = 30.0) -> FinalPage:
    """Poll until the CLI worker has written its result, then return it.

    Raises:
        TimeoutError: When no result appears within ``timeout`` seconds.
        RuntimeError: When the worker recorded an error instead of a page.
    """
    path = Path(result_path)
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                log = Path(f"{path}.log")
                detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise TimeoutError(
                    f"no browser result at {path} within {timeout} s\n{detail}"
                ) from None
            time.sleep(0.05)
        else:
            return FinalPage.from_json(data)
