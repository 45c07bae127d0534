"""How well the shipped models tell digits from what is not a digit.

Digits: the pendigits *test* writers replayed on the canvas at brushes 6 / 12 / 20 px, and
the MNIST test set. Non-digits: the *test* split of nondigit/negatives.py: its own
generator seeds, and fonts (Liberation) that no training or tuning used; and the shapes
made by hand (nondigit/hand_made.py), measured in the test split only. For each model:

- AUROC of its score (the top probability) between drawn digits and each kind of
  non-digit;
- the share of each kind answered with a digit at the model's own threshold (its
  checkpoint's reject_below; "refused by preprocessing" counts the dots and fills that
  never reach a model);
- the share of digits refused, and drawn accuracy counting a refusal as an error.

With --stroke-fonts, also non-digits from stroke fonts (nondigit/stroke_fonts.py): letters
of Hershey's script and gothic fonts that no training or tuning used, and Chinese
characters; fetch them first with scripts/fetch_stroke_fonts.sh.

    python -m bench.reject                          # the shipped models that refuse
    python -m bench.reject --models resnet_drawn resnet_mini --per-kind 1000
    python -m bench.reject --models resnet_drawn --stroke-fonts
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mnist_app.core.checkpoint import list_checkpoints
from mnist_app.core.data import load_mnist
from mnist_app.core.predict import load_predictor
from mnist_app.nondigit import stroke_fonts
from mnist_app.nondigit.refusal import auroc, hand_made_set, non_digit_sets, stroke_font_sets
from mnist_app.pen.drawn_accuracy import BRUSHES, drawn_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", help="checkpoint names (default: those that refuse)")
    parser.add_argument("--per-kind", type=int, default=500, help="non-digits of each kind")
    parser.add_argument("--split", choices=["test", "val"], default="test")
    parser.add_argument("--weights-dir", type=Path)
    parser.add_argument("--stroke-fonts", action="store_true", help="also stroke-font kinds")
    args = parser.parse_args()
    if args.stroke_fonts and not stroke_fonts.available():
        raise SystemExit("no stroke fonts yet: run scripts/fetch_stroke_fonts.sh first")

    names = args.models or list_checkpoints(args.weights_dir)
    predictors = [load_predictor(n, weights_dir=args.weights_dir) for n in names]
    if not args.models:
        predictors = [p for p in predictors if p.reject_below > 0]
    writers = "test" if args.split == "test" else "train"
    drawn = drawn_set(writers, BRUSHES)
    mnist = load_mnist()
    non_digits = non_digit_sets(args.per_kind, args.split)
    if args.split == "test":
        non_digits.append(hand_made_set(args.per_kind))
    if args.stroke_fonts:
        non_digits += stroke_font_sets(args.per_kind, args.split)
    print(
        f"digits: {len(drawn.labels)} pendigits {writers} writers x {len(BRUSHES)} brushes, "
        f"{len(mnist.test_labels)} MNIST test; non-digits ({args.split} split): "
        + ", ".join(f"{s.sketches} {s.kind}" for s in non_digits)
    )
    for predictor in predictors:
        report(predictor, drawn, mnist, non_digits)


def report(predictor, drawn, mnist, non_digits) -> None:
    detector = ", or where its digit detector says so" if predictor.detector else ""
    print(
        f"\n{predictor.name}: refuses below a top probability of "
        f"{predictor.reject_below:.3f}{detector}"
    )
    scores = []
    for brush, images in drawn.inputs.items():
        probs, answered = predictor.answer(images)
        top = probs.max(1)
        right = (probs.argmax(1) == drawn.labels) & answered
        scores.append(top)
        print(
            f"  pendigits r={brush:g}: {right.mean():.2%} right counting refusals, "
            f"{1 - answered.mean():.2%} refused"
        )
    digit_scores = np.concatenate(scores)
    probs, answered = predictor.answer(mnist.test_images)
    right = probs.argmax(1) == mnist.test_labels.numpy()
    print(
        f"  MNIST test: {right.mean():.2%} right, {(right & answered).mean():.2%} counting "
        f"refusals, {1 - answered.mean():.2%} refused"
    )
    print(f"  {'non-digits':<16}{'sketches':>9}{'AUROC':>9}{'answered':>10}  refused before")
    answered_all, sketches_all = 0, 0
    for s in non_digits:
        probs, answered = predictor.answer(s.inputs) if len(s.inputs) else (np.zeros((0, 10)), [])
        top = probs.max(1)
        share = s.answered(answered)
        answered_all += round(share * s.sketches)
        sketches_all += s.sketches
        separation = auroc(digit_scores, top) if len(top) else float("nan")
        print(
            f"  {s.kind:<16}{s.sketches:>9}{separation:>9.4f}{share:>10.1%}  "
            f"{s.refused_by_preprocessing} (dots, fills)"
        )
    print(f"  {'all':<16}{sketches_all:>9}{'':>9}{answered_all / sketches_all:>10.1%}")


if __name__ == "__main__":
    main()
