"""Train an MLP: set up a network, press Train, watch it learn; repeat the homework's experiments.

The lesson: the network's formula; the homework reports' experiments, one click each; a form for
your own network (every box read with the one settings table, `core.mlp.settings`) with its
parameter count and data set; Train and Stop; the live charts; every stored run.

Training runs in a background thread (core.mlp.jobs) that writes every record to the run database
(core.mlp.runstore); this script only draws. A click reruns the script, so the session's job
lives in st.session_state and the live panel is a fragment that redraws itself while the job runs.
The form's values live in the session's own dict (`ss["train_form"]`, see core.mlp.form), and
every box is given its value from it, so a box the browser rebuilds never comes back blank.
The form also lives in the page's URL (a copied link reopens it) and loads from a run's settings
file. (Longer than most pages: a form of twenty settings, your own CSV data, the live panel and
the runs table are four lessons on one page; each is its own named section below.)
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import streamlit as st

from core.mlp import charts
from core.mlp.budget import check_config, memory_budget_mb
from core.mlp.csvdata import LIMITS, MAX_BYTES, CsvError, csv_header, store_upload
from core.mlp.datasets import DATASETS, Dataset, DataSpec, dataset_available
from core.mlp.describe import (
    blank_missing,
    describe,
    describe_data,
    formula_tex,
    markdown_table,
)
from core.mlp.form import (
    SWEEP_KEY,
    SWEEP_VALUES,
    fill_form,
    form_from_json,
    form_settings,
    form_sweep,
    from_query,
    settings_json,
    shown,
    to_query,
    uploads,
)
from core.mlp.jobs import RunJob, find_job
from core.mlp.model import param_formula
from core.mlp.presets import PRESETS, preset_configs
from core.mlp.runstore import RunStore, RunStoreError, default_db_path, runs_table, table_csv
from core.mlp.settings import SETTINGS, SWEEPABLE
from core.mlp.training import TrainConfig
from core.mlp.workers import WorkerPool
from core.numbers import code
from pages import through_app

# A link opened on a freshly started server runs this script before app.py, and the switch to
# app.py drops the link's query parameters: keep them for the form's first run.
if "train_form" not in st.session_state and "train_link" not in st.session_state:
    st.session_state["train_link"] = st.query_params.to_dict()
through_app("pages/train.py")

ss = st.session_state
# Query parameters that are not the form's (a running job's token).
OTHER_PARAMS = ("job",)
# The settings that have a box on the form (the rest are kept in the form dict, unshown).
BOXES = {name for name, s in SETTINGS.items() if s.form} | {SWEEP_KEY, SWEEP_VALUES}
# What the parameter count, the data set and the memory beside the form are computed from (the
# data set's `DataSpec` and `check_memory`'s arguments): a box for any other setting changes only
# itself and the form's problems, so it re-runs alone (`lone_box`).
SUMMARY_INPUTS = {"dataset", "seed", "preprocess", "max_train", "csv", "label", "hidden",
                  "optimizer", "batch_size"}


# ----------------------------------------------------------------------------- state and data
@st.cache_resource(show_spinner=False)
def get_store(path: str) -> RunStore:
    store = RunStore(path)
    store.mark_orphans()  # runs whose trainer died are marked interrupted, records kept
    return store


@st.cache_resource(show_spinner=False)
def get_pool() -> WorkerPool:
    """The server's worker processes (HANDPROP_WORKERS, default one per core): every session's
    runs train there, one at a time per worker, never in threads of the server."""
    return WorkerPool()


@st.cache_resource(show_spinner="Loading the data set…", max_entries=12)
def get_data(spec: DataSpec, fingerprint: str) -> Dataset:
    """The data set, cached on what its files hold (`fingerprint`), not only on its name."""
    return spec.load()


def data_for(cfg: TrainConfig) -> Dataset:
    spec = cfg.data_spec()
    return get_data(spec, spec.fingerprint())


def store() -> RunStore:
    return get_store(str(default_db_path()))


def job() -> RunJob | None:
    """This session's job; after a reload mid-run, the one the URL's `job` token names."""
    if "train_job" not in ss and (found := find_job(st.query_params.get("job"))) is not None:
        ss["train_job"] = found
    return ss.get("train_job")


def training_now() -> bool:
    """Whether this session's job is still training."""
    return (j := job()) is not None and not j.done


