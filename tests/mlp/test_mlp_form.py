"""The form as data: into a link and back, into a settings file and back, every value checked by
the settings table; bad links and files give a message and the defaults."""

from __future__ import annotations

import json

import pytest

from core.mlp.form import (
    MAX_QUERY,
    default_form,
    fill_form,
    form_from_json,
    form_settings,
    from_query,
    settings_json,
    to_query,
)
from core.mlp.training import TrainConfig


def test_a_changed_form_goes_into_a_link_and_back_exactly() -> None:
    form = {**default_form(), "dataset": "mnist5k", "hidden": "64, 32", "lr": "0.05",
            "optimizer": "adam", "beta2": "0.99", "epochs": "7", "seed": "42",
            "sweep_key": "batch_size", "sweep_values": "16, 64"}
    query = to_query(form)
    assert query == {"dataset": "mnist5k", "hidden": "64, 32", "lr": "0.05", "optimizer": "adam",
                     "beta2": "0.99", "epochs": "7", "seed": "42", "sweep_key": "batch_size",
                     "sweep_values": "16, 64"}
    back, problems = from_query(query)
    assert problems == [] and back == form
    assert to_query(default_form()) == {}  # the defaults need no link parameters


@pytest.mark.parametrize("query,named", [
    ({"lr": "abc"}, "`abc`"),
    ({"lr": "1e6"}, "at most 100"),
    ({"hidden": "9" * 300}, "longer than 200 characters"),
    ({"optimizer": "<script>alert(1)</script>"}, "got `<script>alert(1)</scrip…`"),
    ({"data_dir": "/etc"}, "`data_dir` is not a setting of this page"),
    ({"csv": "/etc/passwd"}, "`/etc/passwd` does not name an uploaded CSV file"),
    ({"csv": "0" * 64}, "not on this server: upload it again"),
    ({"__import__('os')": "1"}, "is not a setting of this page"),
    ({"sweep_key": "eps"}, "cannot sweep `eps`"),
])
def test_a_bad_link_parameter_gives_its_default_and_a_message(query, named) -> None:
    form, problems = from_query({**query, "epochs": "5"})
    assert len(problems) == 1 and named in problems[0]
    assert problems[0].startswith("Some settings in the link were not used")
    assert form["epochs"] == "5"  # the good ones are kept
    for key in query:
        assert form.get(key, "absent") == default_form().get(key, "absent")


def test_an_oversized_link_is_not_read_at_all() -> None:
    form, problems = from_query({"lr": "0.5", "pad": "x" * MAX_QUERY})
    assert form == default_form() and "longer than 2,000 characters" in problems[0]


def test_settings_go_into_a_file_and_back_into_the_form() -> None:
    config = TrainConfig(dataset="spirals", hidden=(32, 32), activation="tanh", init="glorot",
                         optimizer="adam", lr=0.01, epochs=200, preprocess="standardise",
                         eval_every=40, data_dir="/data")
    text = settings_json(config.to_dict())
    assert "data_dir" not in text and json.loads(text)["handprop_train_settings"] == 1
    form, problems = form_from_json(text)
    assert problems == []
    settings, errors = form_settings(form)
    assert errors == [] and TrainConfig(**settings) == TrainConfig(**{
        **config.to_dict(), "hidden": (32, 32), "data_dir": None})
    # a bare object, as pasted by hand, and bytes as uploaded
    assert form_from_json(b'{"lr": 0.5, "hidden": [8]}')[0] == fill_form({"lr": 0.5,
                                                                          "hidden": (8,)})


@pytest.mark.parametrize("text,message", [
    ("{not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"lr": "fast"}', "`fast`"),
    ('{"lr": 1e999}', "is infinite"),
    ('{"epochs": true}', "must be a number, not `True`"),
    ('{"hidden": [64, "x"]}', "whole numbers of units"),
    ('{"wings": 2}', "`wings` is not a training setting"),
    ("[" * 100_000, "larger than"),
])
def test_a_bad_settings_file_is_refused_with_the_reason(text, message) -> None:
    form, problems = form_from_json(text.encode() if message == "larger than" else text)
    assert form is None and len(problems) == 1 and message in problems[0], problems
