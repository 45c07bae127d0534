"""Choosing on held-out writers (issue 34): each model's refusal threshold, and how it reads
the UNIPEN institutions no model trains on (`mnist_app.pen.writers.HELD_OUT`).

Digits: the held-out institutions' 1a digits (less the mislabelled), drawn on the 280x280
canvas at brush 6 / 12 / 20 px as `bench.drawn_accuracy --unipen` draws them. Letters: their
1b and 1c letters that look like no digit, drawn as `bench.reject --unipen` draws them. For
each threshold on the top probability: digits read right (a refusal is wrong) at each
brush, digits refused, 0s, 1s and 9s read right, letters answered with a digit. The chosen
threshold is the highest that refuses at most --refuse of the digits (all brushes).

    python -m research.unipen_choice --models speedrun_drawn resnet_drawn
    python -m research.unipen_choice --weights-dir runs/w34 --models sd_s1 --keep

--keep writes the chosen threshold into each checkpoint (its reject_below, which training
does not use: the same as training with it set). Results: research/unipen.md.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from bench import run_script
from bench.drawn_accuracy import unipen_inputs
from bench.reject import PenSamples
from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from mnist_app.core.predict import load_predictor
from mnist_app.pen.unipen import pen_digits
from mnist_app.pen.writers import HELD_OUT, unipen_digits, unipen_letters

BRUSHES = (6.0, 12.0, 20.0)
THRESHOLDS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)


@dataclasses.dataclass
class HeldOut:
    labels: np.ndarray
    digits: dict[float, np.ndarray]  # model inputs per brush
    letters: PenSamples


def held_out(seed: int) -> HeldOut:
    samples = unipen_digits("held_out")
    digits = pen_digits(samples)
    places = np.array([s.institution for s in samples])
    inputs = {b: unipen_inputs(digits, places, b, seed) for b in BRUSHES}
    letters = PenSamples.drawn(unipen_letters("held_out"), seed + 1)
    labels = np.array([d.label for d in digits])
    print(
        f"held out ({' '.join(HELD_OUT)}): {len(labels)} digits x {len(BRUSHES)} brushes, "
        f"{len(letters.samples)} letters that look like no digit ({letters.kept.sum()} reach "
        "a model)"
    )
    return HeldOut(labels, inputs, letters)


def measure(predictor, data: HeldOut, refuse: float) -> float:
    """Print the threshold table; return the chosen threshold."""
    tops, guesses = {}, {}
    for brush, inputs in data.digits.items():
        probabilities = predictor.probabilities(inputs)
        tops[brush], guesses[brush] = probabilities.max(1), probabilities.argmax(1)
    letter_probs = predictor.probabilities(data.letters.inputs)
    letter_tops = letter_probs.max(1)
    print(f"\n{predictor.name}: MNIST test {predictor.checkpoint.metrics['test_accuracy']:.2%}")
    header = "".join(f"{f'r={b:g}':>9}" for b in BRUSHES)
    print(f"  {'threshold':<10}{header}{'refused':>9}{'0':>8}{'1':>8}{'9':>8}{'letters':>9}")
    chosen = 0.0
    for threshold in THRESHOLDS:
        right = {b: (guesses[b] == data.labels) & (tops[b] >= threshold) for b in BRUSHES}
        refused = np.mean([(tops[b] < threshold).mean() for b in BRUSHES])
        every = np.concatenate(list(right.values()))
        labels = np.tile(data.labels, len(BRUSHES))
        zero, one, nine = (every[labels == d].mean() for d in (0, 1, 9))
        # Letters the preprocessing stops (dots, fills) never reach a model: not answered.
        answered = (letter_tops >= threshold).sum() / len(data.letters.samples)
        cells = "".join(f"{right[b].mean():>9.2%}" for b in BRUSHES)
        print(
            f"  {threshold:<10.2f}{cells}{refused:>9.2%}{zero:>8.2%}{one:>8.2%}{nine:>8.2%}"
            f"{answered:>9.1%}"
        )
        if refused <= refuse:
            chosen = threshold
    print(f"  chosen: {chosen:.2f} (the highest refusing at most {refuse:.1%} of the digits)")
    return chosen


def keep(name: str, weights_dir: Path | None, threshold: float) -> None:
    path = checkpoint_path(name, weights_dir)
    checkpoint = load_checkpoint(path)
    checkpoint.config = {**checkpoint.config, "reject_below": threshold}
    save_checkpoint(checkpoint, path, overwrite=True)
    print(f"  kept in {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", required=True, help="checkpoint names")
    parser.add_argument("--weights-dir", type=Path, help="where the checkpoints are")
    parser.add_argument("--refuse", type=float, default=0.01, help="digits refused at most")
    parser.add_argument("--seed", type=int, default=0, help="sizes, places and pens")
    parser.add_argument("--keep", action="store_true", help="write the threshold chosen")
    args = parser.parse_args()
    data = held_out(args.seed)
    for name in args.models:
        chosen = measure(load_predictor(name, weights_dir=args.weights_dir), data, args.refuse)
        if args.keep:
            keep(name, args.weights_dir, chosen)


if __name__ == "__main__":
    run_script(main)
