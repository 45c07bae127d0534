"""How `speedrun_drawn` was chosen, without the test writers: candidate settings trained on
MNIST (5,000 training images held out) plus pendigits train writers 1-15, measured on
train writers 16-30 at brushes 6 / 12 / 20 px and on the held-out MNIST images.

Writers 1-15 are replayed twice, as many drawn digits as all 30 writers once (the recipe).
Make the two files once from the train writers (git-ignored, under data/val/):

    python -m bench.drawing_recipe_search --split-writers
    python -m bench.drawing_recipe_search                 # every candidate, one line each
    python -m bench.drawing_recipe_search --only recipe   # one of them
    python -m bench.drawing_recipe_search --only recipe_3400 --save data/val/models
                                                          # and keep its weights
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from bench import run_script
from mnist_app.core.data import load_mnist
from mnist_app.core.evaluation import predict_logits
from mnist_app.core.paths import PROJECT_ROOT
from mnist_app.core.settings import TrainConfig
from mnist_app.pen.drawn_accuracy import drawn_set
from mnist_app.pen.sources import pendigits_path
from mnist_app.training import run
from mnist_app.training.recipes import RECIPES, make_config

VAL_DIR = PROJECT_ROOT / "data" / "val"
FIT, CHECK = VAL_DIR / "writers1-15.tra", VAL_DIR / "writers16-30.tra"
# Every candidate uses resnet_mini's drawing augmentation, as the recipe does.
AUGMENT = {
    name: getattr(RECIPES["resnet_mini"].config, name)
    for name in ("augment", "rotate", "shift", "scale", "shear", "thickness")
}
NARROW, WIDE = {"hidden": 256}, {"widths": [48, 96], "hidden": 256}

# name: (arch, arch_kwargs, settings); all on speedrun's optimizer and schedule, drawn copies
# counted per rendering of all 30 writers, as in a recipe.
CANDIDATES = {
    "narrow_128x4000": ("speednet", NARROW, dict(steps=4000)),
    "narrow_128x4000_4_replays": ("speednet", NARROW, dict(steps=4000, drawn_copies=2)),
    "narrow_128x6000": ("speednet", NARROW, dict(steps=6000)),
    "wide_128x4000": ("speednet", WIDE, dict(steps=4000)),
    "wide_128x6000": ("speednet", WIDE, dict(steps=6000)),
    "deep_128x4000": ("speednet", {**NARROW, "depth": 2}, dict(steps=4000)),
    "narrow_256x3000": ("speednet", NARROW, dict(steps=3000, batch_size=256, lr=0.2)),
    "recipe": (
        "speednet",
        NARROW,
        dict(steps=3000, batch_size=256, lr=0.2, drawn_repeats=3),
    ),
    "wide_256x3000_x3": (
        "speednet",
        WIDE,
        dict(steps=3000, batch_size=256, lr=0.2, drawn_repeats=3),
    ),
    "wide_256x3500_x3": (
        "speednet",
        WIDE,
        dict(steps=3500, batch_size=256, lr=0.2, drawn_repeats=3),
    ),
    "recipe_3400": ("speednet", NARROW, dict(steps=3400, batch_size=256, lr=0.2, drawn_repeats=3)),
    "recipe_3400_elastic1.5": (
        "speednet",
        NARROW,
        dict(steps=3400, batch_size=256, lr=0.2, drawn_repeats=3, elastic=1.5),
    ),
    "recipe_3400_elastic2.5": (
        "speednet",
        NARROW,
        dict(steps=3400, batch_size=256, lr=0.2, drawn_repeats=3, elastic=2.5),
    ),
    "conv96_3400": (
        "speednet",
        {**NARROW, "widths": [32, 96]},
        dict(steps=3400, batch_size=256, lr=0.2, drawn_repeats=3),
    ),
    "resnet_16_32_64_128x2000_x3": (
        "resnet_mini",
        {"widths": [16, 32, 64]},
        dict(steps=2000, drawn_repeats=3),
    ),
    "resnet_12_24_48_128x2800_x3": (
        "resnet_mini",
        {"widths": [12, 24, 48]},
        dict(steps=2800, drawn_repeats=3),
    ),
    "resnet_16_32_64_128x2500_x3": (
        "resnet_mini",
        {"widths": [16, 32, 64]},
        dict(steps=2500, drawn_repeats=3),
    ),
}


def split_writers() -> None:
    """Train writers 1-15 and 16-30 as two UNIPEN files (a digit's writer is on the
    .COMMENT line after its .SEGMENT)."""
    VAL_DIR.mkdir(parents=True, exist_ok=True)
    blocks, header = [], []
    for line in pendigits_path("train").read_text().splitlines(keepends=True):
        if line.startswith(".SEGMENT"):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            header.append(line)
    for path, writers in ((FIT, range(1, 16)), (CHECK, range(16, 31))):
        chosen = [b for b in blocks if int(b[1].split()[2]) in writers]
        path.write_text("".join(header + [line for b in chosen for line in b]))
        print(f"{path}: {len(chosen)} digits")


def on_fit_writers(config: TrainConfig) -> TrainConfig:
    """`config` as the searches train it: 5,000 MNIST training images held out, and writers
    1-15 replayed twice as often as the recipe replays all 30 (as many drawn digits)."""
    return dataclasses.replace(
        config, drawn_data=str(FIT), drawn_copies=2 * config.drawn_copies, val_size=5000
    )


def candidate_config(name: str) -> TrainConfig:
    """A candidate's settings, trained on writers 1-15 (`on_fit_writers`)."""
    arch, arch_kwargs, settings = CANDIDATES[name]
    recipe = "resnet_mini" if arch == "resnet_mini" else "speedrun"
    # Drawn copies count as in a recipe, per rendering of all 30 writers.
    config = make_config(recipe, **AUGMENT, epochs=0, **{"drawn_copies": 1, **settings})
    return on_fit_writers(dataclasses.replace(config, arch=arch, arch_kwargs=arch_kwargs))


def measure(name: str, data, check, save: Path | None = None) -> None:
    config = candidate_config(name)
    began = time.perf_counter()
    done = run(config, data)
    wall = time.perf_counter() - began
    drawn = []
    for brush, images in check.inputs.items():
        logits = predict_logits(done.model, torch.from_numpy(images), config.mean, config.std)
        drawn.append(f"r={brush:g} {np.mean(logits.argmax(1).numpy() == check.labels):.2%}")
    print(
        f"{name:<30} {done.train_time_s:6.1f} s of steps ({wall:.0f} s in all)  "
        f"MNIST held out {done.history[-1].val_accuracy:.2%}  drawn {'  '.join(drawn)}",
        flush=True,
    )
    if save:
        save.mkdir(parents=True, exist_ok=True)
        torch.save(done.model.state_dict(), save / f"{name}.pt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split-writers", action="store_true")
    parser.add_argument("--only", nargs="*", choices=list(CANDIDATES), default=list(CANDIDATES))
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: MNIST_DIR)")
    parser.add_argument("--save", type=Path, help="keep each model's weights in this folder")
    args = parser.parse_args()
    if args.split_writers:
        split_writers()
        return
    if not FIT.exists():
        raise SystemExit("make the writer files first: --split-writers")
    data = load_mnist(args.data_dir)
    check = drawn_set(source=Path(CHECK))
    for name in args.only:
        measure(name, data, check, args.save)


if __name__ == "__main__":
    run_script(main)
