"""The Train page passed on: a link that reopens the form exactly, settings files that load back,
and your own CSV data (issue 13 §1, §3, §4 on the Train page)."""

from __future__ import annotations

import hashlib

import pytest

from core.mlp.form import settings_json
from tests.mlp.test_mlp_csv import two_d

TIMEOUT = 60
FORM = {"f_hidden": "16, 8", "f_lr": "0.3", "f_epochs": "5", "f_seed": "7"}


def boxes(at) -> dict[str, str]:
    keys = [*FORM, "f_momentum", "f_batch_size", "f_sweep_values"]
    return {k: at.text_input(key=k).value for k in keys} | {
        k: at.selectbox(key=k).value for k in ("f_dataset", "f_optimizer", "f_sweep_key")}


def test_a_link_reopens_exactly_the_same_form_in_a_new_session(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_dataset").set_value("spirals").run()
    at.selectbox(key="f_optimizer").set_value("momentum").run()
    for key, value in {**FORM, "f_momentum": "0.8"}.items():
        at.text_input(key=key).set_value(value)
    at.run()
    at.selectbox(key="f_sweep_key").set_value("batch_size").run()
    at.text_input(key="f_sweep_values").set_value("8, 64").run()
    link = {k: at.query_params[k] for k in at.query_params}
    assert link["lr"] == "0.3" and link["sweep_values"] == "8, 64" and "batch_size" not in link
    fresh = open_page("pages/train.py", timeout=TIMEOUT, query=link)
    assert boxes(fresh) == boxes(at)
    assert boxes(fresh)["f_momentum"] == "0.8" and not fresh.warning
    assert {k: fresh.query_params[k] for k in fresh.query_params} == link


@pytest.mark.parametrize("query,shown", [
    ({"lr": "abc", "epochs": "3"}, "`abc`"),
    ({"hidden": "**big** ![x](http://127.0.0.1:9/x.png)"}, "`**big**`"),
    ({"dataset": "<img src=x onerror=alert(1)>"}, "got `<img src=x onerror=aler…`"),
    ({"lr": "1" * 5000}, "longer than 2,000 characters"),
    ({"data_dir": "/etc"}, "`data_dir` is not a setting of this page"),
])
def test_a_tampered_link_gives_a_short_message_and_the_defaults(open_page, run_store, query,
                                                                shown) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT, query=query)
    (warning,) = [w.value for w in at.warning if "in the link" in w.value]
    assert shown in warning and len(warning) < 400
    assert at.text_input(key="f_lr").value == "0.1" and at.text_input(key="f_hidden").value == "64"
    assert at.selectbox(key="f_dataset").value == "digits"
    if "epochs" in query:
        assert at.text_input(key="f_epochs").value == "3"
    at.run()
    assert not [w for w in at.warning if "in the link" in w.value]  # said once


def test_a_runs_settings_download_and_load_back_into_the_form(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_optimizer").set_value("adam").run()
    at.text_input(key="f_hidden").set_value("12").run()
    at.text_input(key="f_lr").set_value("0.005")
    at.text_input(key="f_epochs").set_value("2").run()
    at.button(key="train").click().run()
    assert at.session_state["train_job"].join(TIMEOUT)
    at.run()
    assert [b.label for b in at.get("download_button")][-1] == "Download its settings (JSON)"
    (run,) = run_store.list_runs()
    text = settings_json(run.settings)  # what the button holds
    fresh = open_page("pages/train.py", timeout=TIMEOUT)
    fresh.text_area(key="settings_paste").set_value(text)
    fresh.button(key="load_settings").click().run()
    assert fresh.text_input(key="f_hidden").value == "12"
    assert fresh.text_input(key="f_lr").value == "0.005"
    assert fresh.text_input(key="f_epochs").value == "2"
    assert fresh.selectbox(key="f_optimizer").value == "adam"
    # the same file uploaded instead of pasted, into another session
    other = open_page("pages/train.py", timeout=TIMEOUT)
    other.file_uploader(key="settings_file").set_value(("run.json", text.encode(),
                                                        "application/json")).run()
    other.button(key="load_settings").click().run()
    assert other.text_input(key="f_hidden").value == "12"
    fresh.text_area(key="settings_paste").set_value('{"lr": "**fast**"}')
    fresh.button(key="load_settings").click().run()
    assert any("cannot be loaded" in e.value and "`**fast**`" in e.value for e in fresh.error)
    assert fresh.text_input(key="f_lr").value == "0.005"  # nothing lost


def upload(at, name: str, data: bytes):
    at.selectbox(key="f_dataset").set_value("csv").run()
    at.file_uploader(key="csv_file").set_value((name, data, "text/csv")).run()
    return at


def test_your_own_csv_is_described_trained_and_gets_its_decision_boundary(
        open_page, run_store, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    at = upload(open_page("pages/train.py", timeout=TIMEOUT), "quadrants.csv", two_d().encode())
    assert at.selectbox(key="f_label").value == "label"
    shown = "\n".join(m.value for m in at.markdown)
    assert "144 / 16 / 40" in shown and "2 features" in shown and "2 classes (`blue`, `red`)" \
        in shown
    assert any("Limits: at most 20 MB, 100,000 rows" in c.value for c in at.caption)
    at.text_input(key="f_hidden").set_value("16").run()
    at.text_input(key="f_epochs").set_value("3").run()
    at.button(key="train").click().run()
    assert at.session_state["train_job"].join(TIMEOUT)
    at.run()
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("Decision boundary" in s for s in specs)
    assert len(list(tmp_path.glob("uploads/*.csv"))) == 1


@pytest.mark.parametrize("data,message", [
    (b"", "The CSV file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "holds binary data"),
    (b"1,2,3\n4,5,6\n", "has no header"),
    (b"hello\n", "its first line has no commas"),
])
def test_a_bad_upload_is_one_message_and_keeps_the_form(open_page, run_store, tmp_path,
                                                        monkeypatch, data, message) -> None:
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.text_input(key="f_hidden").set_value("20").run()
    upload(at, "bad.csv", data)
    assert [e.value for e in at.error if message in e.value]
    assert at.button(key="train").disabled and at.text_input(key="f_hidden").value == "20"


def test_a_label_with_one_class_is_refused_on_the_page(open_page, run_store, tmp_path,
                                                       monkeypatch) -> None:
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    data = ("a,b,kind\n" + "".join(f"{i},{i * i},1\n" for i in range(30))).encode()
    at = upload(open_page("pages/train.py", timeout=TIMEOUT), "one.csv", data)
    assert at.selectbox(key="f_label").value == "kind"
    assert any("holds one class only (`1`)" in e.value for e in at.error)
    at.selectbox(key="f_label").set_value("a").run()  # 30 classes: it trains
    assert not at.error


def test_a_link_keeps_an_uploaded_file_by_its_hash(open_page, run_store, tmp_path,
                                                   monkeypatch) -> None:
    """After a reload (or for a colleague on the same server) the link names the upload by its
    SHA-256, never by a path; the file is found again in the uploads folder."""
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    data = two_d().encode()
    at = upload(open_page("pages/train.py", timeout=TIMEOUT), "q.csv", data)
    link = {k: at.query_params[k] for k in at.query_params}
    assert link["csv"] == hashlib.sha256(data).hexdigest() and link["label"] == "label"
    fresh = open_page("pages/train.py", timeout=TIMEOUT, query=link)
    assert fresh.selectbox(key="f_label").value == "label" and not fresh.error
    assert any("144 / 16 / 40" in m.value for m in fresh.markdown)