def form() -> dict[str, Any]:
    """The form's values: the session's own dict, never a widget's state. A session's first
    run reads them from the link (`?lr=0.5&hidden=64,64`), each checked by the settings table."""
    if "train_form" not in ss:
        link = ss.pop("train_link", None) or st.query_params.to_dict()
        shared = {k: v for k, v in link.items() if k not in OTHER_PARAMS}
        ss["train_form"], ss["train_link_problems"] = from_query(shared)
    return ss["train_form"]


def keep_in_link() -> None:
    """Write the form into the page's URL, so a copied link reopens exactly this form. Only when
    it changed, and in one message: each change of the URL re-renders the whole page in the
    browser."""
    now = st.query_params.to_dict()
    wanted = {**{k: v for k, v in now.items() if k in OTHER_PARAMS}, **to_query(form())}
    if now != wanted:
        st.query_params.from_dict(wanted)


def load_settings() -> None:
    """Load a settings file (uploaded or pasted) into the form, checked by the settings table."""
    upload = ss.get("settings_file")
    text = upload.getvalue() if upload is not None else ss.get("settings_paste", "")
    loaded, problems = form_from_json(text)
    ss["settings_problems"] = problems
    if loaded is not None:
        set_form(loaded)


def csv_upload() -> None:
    """Keep an uploaded CSV file by its contents and offer its columns as the label."""
    upload = ss.get("csv_file")
    ss.pop("csv_problem", None)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        header = csv_header(data)
        path = store_upload(data, uploads())
    except (CsvError, OSError) as exc:
        ss["csv_problem"] = str(exc)
        return
    ss["csv_columns"], ss["csv_name"] = header, upload.name
    label = form()["label"] if form()["label"] in header else header[-1]
    set_form({**form(), "csv": str(path), "label": label}, told=["label"])


def set_form(values: dict[str, Any], told: list[str] | None = None) -> None:
    """Show these values in the form (a preset's, a loaded file's): the boxes (all, or those
    `told`) are told through the Session State API, which is what makes a browser redraw a box
    it already has."""
    ss["train_form"] = values
    if told is None:  # the boxes this form shows (a hidden one gets its value when it shows)
        told = [n for n in values if n in BOXES and shown(values, n)]
    for name in told:
        ss[f"f_{name}"] = values[name]
    ss["train_form_told"] = set(told)


def box(label: str, name: str, help: str | None = None) -> None:
    """A text box for one setting; one that only its own value depends on (not the parameter
    count, the data set or the memory: `SUMMARY_INPUTS`) is a fragment of its own."""
    if name in SUMMARY_INPUTS:
        text_box(label, name, help)
    else:
        st.fragment(lone_box)(label, name, help)


def lone_box(label: str, name: str, help: str | None) -> None:
    """One box run as its own fragment: typing in it re-runs this box alone and writes the link.
    The form re-runs (the whole page: no fragment can re-run the one around it) only when the
    form's problems changed, as Train is disabled on them and they are listed beside the form.
    The link is written before the box is drawn: the whole-page redraw a new link costs in the
    browser then overlaps the rest of this run."""
    if not ss.get("train_form_running"):  # else the form's own run checks the form after us
        typed = ss.get(f"f_{name}")
        form()[name] = "" if typed is None else typed
        if read_form()[1] != ss.get("train_form_problems"):
            st.rerun(scope="app")
        keep_in_link()
    text_box(label, name, help)


def text_box(label: str, name: str, help: str | None = None) -> None:
    """A text box for one setting, given its value from the form dict (so it is never blank
    unless the student cleared it) and writing what it holds back into the dict."""
    told = name in ss.get("train_form_told", ())
    value = st.text_input(label, value=None if told else form()[name], key=f"f_{name}",
                          help=help or SETTINGS[name].full_help())
    form()[name] = "" if value is None else value


