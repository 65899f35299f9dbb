"""The one settings table: the form's parser, TrainConfig.validate and the command line read
every setting alike, with the same ranges and defaults; a refusal quotes the typed text as code."""

from __future__ import annotations

import re

import pytest

from core.mlp.cli import build_parser, config_from_args
from core.mlp.settings import (
    SETTINGS,
    SWEEPABLE,
    check,
    parse_hidden,
    parse_settings,
    parse_sweep,
    text_of,
)
from core.mlp.training import TrainConfig


@pytest.mark.parametrize("text,sizes", [("64", (64,)), ("64, 64", (64, 64)), ("32 16", (32, 16)),
                                        ("", ()), (" 128 ,64 ", (128, 64))])
def test_hidden_layers_parse(text: str, sizes: tuple) -> None:
    assert parse_hidden(text) == sizes


@pytest.mark.parametrize("text,message", [
    ("64,,x", "empty entry between two commas"), ("x", "`x` is not a whole number"),
    ("64, 0", "1 to 4,096 units, got `0`"), ("1.5", "`1.5` is not a whole number"),
    ("-3", "`-3` is not a whole number"), (",".join(["8"] * 21), "at most 20 hidden layers"),
    # Ten thousand digits: refused by size, not by Python's 4,300-digit limit of int().
    pytest.param("9" * 10_000, "a layer needs 1 to 4,096 units, got `" + "9" * 23 + "…`",
                 id="ten-thousand-nines"),
])
def test_hidden_layers_refused_with_a_sentence(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_hidden(text)


def test_settings_collects_every_problem_and_keeps_good_fields() -> None:
    settings, errors = parse_settings({"lr": "1e-3", "batch_size": 0, "epochs": "2.5",
                                       "l2": "inf", "seed": 7, "optimizer": "rmsprop"})
    assert settings == {"lr": 0.001, "seed": 7}
    assert len(errors) == 4
    assert any("Batch size must be a positive whole number, got `0`" in e for e in errors)
    assert any("Epochs must be a whole number" in e for e in errors)
    assert any("L2 λ is infinite" in e for e in errors)
    assert any("Optimiser must be one of sgd, momentum, nesterov, adam" in e for e in errors)


@pytest.mark.parametrize("name,typed,message", [
    # 0.9999999 used to be shown as "got 1" ({x:g}); what was typed is quoted as typed.
    ("momentum", "0.9999999", "Momentum μ must be at most 0.999, got `0.9999999`"),
    ("lr", "1,5", "use a point for decimals"),
    ("epochs", "1e308", "Epochs must be at most 10,000, got `1e308`"),
    ("seed", str(2**32), "Seed must be at most 4,294,967,295, got `4294967296`"),
    ("lr", "**bold** ![x](http://e/x.png)", "Learning rate η is not a number (`**bold** ![x]"),
])
def test_refusals_quote_what_was_typed_as_code(name, typed, message) -> None:
    with pytest.raises(ValueError) as caught:
        check(name, typed)
    shown = getattr(caught.value, "markdown", str(caught.value))
    assert message in shown, shown


@pytest.mark.parametrize("name", [n for n, s in SETTINGS.items() if s.kind in ("int", "float")])
def test_each_range_is_the_same_for_form_config_and_command_line(name: str) -> None:
    """The ends of each range: the form's check, TrainConfig.validate and argparse accept the
    same values and refuse the same values just outside."""
    s = SETTINGS[name]
    ok = [s.low if not s.low_open else None, s.high if not s.high_open else None]
    step = 1 if s.kind == "int" else 1e-6 * max(1.0, abs(s.high))
    bad = [s.low - step if not s.low_open else s.low, s.high + step if not s.high_open else s.high]
    parser = build_parser()
    for value in [v for v in ok if v is not None]:
        value = int(value) if s.kind == "int" else float(value)
        expected = None if s.none_is is not None and value == s.none_is else value
        assert check(name, text_of(name, value)) == expected
        if expected is not None:
            TrainConfig(**{name: value}).validate()
        args = parser.parse_args([s.flag, text_of(name, value)])
        assert getattr(config_from_args(args), name) == expected
    for value in bad:
        value = int(value) if s.kind == "int" else float(value)
        with pytest.raises(ValueError):
            check(name, text_of(name, value))
        with pytest.raises(ValueError):
            TrainConfig(**{name: value}).validate()
        with pytest.raises(SystemExit):
            parser.parse_args([s.flag, text_of(name, value)])


def test_defaults_come_from_the_table_everywhere() -> None:
    config, args = TrainConfig(), build_parser().parse_args([])
    for name, s in SETTINGS.items():
        assert getattr(config, name) == s.default, name
    assert config_from_args(args) == config
    # The choices in one place: an activation's label is the engine class's own.
    from core.mlp.activations import CLASSES
    assert SETTINGS["activation"].choices == {n: c.label for n, c in CLASSES.items()}
    assert SETTINGS["decay_k"].default == 1e-4 and "default 0.0001" in \
        SETTINGS["decay_k"].full_help()


@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_value_written_for_the_form_reads_back_the_same(name: str) -> None:
    value = SETTINGS[name].default
    if SETTINGS[name].kind == "choice":
        assert check(name, value) == value
    else:
        assert check(name, text_of(name, value)) == value
    assert check("lr", text_of("lr", 0.123456789012)) == 0.123456789012


def test_sweep_values_become_labelled_full_settings() -> None:
    base = {"lr": 0.1, "hidden": (64,)}
    configs, errors = parse_sweep("hidden", "32; 64, 64", base)
    assert errors == []
    assert configs == [("hidden = 32", {"lr": 0.1, "hidden": (32,)}),
                       ("hidden = 64-64", {"lr": 0.1, "hidden": (64, 64)})]
    assert parse_sweep("lr", "0.2", base)[1][0].startswith("sweep of Learning rate η: give at")
    assert "must be greater than 0" in parse_sweep("lr", "0.2, -1", base)[1][0]
    schedules, _ = parse_sweep("schedule", "constant, exponential", base)
    assert schedules[1][1]["decay_k"] == 1e-4 and "decay_k" not in schedules[0][1]
    assert set(SWEEPABLE) == {"lr", "hidden", "optimizer", "activation", "init", "batch_size",
                              "l2", "schedule", "seed"}


@pytest.mark.parametrize("key,text,twice", [("lr", "0.1, 0.1", "`0.1`"),
                                             ("lr", "0.1, 1e-1, 1", "`1e-1`"),
                                             ("hidden", "64; 64", "`64`")])
def test_a_value_given_twice_is_refused(key, text, twice) -> None:
    """Two runs under one legend entry were drawn as one curve while both were stored."""
    configs, errors = parse_sweep(key, text, {})
    assert len(errors) == 1 and "gives the same value as" in errors[0] and twice in errors[0]
