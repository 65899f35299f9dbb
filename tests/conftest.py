"""Shared fixtures: a real `streamlit run app.py` server and the system Chromium for Playwright.

Browser tests use pytest-playwright's `page` fixture; `app_url` starts the server once per session
on a free 127.0.0.1 port, waits for `/_stcore/health`, and stops it at the end. The browser is the
system Chromium (Debian's `chromium`): Playwright's own browser download does not work here.

Two kinds of test need a system program that pip cannot install: `browser` tests need Chromium and
`tex` tests need pdflatex. Where one is missing, its tests are skipped with a reason that names the
Debian package, and the summary says how many; with CI=true they run and fail instead, so CI can
never pass without them (`.ci/run` installs both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import find_chromium, serve

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# marker -> (is the tool there, what to install); read once per test session
SYSTEM_TOOLS = {
    "browser": (lambda: find_chromium() is not None,
                "Chromium is not installed: `apt-get install chromium fonts-dejavu-core` "
                "(Debian) or set HANDPROP_CHROMIUM"),
    "tex": (lambda: shutil.which("pdflatex") is not None,
            "pdflatex is not installed: `apt-get install texlive-latex-base` (Debian)"),
    # The run store's PostgreSQL half (tests/pg_server.py starts a throw-away server).
    "postgres": (lambda: _pg_ready(),
                 "PostgreSQL is not installed: `apt-get install postgresql` (Debian), and "
                 "psycopg: `pip install -r requirements.txt`"),
}


def _pg_ready() -> bool:
    from tests.pg_server import find_pg_bin, psycopg_missing

    return find_pg_bin() is not None and psycopg_missing() is None


_skipped_for: dict[str, int] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for marker, (present, install) in SYSTEM_TOOLS.items():
        wanting = [item for item in items if marker in item.keywords]
        if not wanting or IN_CI or present():
            continue  # in CI a missing tool fails its tests: CI must never pass without them
        _skipped_for[marker] = len(wanting)
        for item in wanting:
            item.add_marker(pytest.mark.skip(reason=install))


def chromium_path() -> str:
    """Path of the system Chromium; fails the test when there is none (CI only gets here)."""
    found = find_chromium()
    if found is None:
        pytest.fail(SYSTEM_TOOLS["browser"][1])
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # The background-networking flags stop Chromium dialling out on a closed network.
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "headless": True,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of one `streamlit run app.py` server shared by the browser tests."""
    with serve(tmp_path_factory.mktemp("handprop-data")) as url:
        yield url


@pytest.fixture
def fresh_app_url(tmp_path: Path) -> Iterator[str]:
    """A server no browser has visited yet (for what only happens on a first visit)."""
    with serve(tmp_path) as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _private_run_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test that opens the Train page writes to a throwaway database, never the user's."""
    old = os.environ.get("HANDPROP_DB")
    os.environ["HANDPROP_DB"] = str(tmp_path_factory.mktemp("handprop-db") / "runs.sqlite3")
    yield
    if old is None:
        os.environ.pop("HANDPROP_DB", None)
    else:
        os.environ["HANDPROP_DB"] = old


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Git-ignored folder where browser tests save what a person would see."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has rendered the page and finished its script run."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=timeout)
    # The status widget shows "Running..." while the script executes.
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')""",
        timeout=timeout,
    )


@pytest.fixture
def wait_app():
    """The `wait_for_app(page)` helper, as a fixture for test files."""
    return wait_for_app


def fail_on_exceptions(at):
    """Make every run of `at` (at.run(), a click, an input) fail the test on a page exception:
    a traceback in a page is always a bug, so no test has to remember to look for one."""
    run = at._run  # every run, AppTest's own or a widget's, goes through this method

    def checked(*args, **kwargs):
        result = run(*args, **kwargs)
        assert not at.exception, [e.value for e in at.exception]
        return result

    at._run = checked
    return at


@pytest.fixture
def open_page():
    """`open_page("pages/x.py", timeout=60, query={...})`: an AppTest of app.py, switched to that
    page and run, that fails the test on any page exception (see `fail_on_exceptions`).

    Going through app.py runs the real navigation (`st.navigation`), as a browser would; `query`
    sets the URL's query parameters before the first run.
    """
    from streamlit.testing.v1 import AppTest

    def _open(path: str, timeout: float = 60, query: dict[str, str] | None = None) -> AppTest:
        at = fail_on_exceptions(AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout))
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if path != "pages/home.py":
            at.switch_page(path).run()
        return at

    return _open


@pytest.fixture
def run_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty run database of this test's own, also the one the pages open (HANDPROP_DB)."""
    from core.mlp.runstore import RunStore

    path = tmp_path / "runs.sqlite3"
    monkeypatch.setenv("HANDPROP_DB", str(path))
    return RunStore(path)


@pytest.fixture(scope="session")
def homework_trace():
    """`trace_step` of the homework's 3-2-2 sigmoid problem (x = [0.5, 0.1, 0.3], y = [0.9,
    0.1], η = 0.1), traced once per test session; read-only."""
    from core.backprop import trace_step
    from core.backprop.problems import homework

    p = homework()
    return trace_step(p.W, p.b, p.x, p.y, 0.1)


def goto_page(page, url: str, heading: str, timeout: float = 120_000) -> None:
    """Open `url` in Playwright's `page`, wait for Streamlit's run and the page's `heading`, and
    check that no exception box is shown."""
    from playwright.sync_api import expect

    page.goto(url)
    wait_for_app(page, timeout=timeout)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=timeout)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


@pytest.fixture
def goto():
    """The `goto_page(page, url, heading)` helper, as a fixture for test files."""
    return goto_page


_browser_passed = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _browser_passed
    if report.when == "call" and report.passed and "browser" in report.keywords:
        _browser_passed += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    terminalreporter.write_line(f"browser tests executed and passed: {_browser_passed}")
    for marker, n in _skipped_for.items():
        terminalreporter.write_line(
            f"skipped {n} {marker} test(s): {SYSTEM_TOOLS[marker][1]}", yellow=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # In CI the browser tests must really run: a run where none passed is a failure, not a pass.
    if IN_CI and _browser_passed == 0 and session.testscollected > 0:
        session.exitstatus = 1