def pick(label: str, name: str, options: list[str], format_func=str,
         on_change=None) -> None:
    """A select box for one choice, like `box`."""
    told = name in ss.get("train_form_told", ())
    current = form()[name]
    index = options.index(current) if current in options else 0
    value = st.selectbox(label, options, index=None if told else index, key=f"f_{name}",
                         format_func=format_func, on_change=on_change,
                         help=SETTINGS[name].full_help() if name in SETTINGS else None)
    form()[name] = options[index] if value is None else value


def start(configs: list[tuple[str, dict]], name: str, legend: str = "run") -> None:
    """Check every run's settings, load its data here (cached), then train in the background."""
    ss.pop("train_error", None)
    ss["train_legend"] = legend
    checked, datasets = [], {}
    try:
        for label, kwargs in configs:
            cfg = TrainConfig(**kwargs).validate()
            check_config(cfg)
            datasets[cfg] = data = data_for(cfg)
            check_config(cfg, data.n_features, data.n_classes)
            checked.append((label, cfg))
    except Exception as exc:  # noqa: BLE001 - any loader failure is a message, never a crash
        ss["train_error"] = str(exc)
        return
    sweep = f"{name} · {uuid.uuid4().hex[:8]}"
    ss["draw_costs"] = []  # a new job's charts: their cost is measured again
    ss["train_job"] = RunJob(
        store(), checked, sweep=sweep, pool=get_pool(),
    ).start()
    st.query_params["job"] = ss["train_job"].token  # a reloaded tab finds its job by this
    ss["train_rerun_page"] = True  # from the form's fragment: the whole page shows the run


def start_from_form() -> None:
    for name in BOXES & {key[2:] for key in ss if key.startswith("f_")}:
        if ss[f"f_{name}"] is not None:  # a box typed into and not yet entered, then Train
            form()[name] = ss[f"f_{name}"]
    ss["train_focus"], ss["train_table_first"] = (), False
    ss.pop("preset_note", None)
    settings, errors = form_settings(form())
    if not errors:
        configs, errors = form_sweep(form(), settings)
    if errors:
        ss["train_error"] = " ".join(errors)
        return
    key = form()[SWEEP_KEY]
    if key == "none":
        start(configs, "single run")
    else:
        start(configs, f"sweep of {SWEEPABLE[key]}", legend=SWEEPABLE[key])


def start_preset() -> None:
    preset = PRESETS[ss["preset_key"]]
    configs, note = preset_configs(preset, ss.get("preset_long", False),
                                   lambda n: dataset_available(n)[0])
    ss["preset_note"] = note
    ss["train_focus"], ss["train_table_first"] = preset.charts, preset.table
    set_form(fill_form(configs[0][1]))  # the form shows the first run's settings
    start(configs, preset.title, legend=preset.legend)


def new_sweep_key() -> None:
    """A newly chosen sweep shows that setting's example values (the homework's comparison)."""
    key = ss["f_sweep_key"]
    values = {**form(), SWEEP_KEY: key,
              SWEEP_VALUES: SETTINGS[key].sweep if key in SETTINGS else ""}
    set_form(values, told=[SWEEP_VALUES])


def stop() -> None:
    j = job()
    if j is not None:
        j.stop()
        j.join(timeout=5)  # between two minibatches: the rerun then shows what was kept
        ss["train_rerun_page"] = True


def draw_job(j: RunJob) -> None:
    frac, _ = j.progress()
    st.progress(frac, text=j.progress_text())
    if j.stop_requested and not j.done:
        st.caption("Stopping after the current minibatch…")
    for kind, sentence in j.outcomes():
        {"warning": st.warning, "error": st.error, "info": st.info}[kind](sentence)
    runs = j.records(store())
    n_records = sum(len(v) for v in runs.values())
    st.caption(f"records so far: {n_records}" + (
        f" · redrawn every {ss.get('interval', 1.0):.1f} s, drawing takes "
        f"{draw_cost():.2f} s" if not j.done else ""))
    comparison = len(j.runs) > 1 and any(r.run_id is not None for r in j.runs)
    if comparison and ss.get("train_table_first"):
        results_table(j)
    if not runs:
        return
    draw_charts(runs, legend=ss.get("train_legend", "run"), focus=ss.get("train_focus", ()))
    st.caption(charts.weights_caption(runs))  # with the ratios these runs reached
    # On 2-D data (a toy set or a CSV file of two features), each run's current decision
    # boundary, side by side.
    drawn = [r for r in j.runs if r.model is not None and r.records
             and r.data is not None and r.data.n_features == 2][:4]
    for column, r in zip(st.columns(max(2, len(drawn))), drawn, strict=False):
        grid = charts.decision_grid(r.model.predict_proba, r.data.X_train)
        column.altair_chart(charts.decision_boundary_chart(grid, r.data.X_train,
                                                           r.data.y_train).properties(
            title=f"Decision boundary: {r.label}"), width="stretch")
    if comparison and not ss.get("train_table_first"):
        results_table(j)


