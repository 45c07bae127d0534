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
    python -m bench.drawn_accuracy --unipen --models resnet_drawn speedrun_drawn
    python -m bench.drawn_accuracy --unipen --per-institution 300 --institutions apb ibm

--unipen reads the UNIPEN 1a digits (about 150 writers of ten institutions, found or
downloaded by pen/sources.py) instead of pendigits, replays them the same way through the
app's pipeline, and adds the refused share, the accuracy per digit and per institution,
and the commonest confusions. --per-institution N draws at most N digits of each
institution (seeded by --seed); --institutions chooses which.

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
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from bench import run_script
from mnist_app.core.checkpoint import list_checkpoints
from mnist_app.core.predict import load_predictor
from mnist_app.pen.drawn_accuracy import model_input, share_read
from mnist_app.pen.replay import parse, random_sketches
from mnist_app.pen.sources import pendigits_path, unipen_dir
from mnist_app.pen.styles import STYLES, in_style
from mnist_app.pen.unipen import UnipenReader, UnipenSample, pen_digits, per_institution
from mnist_app.pen.unipen_labels import mislabelled
from mnist_app.pen.writers import HELD_OUT


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
    parser.add_argument("--unipen", action="store_true", help="UNIPEN 1a digits, not pendigits")
    unipen_arguments(parser)
    args = parser.parse_args()
    if args.unipen:
        if args.styles or args.file:
            parser.error("--unipen reads its own digits: not with --styles or --file")
        (samples,) = unipen_sections(args, "1a")
        names = args.models or list_checkpoints(args.weights_dir)
        predictors = [load_predictor(name, weights_dir=args.weights_dir) for name in names]
        unipen_report(samples, predictors, args.brushes, args.seed, args.per_institution)
        return

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


def unipen_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose UNIPEN samples (here and in bench/reject.py)."""
    parser.add_argument(
        "--unipen-dir", type=Path, help="the UNIPEN folder (default: found or downloaded)"
    )
    parser.add_argument("--institutions", nargs="*", help="UNIPEN institutions (default: all)")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help=f"the institutions no model trains on ({' '.join(HELD_OUT)}, pen.writers), "
        "less the digits whose ink does not show their label (pen.unipen_labels)",
    )
    parser.add_argument(
        "--per-institution",
        type=int,
        default=0,
        metavar="N",
        help="at most N UNIPEN samples of each institution and section, drawn by --seed "
        "(default: all)",
    )


def unipen_sections(args: argparse.Namespace, *sections: str) -> list[list[UnipenSample]]:
    """Each UNIPEN section's samples that the options choose (one reader: the sections
    share their include files). An institution asked for is taken from each section that
    has it; one that none has is an error."""
    if args.held_out:
        args.institutions = list(HELD_OUT)
    reader = UnipenReader(unipen_dir(args.unipen_dir))
    readings = [reader.read_section(section) for section in sections]
    present = [{s.institution for s in reading.samples} for reading in readings]
    unknown = set(args.institutions or ()) - set().union(*present)
    if unknown:
        raise SystemExit(
            f"no UNIPEN {'/'.join(sections)} samples from {', '.join(sorted(unknown))}: "
            f"there are {', '.join(sorted(set().union(*present)))}"
        )
    chosen = []
    for section, reading, here in zip(sections, readings, present, strict=True):
        skipped = f", {reading.skipped.total()} segments skipped" if reading.skipped else ""
        print(f"UNIPEN {section}: {len(reading.samples)} samples in {reader.folder}{skipped}")
        institutions = None if args.institutions is None else here & set(args.institutions)
        samples = per_institution(reading.samples, args.per_institution, institutions, args.seed)
        if args.held_out:
            samples = [s for s in samples if not mislabelled(s)]
        chosen.append(samples)
    return chosen


def institution_seed(seed: int, institution: str) -> int:
    """A seed of the institution's own: its sketches do not depend on which others are drawn."""
    return seed + zlib.crc32(institution.encode())


def unipen_inputs(digits: list, places: np.ndarray, brush: float, seed: int) -> np.ndarray:
    """The model inputs of the digits drawn at `brush`, each institution's with its own seed."""
    inputs = np.zeros((len(digits), 28, 28), np.float32)
    for place in sorted(set(places)):
        mine = np.flatnonzero(places == place)
        sketches = random_sketches([digits[i] for i in mine], brush, institution_seed(seed, place))
        inputs[mine] = np.stack([model_input(sketch) for sketch, _ in sketches])
    return inputs


def unipen_report(
    samples: list[UnipenSample], predictors, brushes: list[float], seed: int, cap: int
) -> None:
    """UNIPEN digits through the app's pipeline: per brush, per digit, per institution."""
    digits = pen_digits(samples)
    labels = np.array([d.label for d in digits])
    places = np.array([s.institution for s in samples])
    writers = Counter(i for i, _ in {(s.institution, s.writer) for s in samples})
    print(
        f"{len(digits)} UNIPEN 1a digits of {sum(writers.values())} writers, "
        f"{len(writers)} institutions ({f'at most {cap}' if cap else 'all'} per institution), "
        "280x280 canvas, size 35-75% (seeded per institution), the app's pipeline; a refusal "
        "counts as wrong"
    )
    inputs = {b: unipen_inputs(digits, places, b, seed) for b in brushes}
    header = "".join(f"{f'r={b:g}':>9}" for b in brushes)
    for predictor in predictors:
        right, refused, guesses = {}, {}, {}
        for brush in brushes:
            probabilities, answered = predictor.answer(inputs[brush])
            guesses[brush] = probabilities.argmax(axis=1)
            right[brush] = (guesses[brush] == labels) & answered
            refused[brush] = ~answered
        every = np.concatenate([right[b] for b in brushes])
        print(f"\n{predictor.name}\n  {'':<22}{header}{'overall':>9}")
        for what, table in (("right", right), ("refused", refused)):
            cells = "".join(f"{table[b].mean():>9.2%}" for b in brushes)
            overall = np.mean([table[b].mean() for b in brushes])
            print(f"  {what:<22}{cells}{overall:>9.2%}")
        every_label = np.tile(labels, len(brushes))
        per_digit = "  ".join(
            f"{d}: {every[every_label == d].mean():.2%}" for d in range(10) if (labels == d).any()
        )
        print(f"  per digit, all brushes: {per_digit}")
        wrong = Counter(
            (int(label), "refused" if no else int(guess))
            for b in brushes
            for label, guess, ok, no in zip(labels, guesses[b], right[b], refused[b], strict=True)
            if not ok
        )
        common = ", ".join(f"{a} as {b}: {n}" for (a, b), n in wrong.most_common(8))
        print(f"  commonest mistakes, all brushes: {common}")
        print(f"  {'institution':<12}{'writers':>8}{'digits':>8}{header}{'refused':>9}")
        for place in sorted(writers):
            mine = places == place
            cells = "".join(f"{right[b][mine].mean():>9.2%}" for b in brushes)
            gone = np.mean([refused[b][mine].mean() for b in brushes])
            print(f"  {place:<12}{writers[place]:>8}{mine.sum():>8}{cells}{gone:>9.2%}")


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
    run_script(main)
