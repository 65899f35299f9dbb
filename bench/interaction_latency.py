"""How long a student waits, in headless Chromium, as ratios to a trivial Streamlit page.

Run: `.venv/bin/python bench/interaction_latency.py [--repeats 7] [--fresh 3] [--only a,b]`.
Needs Playwright and the system Chromium (HANDPROP_CHROMIUM or /usr/bin/chromium).

It starts `streamlit run app.py` and `streamlit run` of a one-button page, the same way (same
flags, same working directory and config), drives them in one browser, and prints for each
interaction the median wall time from the action to the page being settled — the script run
finished (Streamlit's `script_finished` message on the websocket, after any rerun it asked for),
no stale element left, every chart drawn, two animation frames — and its ratio to the trivial
page's own round trip measured in the same run: opening a page against opening the trivial page,
a click against its button. Absolute times swing with the machine's load; the ratios hold.

Beside each median it prints where the time went, to find causes before fixing: the server's
run (new_session to script_finished), what the websocket carried (KB, elements sent by type),
what the browser re-created (KaTeX and Vega nodes added), and Chromium's own profile
(Performance.getMetrics: script, layout and style time). Every wait is bounded; an interaction
whose widget is missing is reported as such; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = '''import streamlit as st
st.title("Trivial")
st.session_state.n = st.session_state.get("n", 0) + int(st.button("Click", key="click"))
st.write(f"clicks: {st.session_state.n}")
'''
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
# Counts the nodes the browser adds while an interaction settles: what a run re-creates.
OBSERVER = """
window.__hp = {katex: 0, vega: 0, nodes: 0};
new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) {
  if (n.nodeType !== 1) continue;
  window.__hp.nodes += 1 + n.getElementsByTagName('*').length;
  window.__hp.katex += (n.classList.contains('katex') ? 1 : 0)
                     + n.querySelectorAll('.katex').length;
  window.__hp.vega += (n.classList.contains('marks') ? 1 : 0)   // a Vega canvas or svg drawn
                    + n.querySelectorAll('.marks').length;
}}).observe(document, {subtree: true, childList: true});
"""
# Settled: no stale element, and as many charts drawn as the last run sent (a chart's code loads
# lazily, so until then there is no chart element to wait for).
SETTLED = """charts => new Promise(resolve => {
  const check = () => {
    const stale = document.querySelector('[data-stale="true"]');
    const drawn = document.querySelectorAll('[data-testid="stVegaLiteChart"] .marks').length;
    const app = document.querySelector('[data-testid="stMainBlockContainer"]');
    const done = () => requestAnimationFrame(() => requestAnimationFrame(resolve));
    if (app && !stale && drawn >= charts) done();
    else setTimeout(check, 5);
  };
  check();
})"""
PROFILE = ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration")
DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
        ForwardMsg.FINISHED_WITH_COMPILE_ERROR)  # not FINISHED_EARLY_FOR_RERUN: another follows
QUIET_S = 0.25   # no new run within this long after a run finished: the interaction is over
TIMEOUT_S = 90.0


def chromium() -> str:
    found = os.environ.get("HANDPROP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        sys.exit("Chromium not found: apt-get install chromium, or set HANDPROP_CHROMIUM")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(script: Path, data_dir: Path, env: dict[str, str] | None = None,
          port: int | None = None) -> Iterator[str]:
    """`streamlit run script` from the project folder (its config applies) on a free port."""
    port = port or free_port()
    full_env = {**os.environ, "HANDPROP_DB": str(data_dir / "runs.sqlite3"),
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
    log = open(data_dir / f"streamlit-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start for {script} (see {log.name})")
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@dataclass
class Sample:
    seconds: float
    server: float = float("nan")
    kb: float = 0.0
    elements: Counter = field(default_factory=Counter)
    katex: int = 0
    vega: int = 0
    profile: dict[str, float] = field(default_factory=dict)


def charts_sent(frames: list[tuple[float, int, ForwardMsg]]) -> int:
    """Charts in the last run of `frames`: every run sends every element again."""
    starts = [n for n, (_, _, m) in enumerate(frames) if m.WhichOneof("type") == "new_session"]
    last = frames[starts[-1]:] if starts else frames
    return sum(1 for _, _, m in last if m.WhichOneof("type") == "delta"
               and m.delta.WhichOneof("type") == "new_element"
               and m.delta.new_element.WhichOneof("type") == "vega_lite_chart")


class Watcher:
    """The websocket messages of one page: when runs start and finish, and what they carried."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.frames: list[tuple[float, int, ForwardMsg]] = []
        page.on("websocket", self._socket)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")

    def _socket(self, ws) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        if isinstance(payload, bytes | bytearray):
            msg = ForwardMsg()
            with contextlib.suppress(Exception):
                msg.ParseFromString(bytes(payload))
                self.frames.append((time.perf_counter(), len(payload), msg))

    def metrics(self) -> dict[str, float]:
        got = self.cdp.send("Performance.getMetrics")["metrics"]
        return {m["name"]: m["value"] for m in got if m["name"] in PROFILE}

    def _pump(self, seconds: float) -> None:
        self.page.wait_for_timeout(seconds * 1000)  # lets Playwright deliver frame events

    def measure(self, action: Callable[[], None]) -> Sample:
        """Run `action` and wait until the page has settled; what it cost, and where."""
        start_index = len(self.frames)
        with contextlib.suppress(PlaywrightError):
            self.page.evaluate("window.__hp && (window.__hp = {katex: 0, vega: 0, nodes: 0})")
        before = self.metrics()
        t0 = time.perf_counter()
        action()
        deadline = t0 + TIMEOUT_S
        done_at, seen = None, start_index
        while time.perf_counter() < deadline:
            self._pump(0.005)
            new = self.frames[seen:]
            seen = len(self.frames)
            if any(m.WhichOneof("type") == "new_session" for _, _, m in new):
                done_at = None  # a (re)run started: wait for it to finish
            if any(m.WhichOneof("type") == "script_finished" and m.script_finished in DONE
                   for _, _, m in new):
                self.page.evaluate(SETTLED, charts_sent(self.frames[start_index:]))
                done_at = time.perf_counter()
                self._pump(QUIET_S)
                if not any(m.WhichOneof("type") == "new_session"
                           for _, _, m in self.frames[seen:]):
                    break
        if done_at is None:
            raise TimeoutError("the page did not finish its run in time")
        frames = self.frames[start_index:]
        starts = [t for t, _, m in frames if m.WhichOneof("type") == "new_session"]
        ends = [t for t, _, m in frames if m.WhichOneof("type") == "script_finished"]
        elements = Counter(m.delta.new_element.WhichOneof("type") for _, _, m in frames
                           if m.WhichOneof("type") == "delta"
                           and m.delta.WhichOneof("type") == "new_element")
        counts = self.page.evaluate("window.__hp || {}")
        after = self.metrics()
        return Sample(
            seconds=done_at - t0,
            server=(ends[-1] - starts[0]) if starts and ends else float("nan"),
            kb=sum(n for t, n, _ in frames if t <= done_at) / 1024, elements=elements,
            katex=int(counts.get("katex", 0)), vega=int(counts.get("vega", 0)),
            profile={k: (after.get(k, 0) - before.get(k, 0)) * 1000 for k in PROFILE})