def results_table(j: RunJob) -> None:
    """The comparison as the homework's results table: what changed, and what it reached."""
    table = blank_missing(runs_table(store().list_runs(ids=j.run_ids)))
    st.markdown("**Results of this comparison**")
    st.dataframe(table[["label", "status", "best val acc", "final val acc", "final test acc",
                        "time (s)", "hidden", "optimiser", "lr", "L2 λ", "schedule", "k",
                        "epochs"]].iloc[::-1], hide_index=True)


def draw_charts(runs: dict[str, list[dict]], legend: str, focus: tuple[str, ...] = ()) -> None:
    """The charts two by two, the ones the experiment is about first."""
    names = charts.chart_order(focus, several=len(runs) > 1)
    # Long runs are thinned for drawing (their shape survives); the store keeps every record.
    runs = {label: charts.thin(records) for label, records in runs.items()}
    for i in range(0, len(names), 2):
        for column, name in zip(st.columns(2), names[i:i + 2], strict=False):
            column.vega_lite_chart(charts.CHARTS[name](runs, legend_title=legend).spec(),
                                   width="stretch")


def live() -> None:
    """The live panel's body (run as a fragment by `training`)."""
    j = job()
    if j is None:
        st.caption("Press Train (or run an experiment): the charts draw here as records arrive.")
        return
    t0 = time.thread_time()  # this thread's CPU: what drawing costs, whatever the load
    draw_job(j)
    costs = ss.setdefault("draw_costs", [])
    costs.append(time.thread_time() - t0)
    del costs[:-5]
    if j.done and ss.get("watching"):
        ss["watching"] = False
        st.rerun()  # the whole page: buttons and the runs table catch up
    elif ss.get("watching") and redraw_every() > 1.5 * ss["interval"]:
        st.rerun()  # drawing got dearer: rerun the page to redraw less often


