"""The trainer's own training seconds per recipe, to compare two checkouts on one machine
(run it in each, one after the other). The CNN tutorial recipes run a fixed number of
steps, the rest as they are; all on the 60,000 training images (no validation).

    python -m bench.trainer_speed
    cd ../old-checkout && PYTHONPATH=. python /path/to/bench/trainer_speed.py   # that checkout

Run from a checkout's root, Python imports that checkout's mnist_app before any installed one.
"""

from __future__ import annotations

import argparse
import os

from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.training import run
from mnist_app.training.recipes import make_config

RUNS = [
    ("t1_mlp_mse", {}),
    ("t5_mlp_bn", {}),
    ("t4_mlp_bn", {"epochs": 3}),
    ("t2_fullbatch_mlp", {"steps": 300}),
    ("speedrun", {"seed": 0}),
    ("speedrun", {"seed": 1}),
    ("speedrun", {"seed": 2}),
    ("t4_lenet5", {"epochs": 0, "steps": 600}),
    ("t4_cnnnet", {"epochs": 0, "steps": 600}),
    ("t3_cnn", {"epochs": 0, "steps": 300}),
    ("resnet_mini", {"epochs": 0, "steps": 100}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="*", help="only these recipes' runs (default: all)")
    args = parser.parse_args()
    data = load_mnist()
    print(f"checkout: {os.getcwd()}")
    for recipe, overrides in RUNS:
        if args.recipes and recipe not in args.recipes:
            continue
        done = run(make_config(recipe, val_size=0, **overrides), data)
        print(
            f"{recipe:<18} {overrides!s:<28} {done.train_time_s:7.2f} s  {done.test_accuracy:.2%}",
            flush=True,
        )


if __name__ == "__main__":
    run_script(main)
