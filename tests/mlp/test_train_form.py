"""The Train page's form never loses what was typed or shown, refuses nets over the memory budget,
quotes typed text as code, and loads replaced data files again (issue 15 on the Train page)."""

from __future__ import annotations

import gzip
import hashlib
import re

import numpy as np
import pytest

import core.mlp.mnist_cifar as files
from core.mlp.budget import DEFAULT_BUDGET_MB
from core.mlp.form import default_form
from core.mlp.settings import SETTINGS

TIMEOUT = 60
BOXES = ["f_hidden", "f_lr", "f_l2", "f_batch_size", "f_epochs", "f_seed", "f_max_train"]


def test_every_box_is_given_its_value_not_only_its_session_state(open_page, run_store) -> None:
    """The cause of the blank boxes under load: a box whose value came only from session state
    was sent to the browser with an empty default, which the browser showed when it rebuilt the
    box. Now each box carries its value: what the student typed, else the default."""
    at = open_page("pages/train.py", timeout=TIMEOUT)
    form = default_form()
    for key in BOXES:
        assert at.text_input(key=key).proto.default == form[key.removeprefix("f_")], key
    at.text_input(key="f_hidden").set_value("32, 16")
    at.text_input(key="f_lr").set_value("0.5").run()
    at.selectbox(key="f_dataset").set_value("mnist5k").run()
    assert at.text_input(key="f_hidden").proto.default == "32, 16"
    assert at.text_input(key="f_lr").proto.default == "0.5"
    assert at.text_input(key="f_epochs").proto.default == "20"


def test_leaving_the_page_and_coming_back_keeps_what_was_typed(open_page, run_store) -> None:
    """Streamlit forgets the state of widgets a run did not draw (another page, or a run the
    browser cut short): the form's own dict keeps what the student typed."""
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.text_input(key="f_hidden").set_value("32").run()
    at.text_input(key="f_epochs").set_value("7").run()
    at.selectbox(key="f_dataset").set_value("spirals").run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert at.text_input(key="f_hidden").value == "32"
    assert at.text_input(key="f_epochs").value == "7"
    assert at.selectbox(key="f_dataset").value == "spirals"
    assert not at.error and not at.button(key="train").disabled


def test_train_uses_a_value_typed_but_not_yet_entered(open_page, run_store) -> None:
    """A student types 3 into Epochs and clicks Train before the box was entered (one run: the
    click and the new value arrive together, and the click's callback runs first): the run
    trains 3 epochs, what the box shows, not the 20 the form held."""
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.text_input(key="f_epochs").set_value("3")
    at.button(key="train").click().run()
    job = at.session_state["train_job"]
    assert [r.config.epochs for r in job.runs] == [3]
    job.stop()
    job.join(timeout=30)


