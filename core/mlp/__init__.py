"""Train an MLP (pages/train.py): a NumPy multilayer perceptron, its data, its runs, its charts.

    settings.py      every training setting declared once: range, default, label, help
    form.py          the Train page's form as data: its dict, links and settings files
    describe.py      a run's name, the parameter formula, a data set in words
    activations.py   f and f' of the four activations, side by side, with their labels
    initializers.py  uniform, fan-in, He and Glorot weights
    optimizers.py    SGD, momentum, Nesterov, Adam
    schedules.py     learning-rate decay
    model.py         `MLP`: forward, backward, parameter counts
    training.py      `TrainConfig` and `TrainingRun`: the loop, its records and status
    datasets.py      the data sets by name, split and preprocessed
    mnist_cifar.py   MNIST's IDX files and CIFAR-10's archive: checked reading and download
    toys.py          2-D toy sets
    runstore.py      every run and record in SQLite
    jobs.py          runs in a background thread, feeding the store
    charts.py        the Altair charts
    presets.py       the homework reports' experiments, one click each
    cli.py           `python -m core.train`
"""

from core.mlp.model import MLP

__all__ = ["MLP"]
