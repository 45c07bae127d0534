"""Teach a trained reader more non-digits by fine-tuning it, instead of training anew: does
MNIST keep its accuracy when the new material comes after the digits are learnt?

The starting weights are a refusal_search candidate trained on MNIST less 5,000 and writers
1-15 (`python -m bench.refusal_search --only resnet_drawn --save data/val/models`). The
fine-tune sees the same digits, plus the non-digit material given here, for a short
one-cycle run at a low peak rate; it is measured as refusal_search measures a candidate
(held-out MNIST, writers 16-30 and their styles, the val non-digits and val font).

The saved weights are a bare state dict: they are made into a checkpoint in a temporary
folder for the trainer's `start_from`.

    python -m bench.finetune_search data/val/models/resnet_drawn.pt --script-negatives 4000
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch

from bench import run_script
from mnist_app.core.checkpoint import make_checkpoint, save_checkpoint
from mnist_app.core.models import build_model
from mnist_app.core.settings import TrainConfig
from mnist_app.training import run
from mnist_app.training.recipes import make_config
from research.drawing_recipe_search import on_fit_writers
from research.refusal_search import held_out, report


def as_checkpoint(weights: Path, config: TrainConfig, folder: Path) -> Path:
    """The state dict at `weights` saved as a checkpoint of `config` in `folder`."""
    model = build_model(config.arch, **config.model_kwargs())
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    path = folder / f"{weights.stem}.pt"
    save_checkpoint(make_checkpoint(weights.stem, model, config, "resnet_drawn", {}), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path, help="a resnet_drawn candidate's state dict")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=0.01, help="one-cycle peak")
    parser.add_argument("--negatives", type=int, default=24000)
    parser.add_argument("--script-negatives", type=int, default=4000)
    parser.add_argument("--symbol-negatives", type=int, default=0)
    parser.add_argument("--non-digits", type=int, default=300, help="per kind, measured")
    parser.add_argument("--save", type=Path, help="keep the weights in this folder")
    args = parser.parse_args()
    material = held_out(args.non_digits)
    settings = dict(
        steps=args.steps,
        lr=args.lr,
        negatives=args.negatives,
        script_negatives=args.script_negatives,
        symbol_negatives=args.symbol_negatives,
    )
    # The same held-out MNIST as the starting weights' run: its split is seeded by that run's
    # seed, so the fine-tune keeps the seed and varies nothing else by it.
    config = on_fit_writers(make_config("resnet_drawn", **settings))
    with tempfile.TemporaryDirectory() as folder:
        start = as_checkpoint(args.weights, config, Path(folder))
        began = time.perf_counter()
        done = run(dataclasses.replace(config, start_from=str(start)), material[0])
    name = (
        f"{args.weights.stem}_finetuned_{args.steps}x{args.lr:g}"
        f"_script{args.script_negatives}_symbols{args.symbol_negatives}"
    )
    report(name, done, time.perf_counter() - began, *material, args.save)


if __name__ == "__main__":
    run_script(main)
