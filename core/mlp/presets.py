"""The homework reports' experiments, one click each.

A `Preset` is named for what it shows, says in two sentences what to look for, and holds the
settings of each run it compares (the sweep). The quick version runs on data shipped with the app
(mnist5k: 5,000 real MNIST digits; digits: 8×8 scikit-learn digits) and finishes in well under a
minute on 2 cores (`python bench/preset_time.py [--long]` measures it); the long version trains
longer, on full MNIST when its files are present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Preset", "PRESETS", "preset_configs"]

TRICKS = {"activation": "improved_sigmoid", "init": "fan_in", "optimizer": "momentum",
          "lr": 0.02, "momentum": 0.9}


@dataclass(frozen=True)
class Preset:
    """One experiment of the homework reports: its runs, what to look at, and which charts tell
    the story. `look_for` must stay true of the quick version (tests/mlp/test_mlp_presets.py
    runs it)."""

    key: str
    title: str
    look_for: str
    seed: str
    base: dict[str, Any]
    variants: tuple[tuple[str, dict[str, Any]], ...]
    legend: str
    charts: tuple[str, ...] = ("accuracy", "loss")
    long: dict[str, Any] = field(default_factory=dict)
    requires: str | None = None
    table: bool = False

    def configs(self, long: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """(legend label, TrainConfig keyword arguments) for every run of the sweep."""
        base = {**self.base, **(self.long if long else {})}
        return [(label, {**base, **overrides}) for label, overrides in self.variants]


PRESETS: dict[str, Preset] = {p.key: p for p in [
    Preset(
        key="learning_rate",
        title="Learning rate: too low, about right, too high",
        look_for=(
            "The smallest step size climbs slowly, the middle one reaches high accuracy within a "
            "few epochs, and the largest overshoots every minimum, so its accuracy jumps between "
            "chance (10 %) and about 20 % and never takes off. The homework reports saw these "
            "three regimes at η = 0.2, 1 and 5 on full MNIST (the highest \"stuck at very low "
            "accuracy\"); on these 5,000 digits they sit at η = 0.02, 0.5 and 50."
        ),
        seed="LAB 2, assignment 1 and Task 1: convergence for different learning rates",
        base={"dataset": "mnist5k", "hidden": (64,), "activation": "sigmoid", "init": "fan_in",
              "optimizer": "sgd", "batch_size": 32, "epochs": 20, "seed": 0},
        variants=(("η = 0.02 (too low)", {"lr": 0.02}), ("η = 0.5 (about right)", {"lr": 0.5}),
                  ("η = 50 (too high)", {"lr": 50.0})),
        legend="learning rate",
        long={"dataset": "mnist", "epochs": 30},
    ),
    Preset(
        key="weight_amplitude",
        title="Weight amplitude per layer in a deep ReLU net",
        look_for=(
            "Every layer starts at 1 by definition: watch which layers' mean |W| moves and which "
            "barely leaves 1, and how much of the change happens in the first epoch, when the "
            "loss and so the gradients are largest. As in the homework reports, the last layer, "
            "which must turn features into a one-hot answer, changes most."
        ),
        seed="LAB 2 assignment 3 and Task 3: mean absolute weight amplitude per layer",
        base={"dataset": "mnist5k", "hidden": (64, 64, 64, 64, 64), "activation": "relu",
              "init": "he", "optimizer": "sgd", "lr": 0.05, "batch_size": 32, "epochs": 15,
              "eval_every": 40, "seed": 0},
        variants=(("η = 0.05", {}), ("η = 0.005", {"lr": 0.005})),
        legend="learning rate",
        charts=("weights", "accuracy", "update"),
        long={"dataset": "mnist", "epochs": 20, "eval_every": 200},
    ),
    Preset(
        key="tricks",
        title="Tricks of the trade: fan-in init, improved sigmoid, momentum",
        look_for=(
            "Each run adds one trick to the one before: weights with variance 1/fan-in keep the "
            "sigmoids out of saturation, the improved sigmoid 1.7159·tanh(2z/3) is centred on "
            "zero, and momentum (with η lowered to 0.02) smooths the steps. Compare how fast "
            "validation accuracy rises in the first epochs, not only where it ends."
        ),
        seed="Assignment 2, Task 3: improved weight init, improved sigmoid, momentum",
        base={"dataset": "mnist5k", "hidden": (64,), "activation": "sigmoid", "init": "uniform",
              "optimizer": "sgd", "lr": 0.1, "batch_size": 32, "epochs": 20, "seed": 0},
        variants=(
            ("baseline: sigmoid, U(−1, 1)", {}),
            ("+ fan-in init", {"init": "fan_in"}),
            ("+ improved sigmoid", {"init": "fan_in", "activation": "improved_sigmoid"}),
            ("+ momentum, η = 0.02", TRICKS),
        ),
        legend="tricks",
        long={"dataset": "mnist", "epochs": 30},
    ),
    Preset(
        key="width",
        title="Width: 32, 64 or 128 hidden units",
        look_for=(
            "With the tricks on, all three widths fit the training digits almost perfectly and "
            "end within about a point of each other, near 94 % validation accuracy. The homework "
            "reports saw 32 units do slightly worse (high bias) and 128 slightly better; here "
            "the differences are the noise of one random seed, while each doubling of the width "
            "doubles the parameter count (25,450, 50,890 and 101,770 on MNIST)."
        ),
        seed="Assignment 2, Task 4 a–b: hidden-layer units 32 and 128",
        base={"dataset": "mnist5k", **TRICKS, "batch_size": 32, "epochs": 20, "seed": 0},
        variants=(("32 units", {"hidden": (32,)}), ("64 units", {"hidden": (64,)}),
                  ("128 units", {"hidden": (128,)})),
        legend="hidden units",
        long={"dataset": "mnist", "epochs": 30},
    ),
    Preset(
        key="depth",
        title="Depth: 2 or 10 hidden layers, and the overfitting gap",
        look_for=(
            "Both nets have 64 units per hidden layer (55,050 and 88,330 parameters on MNIST), "
            "fit the training set almost perfectly and settle between 93 and 95 % validation "
            "accuracy. Watch the gap between training and validation accuracy widen over the "
            "first ten epochs to about 5 points as both learn the noise of the training set along "
            "with the digits; the deeper net gains nothing from its extra layers, and its curves "
            "are more erratic."
        ),
        seed="Assignment 2, Task 4 d–e: two and ten hidden layers",
        base={"dataset": "mnist5k", **TRICKS, "batch_size": 32, "epochs": 30, "seed": 0},
        variants=(("2 hidden layers", {"hidden": (64, 64)}),
                  ("10 hidden layers", {"hidden": (64,) * 10})),
        legend="depth",
        charts=("accuracy", "gap", "loss"),
        long={"dataset": "mnist", "epochs": 40},
    ),
    Preset(
        key="regularisation_table",
        title="L2, optimisers and learning-rate decay: a results table",
        look_for=(
            "Like Table 1 of the homework, each row changes the regulariser, optimiser, decay or "
            "architecture, and the table lists best and final accuracy side by side. After 10 "
            "epochs on these digits the optimiser and its step size matter most (Adam at "
            "η = 1e-3 leads, Adam at η = 1e-4 is still far behind), while the three SGD runs, "
            "with and without L2, end within a point or two of each other, which from one random "
            "seed is noise."
        ),
        seed="Deep learning Homework 1, Table 1: L2, SGD vs Adam, exponential decay",
        base={"dataset": "mnist5k", "activation": "sigmoid", "init": "fan_in", "batch_size": 32,
              "epochs": 10, "seed": 0},
        variants=(
            ("Exp. 1: SGD η = 0.1, 100-100", {"optimizer": "sgd", "lr": 0.1,
                                              "hidden": (100, 100)}),
            ("Exp. 2: + L2 λ = 1e-4, 200-100", {"optimizer": "sgd", "lr": 0.1, "l2": 1e-4,
                                                "hidden": (200, 100)}),
            ("Exp. 3: Adam η = 1e-3, exp. decay k = 1e-4, L2", {
                "optimizer": "adam", "lr": 1e-3, "schedule": "exponential", "decay_k": 1e-4,
                "l2": 1e-4, "hidden": (250, 150)}),
            ("Exp. 4: Adam η = 1e-4, L2", {"optimizer": "adam", "lr": 1e-4, "l2": 1e-4,
                                          "hidden": (250, 150)}),
            ("Exp. 5: SGD η = 0.1, exp. decay k = 1e-4, L2", {
                "optimizer": "sgd", "lr": 0.1, "schedule": "exponential", "decay_k": 1e-4,
                "l2": 1e-4, "hidden": (250, 150)}),
        ),
        legend="experiment",
        table=True,
        long={"dataset": "mnist", "epochs": 20},
    ),
    Preset(
        key="cifar10",
        title="A NumPy MLP on CIFAR-10",
        look_for=(
            "In the homework, one hidden layer of 100 ReLU units on 3,072 raw pixels reached "
            "only about 45 % test accuracy, and its loss went up and down from step to step "
            "because every step sees one batch of 200 images. Compare plain SGD with Adam, which "
            "the homework used for its deeper PyTorch net."
        ),
        seed="Assignment 1, section 1.2: NumPy MLP, loss and test accuracy every 100 steps",
        base={"dataset": "cifar10", "hidden": (100,), "activation": "relu", "init": "he",
              "lr": 2e-3, "batch_size": 200, "epochs": 6, "eval_every": 20,
              "preprocess": "standardise", "max_train": 10_000, "seed": 0},
        variants=(("SGD η = 2e-3", {"optimizer": "sgd"}),
                  ("Adam η = 1e-3", {"optimizer": "adam", "lr": 1e-3})),
        legend="optimiser",
        charts=("accuracy", "loss"),
        long={"max_train": None, "epochs": 6, "eval_every": 100},
        requires="cifar10",
    ),
    Preset(
        key="spirals",
        title="Decision boundary: what a hidden layer buys on 2-D spirals",
        look_for=(
            "Without a hidden layer the classifier can only draw a straight boundary, so about a "
            "third of the interleaved spiral points stay on the wrong side. Two hidden layers of "
            "32 tanh units bend the boundary around the arms and get nearly every point right."
        ),
        seed="the 2-D view of the homework networks (no figure in the reports)",
        base={"dataset": "spirals", "activation": "tanh", "init": "glorot", "optimizer": "adam",
              "lr": 0.01, "batch_size": 32, "epochs": 200, "preprocess": "standardise", "seed": 0},
        variants=(("no hidden layer", {"hidden": ()}), ("32-32 tanh", {"hidden": (32, 32)})),
        legend="network",
        charts=("boundary", "accuracy", "loss"),
        long={"epochs": 500},
    ),
]}


def preset_configs(
    preset: Preset, long: bool = False,
    available: Callable[[str], bool] = lambda name: True,
) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The preset's runs, and a note when the long version falls back to mnist5k.

    The long versions ask for full MNIST; without its files they run longer on mnist5k instead.
    """
    configs = preset.configs(long)
    note = ""
    if long and any(c.get("dataset") == "mnist" for _, c in configs) and not available("mnist"):
        configs = [(label, {**c, "dataset": "mnist5k"}) for label, c in configs]
        note = "Full MNIST is not here, so the long version trains longer on mnist5k."
    return configs, note