def draw_cost() -> float:
    """The CPU seconds of a redraw: the median of this run's last five (one dear redraw, such
    as the first of a new chart shape, does not change the rate); 0.05 s before three."""
    costs = sorted(ss.get("draw_costs", ()))
    return costs[len(costs) // 2] if len(costs) >= 3 else 0.05


def redraw_every() -> float:
    """Seconds between redraws: ten times the drawing's cost, so drawing takes under a tenth
    of the CPU the run trains with; at least a second."""
    return max(1.0, 10 * draw_cost())


def delete_chosen() -> None:
    store().mark_orphans()  # a run whose trainer died is not "still training"
    keep = [i for i in ss.overlay_ids
            if (now := store().get_run(i)) is not None and now.status == "running"]
    store().delete_runs([i for i in ss.overlay_ids if i not in keep])
    ss.overlay_ids = keep
    if keep:
        ss["delete_note"] = "Runs still training were not deleted: stop them first."


# ----------------------------------------------------------------------------- the lesson
def introduction() -> None:
    st.title("Train an MLP")
    st.markdown(
        "A multilayer perceptron maps an image $x$ to class probabilities through $L$ layers; "
        "minibatch gradient descent moves every weight against its gradient, plus $\\lambda W$ "
        "for L2 regularisation:"
    )
    st.latex(
        r"a^{(l)} = f\!\left(W^{(l)} a^{(l-1)} + b^{(l)}\right),\quad "
        r"p = \operatorname{softmax}\!\left(W^{(L)} a^{(L-1)} + b^{(L)}\right),\quad "
        r"W \leftarrow W - \eta\left(\frac{1}{B}\sum_{i\in\text{batch}}"
        r"\nabla_W \mathcal{L}_i + \lambda W\right)"
    )


def open_store() -> None:
    """The run database, or a message and the end of the page; the workers, once per server."""
    try:
        store()
    except (OSError, sqlite3.Error, RunStoreError) as exc:
        st.error(f"The run database at {default_db_path()} cannot be opened ({exc}). Set the "
                 "HANDPROP_DB environment variable to a writable file path and restart the "
                 "app.")
        st.stop()
    get_pool()  # the workers start with the first visit, ready by the first Train


def experiments() -> None:
    """The homework reports' experiments, one click each."""
    with st.container(border=True):
        st.subheader("The homework reports' experiments, one click each")
        pcol1, pcol2 = st.columns([3, 2])
        with pcol1:
            preset = PRESETS[st.selectbox("Experiment", list(PRESETS), key="preset_key",
                                          format_func=lambda k: PRESETS[k].title)]
            st.markdown(preset.look_for)
            st.caption(f"From the homework: {preset.seed}.")
        with pcol2:
            ok, why = (dataset_available(preset.requires) if preset.requires else (True, ""))
            st.toggle("Longer version", key="preset_long",
                      help="More epochs, on full MNIST when its files are present.")
            # A Markdown table, not a data grid: the whole page re-renders at each change of
            # the link (a form change), and a grid is the dearest element to re-render.
            st.markdown(markdown_table([{"run": label, "settings": describe(kw)}
                                        for label, kw in preset.configs()]))
            if not ok:
                st.info(f"This experiment needs the {preset.requires} files. "
                        f"{why}. Then reload the page.")
            running = training_now()
            st.button("Run this experiment", key="run_preset", type="primary",
                      on_click=start_preset, disabled=running or not ok)


def network_boxes() -> None:
    """The form's boxes in three columns; each writes into the form dict."""
    f = form()
    c1, c2, c3 = st.columns(3)
    with c1:
        pick("Data set", "dataset", list(DATASETS))
        if f["dataset"] == "csv":
            your_csv()
        box("Hidden layers", "hidden")
        pick("Activation", "activation", list(SETTINGS["activation"].choices),
             SETTINGS["activation"].choices.get)
        pick("Initialisation", "init", list(SETTINGS["init"].choices),
             SETTINGS["init"].choices.get)
        if f["dataset"] != "csv":  # a CSV file's columns are always standardised
            pick("Normalisation", "preprocess", list(SETTINGS["preprocess"].choices),
                 SETTINGS["preprocess"].choices.get)
    with c2:
        pick("Optimiser", "optimizer", list(SETTINGS["optimizer"].choices),
             SETTINGS["optimizer"].choices.get)
        box("Learning rate η", "lr")
        if f["optimizer"] in ("momentum", "nesterov"):
            box("Momentum μ", "momentum")
        if f["optimizer"] == "adam":
            box("Adam β₁", "beta1")
            box("Adam β₂", "beta2")
        box("L2 λ", "l2")
        pick("Learning-rate schedule", "schedule", list(SETTINGS["schedule"].choices),
             SETTINGS["schedule"].choices.get)
        if f["schedule"] in ("exponential", "inverse_time"):
            box("Decay k (per step)", "decay_k")
        if f["schedule"] == "step":
            box("Step every (epochs)", "step_every")
            box("Step factor", "step_factor")
    with c3:
        box("Batch size", "batch_size")
        box("Epochs", "epochs")
        box("Seed", "seed")
        box("Training examples (0 = all)", "max_train")
        pick("Compare: sweep one setting", SWEEP_KEY, ["none", *SWEEPABLE],
             lambda k: "no sweep" if k == "none" else SWEEPABLE[k], on_change=new_sweep_key)
        if f[SWEEP_KEY] != "none":
            box("Values to compare", SWEEP_VALUES,
                help="comma-separated, e.g. 0.2, 1, 5; for hidden layers use semicolons: "
                     "32; 64; 64, 64")
    ss.pop("train_form_told", None)  # told once: from now on the boxes hold what is typed


def your_csv() -> None:
    """Your own data: a CSV file and its label column, with the limits stated."""
    st.file_uploader("Your CSV file", type=["csv", "txt"], key="csv_file",
                     max_upload_size=MAX_BYTES // 2**20, on_change=csv_upload,
                     help=f"Numeric feature columns and one label column, a header row naming "
                          f"them; {LIMITS}.")
    st.caption(f"Limits: {LIMITS}. Features are standardised column by column and the rows "
               "split into training, validation and test sets with the seed.")
    if ss.get("csv_problem"):
        st.error(ss["csv_problem"])
    if form()["csv"] and "csv_columns" not in ss:  # a file from a link: read its header here
        try:
            ss["csv_columns"] = csv_header(Path(form()["csv"]).read_bytes()[:65536])
        except (CsvError, OSError) as exc:
            ss["csv_problem"] = str(exc)
    columns = ss.get("csv_columns")
    if form()["csv"] and columns:
        st.caption(f"Using {code(ss.get('csv_name', Path(form()['csv']).name))}.")
        pick("Label column", "label", columns)


def settings_files() -> None:
    """Load a run's settings back into the form: a downloaded settings file, or pasted JSON."""
    with st.expander("Load settings from a file"):
        st.file_uploader("A settings file (JSON) from the runs table", type=["json"],
                         key="settings_file", max_upload_size=1)
        st.text_area("… or paste its JSON", key="settings_paste", height=80,
                     placeholder='{"settings": {"lr": 0.5, "hidden": [64, 64]}}')
        st.button("Load these settings", key="load_settings", on_click=load_settings)
        for problem in ss.get("settings_problems", []):
            st.error(problem)


def read_form() -> tuple[TrainConfig | None, list[str]]:
    """The form's settings as a checked TrainConfig, or the problems (Markdown)."""
    settings, errors = form_settings(form())
    config = None
    if form()["dataset"] == "csv" and not form()["csv"]:
        errors.append("Upload your CSV file (under Data set) and choose its label column.")
    if not errors:
        try:
            config = TrainConfig(**settings).validate()
            check_config(config)  # a net too large for the memory budget, before any data
        except (ValueError, TypeError) as exc:
            config = None
            errors.append(str(exc))
        errors += form_sweep(form(), settings)[1]
    return config, errors


def parameters_and_data(config: TrainConfig | None, errors: list[str]) -> None:
    """The parameter count as a formula, the data set described, and every problem."""
    data = None
    if config is not None:
        available, why = dataset_available(config.dataset)
        if not available:
            errors.append(f"{config.dataset} is not available here: {why}")
        else:
            try:
                data = data_for(config)
            except Exception as exc:  # noqa: BLE001 - a bad file is a message, never a crash
                errors.append(f"{config.dataset} cannot be loaded: {exc}")
    if data is not None:
        sizes = (data.n_features, *config.hidden, data.n_classes)
        formula = param_formula(sizes)
        # The heading and the formula one element: every element here is sent again at a change.
        st.markdown("**Parameters** — weights $d_{l-1}\\cdot d_l$ plus biases $d_l$ per layer:"
                    f"\n\n$$\n{formula_tex(formula)}\n$$")
        # One caption of two lines: every element here is sent again at each change of a box.
        caption = f"layers {' → '.join(str(s) for s in sizes)}: {formula}"
        try:
            need = check_config(config, data.n_features, data.n_classes)
            size = f"{need / 2**20:,.1f} MB" if need >= 2**20 else f"{need / 2**10:,.0f} KB"
            caption += (f"  \nMemory to train it with {config.optimizer}: about {size} of the "
                        f"{memory_budget_mb():,} MB budget (HANDPROP_MEMORY_MB sets it).")
        except ValueError as exc:
            errors.append(str(exc))
        st.caption(caption)
        st.markdown(describe_data(data))
    for message in errors:
        st.error(message)


def set_up_network() -> None:
    """The form, and beside it what it makes, then Train and Stop."""
    st.subheader("Set up a network")
    form()
    for problem in ss.pop("train_link_problems", []):
        st.warning(problem)
    ss.pop("train_rerun_page", None)  # this is a run of the whole page already
    st.fragment(network_form)()
    settings_files()  # outside the fragment: loading a file re-runs the whole page, form and all


def network_form() -> None:
    """The form's body, run as a fragment: typing in a box re-runs only this part (the boxes,
    the parameter count, the data set, the link, Train and Stop), not the experiments, the live
    panel or the runs table. Train and Stop then re-run the whole page, which shows the run."""
    setup, about = st.columns([3, 2], gap="large")
    ss["train_form_running"] = True  # the lone boxes (see `lone_box`) leave the checks to us
    try:
        with setup:
            network_boxes()
    finally:
        ss["train_form_running"] = False
    config, errors = read_form()
    ss["train_form_problems"] = list(errors)  # what a lone box compares its change against
    with about:
        parameters_and_data(config, errors)
    keep_in_link()
    train_buttons(errors)
    if ss.pop("train_rerun_page", False):
        st.rerun(scope="app")


def train_buttons(errors: list[str]) -> None:
    """Train (disabled while the form has a problem or a run trains) and Stop."""
    running = training_now()
    # One row, not three columns: a form change re-sends every block of the fragment.
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Train", key="train", type="primary", on_click=start_from_form,
                  disabled=running or bool(errors))
        st.button("Stop", key="stop", on_click=stop, disabled=not running)
        if ss.get("preset_note"):
            st.caption(ss["preset_note"])
    if ss.get("train_error"):
        st.error(ss["train_error"])


