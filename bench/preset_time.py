"""Wall time of every one-click experiment of the Train page, as the page trains them.

    python bench/preset_time.py [--long]

Trains each preset's runs one after the other on one BLAS thread (the page's setting) and prints
its wall time and each run's final validation accuracy. The quick versions are meant to finish in
well under a minute on 2 cores; presets whose files are missing (CIFAR-10) are skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.mlp.datasets import dataset_available  # noqa: E402
from core.mlp.jobs import single_blas_thread  # noqa: E402
from core.mlp.presets import PRESETS, preset_configs  # noqa: E402
from core.mlp.training import TrainConfig, TrainingRun  # noqa: E402


def time_presets(long: bool = False) -> None:
    """Train every preset once (quick or long version) and print its wall time."""
    single_blas_thread()  # as the page trains
    print(f"cores: {os.cpu_count()}")
    for preset in PRESETS.values():
        if preset.requires and not dataset_available(preset.requires)[0]:
            print(f"{preset.key:22s} skipped: {preset.requires} files not present")
            continue
        t0 = time.perf_counter()
        finals = []
        configs, _ = preset_configs(preset, long, lambda n: dataset_available(n)[0])
        for _, kwargs in configs:
            cfg = TrainConfig(**kwargs)
            records = list(TrainingRun(cfg, cfg.load_data()).run())
            finals.append(f"{records[-1]['val_acc']:.3f}" if records else "-")
        print(f"{preset.key:22s} {time.perf_counter() - t0:6.1f} s  final val acc "
              + " / ".join(finals))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="the long versions")
    time_presets(parser.parse_args().long)
