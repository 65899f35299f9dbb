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
    csvdata.py       your own CSV data: checked reading and limits
    budget.py        the memory a net needs to train, against a settable budget
    status.py        `RunStatus`: the one vocabulary of a run's state
    records.py       `Record`: the keys training, the store, jobs and charts share
    store_schema.py  the run store's tables, declared once for both back ends
    store_sqlite.py  the store on SQLite (the default, no set-up)
    store_postgres.py  the store on PostgreSQL (HANDPROP_DB=postgresql://...)
    runstore.py      `RunStore`: every run and record, on either back end
    run_tables.py    the runs as tables for the page and its downloads
    workers.py       `WorkerPool`: runs in worker processes, one BLAS thread each
    jobs.py          a session's runs: dispatched to the pool, fed to the store
    charts.py        the Altair charts
    presets.py       the homework reports' experiments, one click each
    cli.py           `python -m core.train`
"""

from core.mlp.model import MLP

__all__ = ["MLP"]
