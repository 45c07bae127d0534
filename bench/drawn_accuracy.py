"""Drawn-digit accuracy: real pen-drawn digits replayed as canvas sketches.

Replays pendigits strokes (test writers by default; --split train for tuning; found or
downloaded by mnist_app/pen/sources.py, docs/data.md) into 280x280 sketches at several
brush radii, digit size 35-75% of the canvas and random position, then classifies them two ways:
  naive     whole canvas resized to 28x28 (what most demo apps do)
  pipeline  the app's own preprocessing (pen/drawn_accuracy.py, as the Models tab does)
for every shipped checkpoint (or those named).

    python -m bench.drawn_accuracy
    python -m bench.drawn_accuracy --models speedrun --brushes 6 12 20 --limit 1000
    python -m bench.drawn_accuracy --styles       # per writing style (pen/styles.py)

--styles builds each writing style MNIST lacks (pen/styles.py: slashed and dotted
zero, crossed seven, ones with a long flag (with a foot or without), looped two, open and
closed four, nine with a straight stem, narrow, wide and back-leaning hands) from the
same writers' digits by editing their pen strokes, and reads each through the app's
pipeline.

A model that answers "not a digit" (its checkpoint's reject_below) is counted wrong
wherever it refuses a digit.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_app.core.checkpoint import list_checkpoints
from mnist_app.core.predict import load_predictor
from mnist_app.pen.drawn_accuracy import model_input, share_read
from mnist_app.pen.replay import parse, random_sketches
from mnist_app.pen.sources import pendigits_path
from mnist_app.pen.styles import STYLES, in_style


def naive(sketch: np.ndarray) -> np.ndarray:
    """Whole canvas to 28x28, inverted to light-on-dark: no crop, no centring."""
    gray = Image.fromarray(sketch).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return 1 - np.asarray(gray, dtype=np.float32) / 255


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split",
        choices=["test", "train"],
        default="test",
        help="test writers (report) or train writers (tuning)",
    )
    parser.add_argument("--models", nargs="*", help="checkpoint names (default: all shipped)")
    parser.add_argument(
        "--brushes", nargs="*", type=float, default=[6, 12, 20], help="brush radii in canvas pixels"
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--file", type=Path, help="a UNIPEN file to read instead of --split")
    parser.add_argument("--weights-dir", type=Path, help="where the checkpoints are")
    parser.add_argument("--styles", action="store_true", help="a table per writing style")
    args = parser.parse_args()

    source = args.file or pendigits_path(args.split)
    digits = parse(source)
    if args.limit:
        digits = digits[: args.limit]
    names = args.models or list_checkpoints(args.weights_dir)
    predictors = [load_predictor(name, weights_dir=args.weights_dir) for name in names]
    if args.styles:
        style_table(digits, predictors, args.brushes, args.seed)
        return
    print(f"{len(digits)} digits from {source.name}, 280x280 canvas, size 35-75%")

    inputs: dict[tuple[str, float], np.ndarray] = {}
    labels = np.array([d.label for d in digits])
    for brush in args.brushes:
        sketches = [s for s, _ in random_sketches(digits, brush, seed=args.seed)]
        start = time.perf_counter()
        inputs["naive", brush] = np.stack([naive(s) for s in sketches])
        inputs["pipeline", brush] = np.stack([model_input(s) for s in sketches])
        per_image = (time.perf_counter() - start) / len(sketches) * 1000
        print(f"  brush {brush:g}: rendered and preprocessed ({per_image:.1f} ms/image)")

    header = "".join(f"{f'r={b:g}':>9}" for b in args.brushes)
    print(f"\n{'model':<18}{'method':<10}{header}{'overall':>9}")
    for predictor in predictors:
        for method in ("naive", "pipeline"):
            accs = [share_read(predictor, inputs[method, brush], labels) for brush in args.brushes]
            cells = "".join(f"{a:>9.2%}" for a in accs)
            print(f"{predictor.name:<18}{method:<10}{cells}{np.mean(accs):>9.2%}")


def style_table(digits, predictors, brushes: list[float], seed: int) -> None:
    """Accuracy per writing style and brush, through the app's pipeline."""
    header = "".join(f"{f'r={b:g}':>9}" for b in brushes)
    print(f"{'style':<26}{'digits':>7}  {'model':<16}{header}")
    for style in STYLES:
        styled = in_style(digits, style, seed)
        labels = np.array([d.label for d in styled])
        inputs = {
            brush: np.stack([model_input(s) for s, _ in random_sketches(styled, brush, seed)])
            for brush in brushes
        }
        for predictor in predictors:
            accs = [share_read(predictor, inputs[b], labels) for b in brushes]
            cells = "".join(f"{a:>9.2%}" for a in accs)
            print(f"{style:<26}{len(styled):>7}  {predictor.name:<16}{cells}", flush=True)


if __name__ == "__main__":
    main()
