"""How long a student waits, in headless Chromium, as ratios to a trivial Streamlit page.

Run: `.venv/bin/python bench/interaction_latency.py [--repeats 7] [--fresh 3]
[--only backprop,softmax,train,fresh,floors]` (`--only` times just those rows; "floors" opens
the trivial page with one Vega chart, with 74 formulas as in the Softmax proofs, and with both:
what Streamlit's own frontend costs for what the Softmax page must draw, the floor under its
ratio).
Needs Playwright and the system Chromium (HANDPROP_CHROMIUM or /usr/bin/chromium).

It starts `streamlit run app.py` and `streamlit run` of a one-button page, the same way (same
flags, same working directory and config), drives them in one browser, and prints for each
interaction the median wall time from the action (a click, or the Enter after typing; finding
the widget and typing happen before the clock starts, on both pages) to the page being
settled — the script run finished (Streamlit's `script_finished` message on the websocket,
after any rerun it asked for), no stale element left, every chart drawn, two animation
frames — and its ratio to the trivial page's own round trip measured in the same run: opening a
page against opening the trivial page, a click against its button. Absolute times swing with
the machine's load; the ratios hold.

Beside each median it prints where the time went, to find causes before fixing: the server's
run (new_session to script_finished), what the websocket carried (KB, elements sent by type),
what the browser re-created (KaTeX and Vega nodes added), and Chromium's own profile
(Performance.getMetrics: script, layout and style time). Every wait is bounded; an interaction
whose widget is missing is reported as such; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.serving import (  # noqa: E402 - the tests' own way to start the app and find Chromium
    chromium_or_exit,
    free_port,
    serve,
)

TRIVIAL = r'''import streamlit as st
st.title("Trivial")
# The floors (rows "floor: …", off unless the URL asks): what one chart like the Softmax page's
# or its proofs' count of formulas cost on a page with nothing else.
if "formulas" in st.query_params:  # as there: 28 of 74 displayed, the rest inline in a rule
    total = int(st.query_params.formulas)
    shown = total * 28 // 74
    lines = [rf"$$\frac{{\partial p_{{{n}}}}}{{\partial s_j}} = \frac{{\delta_{{{n}j}}\,"
             rf"e^{{s_{{{n}}}}} S - e^{{s_{{{n}}}}} e^{{s_j}}}}{{S^2}}$$"
             f"\n\n**{n}.** quotient rule, with $e^{{s_{{{n}}}}} > 0$"
             + (" and $\\delta_{ij}$" if n < total - 2 * shown else "") for n in range(shown)]
    st.markdown("\n\n".join(lines))
if "chart" in st.query_params:
    rows = [{"k": f"k = {k}", "p": p} for k, p in enumerate((0.09, 0.24, 0.67), start=1)]
    st.vega_lite_chart({"height": 300, "layer": [{"data": {"values": rows}, "mark": "bar"}],
                        "encoding": {"x": {"field": "k", "type": "nominal"},
                                     "y": {"field": "p", "type": "quantitative"}}},
                       width="stretch")
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


@dataclass
class Sample:
    seconds: float
    first: float = float("nan")  # the first full run settled (later runs: fragments, reruns)
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
        done_at, first, seen = None, None, start_index
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
                first = first or done_at
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
            seconds=done_at - t0, first=first - t0,
            server=(ends[-1] - starts[0]) if starts and ends else float("nan"),
            kb=sum(n for t, n, _ in frames if t <= done_at) / 1024, elements=elements,
            katex=int(counts.get("katex", 0)), vega=int(counts.get("vega", 0)),
            profile={k: (after.get(k, 0) - before.get(k, 0)) * 1000 for k in PROFILE})


def watched_page(browser) -> tuple[Page, Watcher]:
    """A new tab of the bench's size that counts what each interaction adds, and its Watcher."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(OBSERVER)
    return page, Watcher(page)


@dataclass
class Result:
    name: str
    samples: list[Sample]
    reference: list[Sample]  # the trivial page's round trip, measured just before each sample
    goal: float              # ratio to meet, or seconds when absolute
    kind: str = "click"      # "open" (a page load) or "click" (a re-run in a loaded page)
    absolute: bool = False
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def ratio(self) -> float:
        return self.median / statistics.median(s.seconds for s in self.reference)