def test_a_preset_shows_its_settings_in_every_box(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.text_input(key="f_epochs").set_value("3").run()
    at.selectbox(key="preset_key").set_value("tricks").run()
    at.button(key="run_preset").click().run()
    at.button(key="stop").click().run()
    assert at.text_input(key="f_epochs").value == "20"  # the preset's, not the typed 3
    assert at.selectbox(key="f_init").value == "uniform"
    assert at.text_input(key="f_lr").value == "0.1"


def test_a_net_over_the_memory_budget_is_refused_up_front(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_optimizer").set_value("adam").run()
    at.text_input(key="f_hidden").set_value(", ".join(["4096"] * 20)).run()
    (message,) = [e.value for e in at.error if "too large to train here" in e.value]
    # 64·4096 + 4096 + 19·(4096·4096 + 4096) + 4096·10 + 10 = 319,152,138 parameters
    assert "319,152,138 parameters" in message and f"{DEFAULT_BUDGET_MB:,} MB" in message
    assert "64 → 20 × 4096 → 10" in message
    assert at.button(key="train").disabled and run_store.list_runs() == []
    at.text_input(key="f_hidden").set_value("64").run()
    # digits 64-64-10, Adam: 4·(4,810·6 + 32·74·3) = 143,856 bytes, about 140 KB
    assert any("with adam: about 140 KB of the 1,024 MB budget" in c.value for c in at.caption)


MARKDOWN = "**bold** ![x](http://127.0.0.1:9/x.png) <b>b</b> [a](http://e)"


@pytest.mark.parametrize("key", ["f_hidden", "f_lr", "f_epochs", "f_seed", "f_sweep_values"])
def test_typed_markdown_is_shown_as_code(open_page, run_store, key) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    typed = MARKDOWN
    if key == "f_sweep_values":
        at.selectbox(key="f_sweep_key").set_value("lr").run()
        typed = MARKDOWN + "; 1"
    at.text_input(key=key).set_value(typed).run()
    shown = [e.value for e in at.error]
    assert shown and at.button(key="train").disabled
    for message in shown:
        # Everything typed sits inside one code span: nothing of it is left to render.
        outside = re.sub(r"`[^`]*`", "", message)
        assert "![" not in outside and "**" not in outside and "<b>" not in outside, message
        assert "`**bold**" in message, message


def test_sweep_duplicates_are_refused_on_the_page(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_sweep_key").set_value("lr").run()
    at.text_input(key="f_sweep_values").set_value("0.1, 0.1").run()
    assert any("`0.1` gives the same value as `0.1`" in e.value for e in at.error)
    assert at.button(key="train").disabled


def _mnist(folder, n_train: int, seed: int = 0) -> dict[str, str]:
    """MNIST's four files, gzipped, n_train training images; returns their MD5 sums."""
    rng = np.random.default_rng(seed)
    sums = {}
    for name, shape in (("train-images-idx3-ubyte", (n_train, 28, 28)),
                        ("train-labels-idx1-ubyte", (n_train,)),
                        ("t10k-images-idx3-ubyte", (10, 28, 28)),
                        ("t10k-labels-idx1-ubyte", (10,))):
        a = rng.integers(0, 10 if len(shape) == 1 else 256, shape)
        data = gzip.compress(bytes([0, 0, 8, a.ndim]) + np.array(shape, ">u4").tobytes()
                             + a.astype(np.uint8).tobytes())
        (folder / f"{name}.gz").write_bytes(data)
        sums[f"{name}.gz"] = hashlib.md5(data).hexdigest()
    return sums


def test_replaced_files_are_loaded_again(open_page, run_store, tmp_path, monkeypatch) -> None:
    """The page's data cache was keyed on name and settings only: new MNIST files in the same
    folder kept showing the old arrays until the server restarted."""
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    folder = tmp_path / "mnist"
    folder.mkdir()
    monkeypatch.setattr(files, "MNIST_MD5", _mnist(folder, 40))
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_dataset").set_value("mnist").run()
    # 40 images: 10% (4) for validation, 36 to train on; the 10 test images are their own
    assert any("36 / 4 / 10" in m.value for m in at.markdown)
    monkeypatch.setattr(files, "MNIST_MD5", _mnist(folder, 60, seed=1))
    at.run()
    assert any("54 / 6 / 10" in m.value for m in at.markdown)


def test_a_crafted_file_is_a_message_on_the_page(open_page, run_store, tmp_path,
                                                 monkeypatch) -> None:
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    folder = tmp_path / "mnist"
    folder.mkdir()
    _mnist(folder, 40)
    for p in folder.iterdir():  # raw files, and one whose header declares 2³¹ × 2³¹ × 4
        raw = gzip.decompress(p.read_bytes())
        p.unlink()
        (folder / p.stem).write_bytes(raw)
    (folder / "train-images-idx3-ubyte").write_bytes(
        bytes([0, 0, 8, 3]) + np.array([2**31, 2**31, 4], ">u4").tobytes())
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_dataset").set_value("mnist").run()
    assert any("mnist cannot be loaded" in e.value and "declares shape (2147483648, "
               "2147483648, 4)" in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="train").disabled


def test_the_form_defaults_are_the_tables() -> None:
    form = default_form()
    assert form["epochs"] == str(SETTINGS["epochs"].default) and form["hidden"] == "64"
    assert form["decay_k"] == "0.0001" and form["max_train"] == "0"
