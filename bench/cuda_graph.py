"""CUDA graphs: each recipe trained on the GPU with eager steps, then with graphed steps.

Same seed and settings both ways; prints training time and test accuracy of each. Eager
steps are what MNIST_APP_CUDA_GRAPHS=0 gives any run.

    python -m bench.cuda_graph                    # needs a CUDA GPU and MNIST (MNIST_DIR)
    python -m bench.cuda_graph --recipes speedrun --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.training import run
from mnist_app.training.recipes import make_config

# The long tutorial recipes are cut to 3 epochs: the step, not the run, is measured.
DEFAULT = ["speedrun", "t1_mlp_mse", "t2_fullbatch_mlp", "t3_cnn", "t4_lenet5", "t4_mlp_bn"]
SHORTENED = {"t3_cnn": 3, "t4_lenet5": 3, "t4_mlp_bn": 3, "t4_cnnnet": 3, "t5_mlp_bn": 3}


def train(recipe: str, seed: int, graphs: bool, data) -> tuple[float, float]:
    """(seconds of training, test accuracy)."""
    os.environ["MNIST_APP_CUDA_GRAPHS"] = "1" if graphs else "0"
    epochs = {"epochs": SHORTENED[recipe]} if recipe in SHORTENED else {}
    done = run(make_config(recipe, seed=seed, device="cuda", **epochs), data)
    return done.train_time_s, done.test_accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=DEFAULT)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA GPU here: nothing to measure", file=sys.stderr)
        return 2
    data = load_mnist(args.data_dir)
    print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    train("speedrun", 0, True, data)  # CUDA context, cuDNN and kernels warmed up
    train("speedrun", 0, False, data)
    print("| recipe | seed | eager | graphed | speed-up | accuracy eager / graphed |")
    print("|---|---|---|---|---|---|")
    for recipe in args.recipes:
        for seed in args.seeds:
            eager_s, eager_acc = train(recipe, seed, False, data)
            graph_s, graph_acc = train(recipe, seed, True, data)
            name = f"{recipe} ({SHORTENED[recipe]} epochs)" if recipe in SHORTENED else recipe
            print(
                f"| `{name}` | {seed} | {eager_s:.3f} s | {graph_s:.3f} s | "
                f"{eager_s / graph_s:.1f}x | {eager_acc:.2%} / {graph_acc:.2%} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    run_script(main)