class Trivial:
    """The one-button page in a tab of its own: its open and its click, on demand, so that each
    sample of the app is compared with a reference measured at the same moment (the machine's
    load changes from minute to minute; interleaving cancels most of it)."""

    def __init__(self, browser, url: str) -> None:
        self.url = url
        self.page, self.watch = watched_page(browser)
        self.watch.measure(lambda: self.page.goto(url))  # warm the browser's cache
        self.opens: list[Sample] = []
        self.clicks: list[Sample] = []

    def sample(self, kind: str) -> Sample:
        if kind == "open":
            got = self.watch.measure(lambda: self.page.goto(self.url))
            self.opens.append(got)
        else:
            # Found before the clock starts, as the app's buttons are (see `prepared`).
            button = self.page.get_by_role("button", name="Click").element_handle()
            got = self.watch.measure(button.click)
            self.clicks.append(got)
        return got


def measured(name: str, trivial: Trivial, watch: Watcher, actions: list[Callable[[], None]],
             goal: float, kind: str = "click", absolute: bool = False) -> Result:
    """Each action after one trivial sample of the same kind; a missing widget is a note."""
    return prepared(name, trivial, watch, [lambda a=a: a for a in actions], goal, kind, absolute)


def prepared(name: str, trivial: Trivial, watch: Watcher,
             steps: list[Callable[[], Callable[[], None]]], goal: float, kind: str = "click",
             absolute: bool = False) -> Result:
    """Like `measured`, but each step first prepares, untimed, and returns the action to time:
    finding a widget (Playwright's query by role or label walks the page's accessibility tree,
    about 47 ms on the Backprop page and nothing on the trivial one) or typing into a box is
    not the page's latency; the click or the Enter, from then until the page settles, is."""
    samples, reference = [], []
    try:
        for step in steps:
            reference.append(trivial.sample(kind))
            samples.append(watch.measure(step()))
    except (PlaywrightError, TimeoutError) as err:
        return Result(name, [], [], goal, kind, absolute, note=str(err).split("\n")[0])
    return Result(name, samples, reference, goal, kind, absolute)


def med(values) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def settle(page: Page) -> None:
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=TIMEOUT_S * 1000)
    page.wait_for_timeout(1000)
    page.evaluate(SETTLED, 0)


def found(locator):
    """The locator once it is there (PlaywrightError after 20 s, reported as a note)."""
    locator.wait_for(timeout=20_000)
    return locator


GROUPS = ("backprop", "softmax", "train", "fresh", "floors")
# The Softmax page's proofs typeset 74 formulas (28 displayed), and it draws one chart.
FLOORS = (("a Vega chart", "chart=1"), ("74 formulas", "formulas=74"),
          ("both", "chart=1&formulas=74"))