@dataclass
class Result:
    name: str
    samples: list[Sample]
    reference: str   # "open" or "click": which trivial round trip it is compared with
    goal: float      # ratio to meet, or seconds when absolute
    absolute: bool = False
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)


def med(values) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def settle(page: Page) -> None:
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=TIMEOUT_S * 1000)
    page.wait_for_timeout(1000)
    page.evaluate(SETTLED, 0)


def run_trivial(browser, url: str, repeats: int) -> dict[str, Result]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(OBSERVER)
    watch = Watcher(page)
    watch.measure(lambda: page.goto(url))  # warm the browser's cache of Streamlit's bundle
    opens = [watch.measure(lambda: page.goto(url)) for _ in range(repeats)]
    button = page.get_by_role("button", name="Click")
    clicks = [watch.measure(button.click) for _ in range(repeats)]
    page.close()
    return {"open": Result("trivial page: open", opens, "open", 1.0),
            "click": Result("trivial page: button", clicks, "click", 1.0)}


def widget_steps(page: Page, watch: Watcher, url: str, repeats: int) -> list[Result]:
    """Backprop's Next / Previous / Show all / a new shape, the Train form: each if it exists."""
    results = []

    def clicks(name: str, label: str, goal: float, locate: Callable, n: int = repeats) -> None:
        try:
            target = locate()
            target.wait_for(timeout=20_000)
            samples = [watch.measure(target.click) for _ in range(n)]
            results.append(Result(name, samples, "click", goal))
        except (PlaywrightError, TimeoutError) as err:
            results.append(Result(name, [], "click", goal, note=f"{label}: {err}".split("\n")[0]))

    page.goto(f"{url}/backprop")
    settle(page)
    clicks("Backprop: Next", "Next", 2.0, lambda: page.get_by_role("button", name="Next").first)
    clicks("Backprop: Previous", "Previous", 2.0,
           lambda: page.get_by_role("button", name="Previous").first)
    toggle = page.get_by_text("Show all steps", exact=True).first
    clicks("Backprop: Show all steps (on/off)", "Show all steps", 3.0, lambda: toggle)

    name = "Backprop: a new shape (a hidden unit more)"
    try:
        box = page.get_by_label("Units in hidden layer 1").first
        box.wait_for(timeout=20_000)
        samples = []
        for units in range(3, 7):  # each a shape this server has not traced yet
            samples.append(watch.measure(lambda u=units: (box.fill(str(u)), box.press("Enter"))))
        results.append(Result(name, samples, "click", 3.0))
    except (PlaywrightError, TimeoutError) as err:
        results.append(Result(name, [], "click", 3.0, note=str(err).split("\n")[0]))

    name = "Train: a form change (η typed)"
    try:
        page.goto(f"{url}/train")
        settle(page)
        lr = page.get_by_role("textbox", name="Learning rate η").first
        lr.wait_for(timeout=20_000)
        samples = [watch.measure(lambda v=v: (lr.fill(v), lr.press("Enter")))
                   for v in (["0.05", "0.1"] * repeats)[:repeats]]
        results.append(Result(name, samples, "click", 2.0))
    except (PlaywrightError, TimeoutError) as err:
        results.append(Result(name, [], "click", 2.0, note=str(err).split("\n")[0]))
    return results


