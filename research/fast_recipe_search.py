"""Which recipe passes 99% on MNIST fastest on a laptop CPU (issue 38)?

Each candidate is `speedrun` with some settings changed. It trains on MNIST less 5,000
training images and is judged on those 5,000 (never on the test set), over `--seeds`
seeds: the training time (steps only, no evaluation inside the timed loop) and the
held-out accuracy, median and minimum. The winner's test accuracy is measured once, by
bench/train_speed.py.

    python -m research.fast_recipe_search                       # every candidate, 3 seeds
    python -m research.fast_recipe_search --only speedrun b512_250 --seeds 5
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import torch

from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.core.evaluation import evaluate
from mnist_app.training import run
from mnist_app.training.material import training_split
from mnist_app.training.recipes import make_config


def _net(widths: tuple[int, int], hidden: int) -> dict:
    return {"arch_kwargs": {"widths": widths, "hidden": hidden}}


CANDIDATES: dict[str, dict] = {
    "speedrun": {},
    # Bigger batches, fewer steps: the same net.
    "b256_235": dict(batch_size=256, steps=235, lr=0.2),
    "b256_300": dict(batch_size=256, steps=300, lr=0.2),
    "b512_120": dict(batch_size=512, steps=120, lr=0.4),
    "b512_150": dict(batch_size=512, steps=150, lr=0.4),
    "b512_150_lr6": dict(batch_size=512, steps=150, lr=0.6),
    "b1024_75": dict(batch_size=1024, steps=75, lr=0.8),
    "b128_470": dict(steps=470),
    # Smaller nets.
    "w16_32_h128_b128_470": dict(steps=470, **_net((16, 32), 128)),
    "w16_32_h128_b128_700": dict(**_net((16, 32), 128)),
    "w16_32_h128_b128_700_lr2": dict(lr=0.2, **_net((16, 32), 128)),
    "w16_32_h128_b128_700_ls0": dict(label_smoothing=0.0, **_net((16, 32), 128)),
    "w16_32_h128_b256_350": dict(batch_size=256, steps=350, lr=0.2, **_net((16, 32), 128)),
    "w16_32_h128_b64_940": dict(batch_size=64, steps=940, lr=0.05, **_net((16, 32), 128)),
    "w16_32_h64_b128_700": dict(**_net((16, 32), 64)),
    "w16_32_h256_b128_600_lr15": dict(steps=600, lr=0.15, **_net((16, 32), 256)),
    "w16_48_h128_b128_600": dict(steps=600, **_net((16, 48), 128)),
    "w24_32_h128_b128_600": dict(steps=600, **_net((24, 32), 128)),
    "w24_48_h128_b128_470": dict(steps=470, **_net((24, 48), 128)),
    "w24_48_h128_b256_300": dict(batch_size=256, steps=300, lr=0.2, **_net((24, 48), 128)),
    "w12_24_h128_b128_900": dict(steps=900, **_net((12, 24), 128)),
}


def held_out_accuracy(name: str, seed: int, data) -> tuple[float, float]:
    changes = dict(CANDIDATES[name])
    arch_kwargs = changes.pop("arch_kwargs", None)
    config = make_config("speedrun", seed=seed, val_size=5000, **changes)
    if arch_kwargs:  # not a setting of the command line: the recipe's own
        config = dataclasses.replace(config, arch_kwargs=arch_kwargs)
    done = run(config, data)
    _, held_out = training_split(config, data)
    found = evaluate(done.model, held_out.images, held_out.labels, config.mean, config.std)
    return done.train_time_s, found.accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    data = load_mnist()
    print(f"{torch.get_num_threads()} CPU threads\n")
    print("| candidate | settings | training s (median) | held-out accuracy median | min |")
    print("|---|---|---|---|---|")
    for name in args.only:
        times, accuracies = [], []
        for seed in range(args.seeds):
            seconds, accuracy = held_out_accuracy(name, seed, data)
            times.append(seconds)
            accuracies.append(accuracy)
        print(
            f"| {name} | {CANDIDATES[name] or 'as shipped'} | {statistics.median(times):.2f} | "
            f"{statistics.median(accuracies):.2%} | {min(accuracies):.2%} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    run_script(main)