def run_app(browser, trivial: Trivial, url: str, repeats: int,
            only: frozenset[str] = frozenset(GROUPS)) -> list[Result]:
    page, watch = watched_page(browser)
    results = []
    for path, title in (("backprop", "Backprop"), ("softmax", "Softmax"), ("train", "Train")):
        if path not in only:
            continue
        watch.measure(lambda p=path: page.goto(f"{url}/{p}"))  # warm: the server's caches
        results.append(measured(f"open {title} (warm server)", trivial, watch,
                                [lambda p=path: page.goto(f"{url}/{p}")] * repeats, 2.5, "open"))
    # In-app navigation (a re-run in the loaded page): the same pages as a student moves on.
    nav = page.locator('[data-testid="stSidebarNav"]')
    for link in ("Softmax proofs", "Backprop by hand")[:2 if only >= {"softmax", "backprop"}
                                                       else 0]:
        results.append(measured(
            f"  sidebar to {link} (information)", trivial, watch,
            [lambda n=link: (nav.get_by_text("Home", exact=True).click(), settle(page),
                             nav.get_by_text(n, exact=True).click())] * max(1, repeats // 2),
            0.0))

    if "backprop" in only:
        results += backprop_rows(page, trivial, watch, url, repeats)
    if "train" in only:
        results += train_rows(page, trivial, watch, url, repeats)
    page.close()
    return results


def backprop_rows(page: Page, trivial: Trivial, watch: Watcher, url: str,
                  repeats: int) -> list[Result]:
    results = []
    page.goto(f"{url}/backprop")
    settle(page)
    for name, label, goal in (("Backprop: Next", "Next", 2.0),
                              ("Backprop: Previous", "Previous", 2.0)):
        button = page.get_by_role("button", name=label).first
        results.append(prepared(name, trivial, watch,
                                [lambda b=button: found(b).element_handle().click] * repeats,
                                goal))
    toggle = page.get_by_text("Show all steps", exact=True).first
    # An even number of clicks: the shapes below are then timed with the steps one at a time.
    results.append(prepared("Backprop: Show all steps (on/off)", trivial, watch,
                            [lambda: found(toggle).element_handle().click]
                            * (repeats + repeats % 2), 3.0))
    box = page.get_by_label("Units in hidden layer 1").first

    def typed(u: int) -> Callable[[], None]:
        field = found(box).element_handle()
        field.fill(str(u))
        return lambda: field.press("Enter")

    results.append(prepared("Backprop: a new shape (one unit more, Enter)", trivial, watch,
                            [lambda u=u: typed(u) for u in range(3, 7)], 3.0))
    return results


def train_rows(page: Page, trivial: Trivial, watch: Watcher, url: str,
               repeats: int) -> list[Result]:
    results = []
    # Until the open's run has finished (not only drawn): else the first change times its end.
    watch.measure(lambda: page.goto(f"{url}/train"))
    settle(page)
    lr = page.get_by_role("textbox", name="Learning rate η").first
    alternating = ["0.05", "0.1"] * repeats  # each value differs from the one before it
    values, then = alternating[:repeats], alternating[repeats:2 * repeats]
    # The student types the value, then presses Enter, which applies it: the wait starts there,
    # as a click's does (typing, Playwright's fill, is not the page's latency).
    samples, reference = [], []
    try:
        for v in values:
            reference.append(trivial.sample("click"))
            found(lr).fill(v)
            samples.append(watch.measure(lambda: lr.press("Enter")))
        results.append(Result("Train: a form change (η typed, Enter)", samples, reference, 2.0))
    except (PlaywrightError, TimeoutError) as err:
        results.append(Result("Train: a form change (η typed, Enter)", [], [], 2.0,
                              note=str(err).split("\n")[0]))
    results.append(measured(
        "  … timed from the typing (information)", trivial, watch,
        [lambda v=v: (found(lr).fill(v), lr.press("Enter")) for v in then], 0.0))
    return results


def run_floors(browser, trivial: Trivial, repeats: int) -> list[Result]:
    """The trivial page with what the Softmax page must draw on opening and nothing else: what
    Streamlit's own frontend costs for it, the floor under that row's ratio."""
    page, watch = watched_page(browser)
    results = []
    for what, query in FLOORS:
        url = f"{trivial.url}/?{query}"
        watch.measure(lambda u=url: page.goto(u))  # warm: the chart's and KaTeX's code
        results.append(measured(f"  floor: trivial + {what} (information)", trivial,
                                watch, [lambda u=url: page.goto(u)] * repeats, 0.0, "open"))
    page.close()
    return results


def run_fresh(browser, trivial: Trivial, data: Path, times: int, cache: Path | None) -> Result:
    """A new server each time; the first visit goes straight to /softmax. Every server gets the
    same port: the browser's cache of Streamlit's own bundle is then as warm as for the other
    rows (it is per origin), so the row measures the fresh server, not a fresh browser."""
    samples, reference, port = [], [], free_port()
    env = {"HANDPROP_CACHE": str(cache)} if cache is not None else None
    # One browser context for all: its HTTP cache holds Streamlit's bundle from the first visit
    # on (browser.new_page would open a new context, with an empty cache, every time).
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(OBSERVER)
    with serve(data, "app.py", None, port) as url:  # the default disk cache: not emptied
        warm = context.new_page()
        warm.goto(f"{url}/softmax")
        warm.wait_for_selector('[data-testid="stVegaLiteChart"] .marks', timeout=TIMEOUT_S * 1000)
        settle(warm)
        warm.close()
    for n in range(times):
        folder = data / f"fresh{n}{'-cold' if cache else ''}"
        folder.mkdir()
        with serve(folder, "app.py", env, port) as url:
            reference.append(trivial.sample("open"))
            page = context.new_page()
            watch = Watcher(page)
            samples.append(watch.measure(lambda p=page, u=url: p.goto(f"{u}/softmax")))
            page.close()
    context.close()
    label = ("fresh server, first Softmax visit" if cache is None
             else "  … with an empty disk cache (information)")
    return Result(label, samples, reference, 3.0, "open", absolute=True)


def profile(r: Result, metric: str) -> str:
    """Chromium's time in `metric` during the interaction; "-" for an open: a new document
    starts its counters again."""
    if r.kind == "open":
        return f"{'-':>7}"
    return f"{med(s.profile.get(metric, 0) for s in r.samples):5.0f}ms"


def report(results: list[Result], trivial: Trivial) -> None:
    opens, clicks = (med(x.seconds for x in t) for t in (trivial.opens, trivial.clicks))
    print(f"\ntrivial page round trip (all interleaved samples): open {opens * 1000:.0f} ms, "
          f"button {clicks * 1000:.0f} ms (medians); each row's ratio is to the samples "
          "taken just before its own\n")
    head = (f"{'interaction':46} {'median':>8} {'ratio':>7} {'goal':>8}  {'':6} {'server':>7} "
            f"{'KB':>6} {'KaTeX':>6} {'Vega':>5} {'script':>7} {'layout':>7}  elements sent")
    print(head)
    print("-" * len(head))
    for r in results:
        if not r.samples:
            print(f"{r.name:46} {'n/a':>8}  ({r.note})")
            continue
        if not r.goal:
            goal, verdict = "", ""
        elif r.absolute:
            goal, verdict = f"<= {r.goal:.0f} s", "met" if r.median <= r.goal else "MISSED"
        else:
            goal, verdict = f"<= {r.goal:.1f}x", "met" if r.ratio <= r.goal else "MISSED"
        elements = Counter()
        for s in r.samples:
            elements.update(s.elements)
        per_run = ", ".join(f"{k} {v / len(r.samples):.0f}" for k, v in elements.most_common(8))
        if any(s.elements.get("exception") for s in r.samples):
            per_run = "THE PAGE RAISED AN EXCEPTION; " + per_run
        print(f"{r.name:46} {r.median * 1000:6.0f}ms {r.ratio:6.2f}x {goal:>8}  {verdict:6} "
              f"{med(s.server for s in r.samples) * 1000:5.0f}ms "
              f"{med(s.kb for s in r.samples):6.0f} {med(s.katex for s in r.samples):6.0f} "
              f"{med(s.vega for s in r.samples):5.0f} "
              f"{profile(r, 'ScriptDuration')} {profile(r, 'LayoutDuration')}  {per_run}")
        if r.absolute:
            print(f"{'':46} (its first complete run was on screen after "
                  f"{med(s.first for s in r.samples) * 1000:.0f} ms)")
    print("\nserver: new_session to script_finished; KB: websocket bytes received; KaTeX, Vega: "
          "nodes the browser added; script, layout: Chromium's ScriptDuration, LayoutDuration.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="samples per interaction (7)")
    parser.add_argument("--fresh", type=int, default=3, help="fresh servers for the first visit")
    parser.add_argument("--cold", action="store_true",
                        help="also one fresh server with an empty disk cache")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated rows to time, of {','.join(GROUPS)} (all)")
    args = parser.parse_args()
    only = frozenset(g.strip() for g in args.only.split(",") if g.strip())
    if not only or only - set(GROUPS):
        parser.error(f"--only takes some of {','.join(GROUPS)}")
    repeats = max(1, min(args.repeats, 30))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        data = Path(tmp)
        (data / "trivial.py").write_text(TRIVIAL)
        browser = pw.chromium.launch(executable_path=chromium_or_exit(), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            with serve(data, data / "trivial.py") as trivial_url:
                trivial = Trivial(browser, trivial_url)
                results = []
                if only - {"fresh"}:
                    with serve(data, "app.py") as url:
                        results = run_app(browser, trivial, url, repeats, only)
                if "fresh" in only:
                    results.append(run_fresh(browser, trivial, data,
                                             max(1, min(args.fresh, 10)), None))
                if "floors" in only:
                    results += run_floors(browser, trivial, repeats)
                if args.cold:
                    (data / "empty-cache").mkdir()
                    results.append(run_fresh(browser, trivial, data, 1, data / "empty-cache"))
        finally:
            browser.close()
        report(results, trivial)


if __name__ == "__main__":
    main()