def training() -> None:
    """The live panel: a fragment that redraws itself while the job trains."""
    active = training_now()
    ss["watching"] = active
    interval = redraw_every() if active else None
    ss["interval"] = interval or 1.0
    st.subheader("Training")
    st.fragment(run_every=interval)(live)()


def stored_runs() -> None:
    """Every stored run: overlay, delete, download."""
    st.subheader("Runs")
    all_runs = store().list_runs()
    if store().problem_text():
        st.warning(store().problem_text())
    active = training_now()
    if not all_runs:
        st.caption("No runs stored yet. Every run is kept in the run database"
                   + ("; the one training appears here when it ends." if active else "."))
        return
    st.dataframe(blank_missing(runs_table(all_runs)), hide_index=True, key="runs_table")
    st.caption(f"Stored in {store().path} (set HANDPROP_DB to move it)."
               + (" This table refreshes when the run ends; the panel above shows every record "
                  "as it arrives." if active else ""))
    by_id = {r.id: r for r in all_runs}
    # Runs deleted (here or in another session) drop out of the choices.
    ss["overlay_ids"] = [i for i in ss.get("overlay_ids", []) if i in by_id]
    if ss.get("records_id") not in by_id or ss.get("records_newest") != max(by_id):
        ss["records_id"] = max(by_id)  # a new run (or none chosen yet): its records first
    ss["records_newest"] = max(by_id)
    st.multiselect("Runs to overlay or delete", list(by_id), key="overlay_ids",
                   format_func=lambda i: f"#{i} {by_id[i].label} ({by_id[i].status})")
    d1, d2, d3 = st.columns([1, 1, 2])
    d1.download_button("Download the table (CSV)", table_csv(all_runs), "handprop_runs.csv",
                       mime="text/csv", key="dl_table", on_click="ignore")
    d2.button("Delete chosen runs", key="delete", on_click=delete_chosen,
              disabled=not ss.overlay_ids)
    with d3:
        pick_id = st.selectbox("Records of run", list(by_id), key="records_id",
                               format_func=lambda i: f"#{i} {by_id[i].label}")
        st.download_button("Download its records (CSV)", store().records_csv(pick_id),
                           f"handprop_run_{pick_id}.csv", mime="text/csv", key="dl_records",
                           on_click="ignore")
        st.download_button("Download its settings (JSON)",
                           settings_json(by_id[pick_id].settings),
                           f"handprop_run_{pick_id}_settings.json", mime="application/json",
                           key="dl_settings", on_click="ignore",
                           help="Load it back under “Load settings from a file” above.")
    if ss.get("delete_note"):
        st.info(ss.pop("delete_note"))
    if ss.overlay_ids:
        draw_charts({f"#{i} {by_id[i].label}": store().records(i) for i in ss.overlay_ids},
                    legend="run", focus=("accuracy", "loss", "gap"))


introduction()
open_store()
experiments()
set_up_network()
training()
stored_runs()
charts.warm_soon()  # a run's first chart specs, built while the form is read (once per server)