def run_app(browser, url: str, repeats: int) -> list[Result]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(OBSERVER)
    watch = Watcher(page)
    results = []
    for path, title in (("backprop", "Backprop"), ("softmax", "Softmax"), ("train", "Train")):
        watch.measure(lambda p=path: page.goto(f"{url}/{p}"))  # warm: the server's caches
        samples = [watch.measure(lambda p=path: page.goto(f"{url}/{p}")) for _ in range(repeats)]
        results.append(Result(f"open {title} (warm server)", samples, "open", 2.5))
    results += widget_steps(page, watch, url, repeats)
    page.close()
    return results


def run_fresh(browser, data: Path, times: int, cache: Path | None) -> Result:
    """A new server each time; the first visit goes straight to /softmax. Every server gets the
    same port: the browser's cache of Streamlit's own bundle is then as warm as for the other
    rows (it is per origin), so the row measures the fresh server, not a fresh browser."""
    samples, port = [], free_port()
    env = {"HANDPROP_CACHE": str(cache)} if cache is not None else None
    for n in range(times):
        folder = data / f"fresh{n}{'-cold' if cache else ''}"
        folder.mkdir()
        with serve(ROOT / "app.py", folder, env, port) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script(OBSERVER)
            watch = Watcher(page)
            samples.append(watch.measure(lambda p=page, u=url: p.goto(f"{u}/softmax")))
            page.close()
    label = ("fresh server, first Softmax visit" if cache is None
             else "  … and with an empty disk cache (information)")
    return Result(label, samples, "open", 3.0, absolute=True)


def profile(r: Result, metric: str) -> str:
    """Chromium's time in `metric` during the interaction; "-" for an open: a new document
    starts its counters again."""
    if r.reference == "open":
        return f"{'-':>7}"
    return f"{med(s.profile.get(metric, 0) for s in r.samples):5.0f}ms"


def report(results: list[Result], trivial: dict[str, Result]) -> None:
    ref = {k: r.median for k, r in trivial.items()}
    print(f"\ntrivial page round trip: open {ref['open'] * 1000:.0f} ms, "
          f"button {ref['click'] * 1000:.0f} ms (medians)\n")
    head = (f"{'interaction':46} {'median':>8} {'ratio':>7} {'goal':>8}  {'':6} {'server':>7} "
            f"{'KB':>6} {'KaTeX':>6} {'Vega':>5} {'script':>7} {'layout':>7}  elements sent")
    print(head)
    print("-" * len(head))
    for r in [*trivial.values(), *results]:
        if not r.samples:
            print(f"{r.name:46} {'n/a':>8}  ({r.note})")
            continue
        ratio = r.median / ref[r.reference]
        if r.absolute:
            goal, met = f"<= {r.goal:.0f} s", r.median <= r.goal
        else:
            goal, met = f"<= {r.goal:.1f}x", ratio <= r.goal
        elements = Counter()
        for s in r.samples:
            elements.update(s.elements)
        per_run = ", ".join(f"{k} {v / len(r.samples):.0f}" for k, v in elements.most_common(8))
        verdict = "" if r.name.startswith(("trivial", "  …")) else ("met" if met else "MISSED")
        print(f"{r.name:46} {r.median * 1000:6.0f}ms {ratio:6.2f}x {goal:>8}  {verdict:6} "
              f"{med(s.server for s in r.samples) * 1000:5.0f}ms "
              f"{med(s.kb for s in r.samples):6.0f} {med(s.katex for s in r.samples):6.0f} "
              f"{med(s.vega for s in r.samples):5.0f} "
              f"{profile(r, 'ScriptDuration')} {profile(r, 'LayoutDuration')}  {per_run}")
    print("\nserver: new_session to script_finished; KB: websocket bytes received; KaTeX, Vega: "
          "nodes the browser added; script, layout: Chromium's ScriptDuration, LayoutDuration.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="samples per interaction (7)")
    parser.add_argument("--fresh", type=int, default=3, help="fresh servers for the first visit")
    parser.add_argument("--cold", action="store_true",
                        help="also one fresh server with an empty disk cache")
    args = parser.parse_args()
    repeats = max(1, min(args.repeats, 30))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        data = Path(tmp)
        (data / "trivial.py").write_text(TRIVIAL)
        browser = pw.chromium.launch(executable_path=chromium(), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            with serve(data / "trivial.py", data) as url:
                trivial = run_trivial(browser, url, repeats)
            with serve(ROOT / "app.py", data) as url:
                results = run_app(browser, url, repeats)
            results.append(run_fresh(browser, data, max(1, min(args.fresh, 10)), None))
            if args.cold:
                (data / "empty-cache").mkdir()
                results.append(run_fresh(browser, data, 1, data / "empty-cache"))
        finally:
            browser.close()
        report(results, trivial)


if __name__ == "__main__":
    main()
