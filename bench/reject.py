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
    python -m bench.reject --models resnet_drawn speedrun_drawn --unipen --per-institution 1000

With --unipen, also real pen non-digits: the UNIPEN 1b upper-case and 1c lower-case
letters, and the UNIPEN 1a digits to set them against, all drawn with the pen and at the
sizes of the generated kinds (brush 4-28 px, 35-80% of the canvas). Letters a digit looks
like (DIGIT_LIKE: those the project's non-digits leave out) are reported apart and kept out
of the main figure. --per-institution N draws at most N samples of each institution and
section (seeded by --seed); --institutions chooses which.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import run_script
from bench.drawn_accuracy import institution_seed, unipen_arguments, unipen_sections
from mnist_app.core.checkpoint import list_checkpoints
from mnist_app.core.data import load_mnist
from mnist_app.core.predict import load_predictor
from mnist_app.nondigit import stroke_fonts
from mnist_app.nondigit.negatives import model_input, on_canvas, pen_brush
from mnist_app.nondigit.refusal import auroc, hand_made_set, non_digit_sets, stroke_font_sets
from mnist_app.pen.drawn_accuracy import BRUSHES, drawn_set
from mnist_app.pen.unipen import UnipenSample
from mnist_app.pen.writers import DIGIT_LIKE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", help="checkpoint names (default: those that refuse)")
    parser.add_argument("--per-kind", type=int, default=500, help="non-digits of each kind")
    parser.add_argument("--split", choices=["test", "val"], default="test")
    parser.add_argument("--weights-dir", type=Path)
    parser.add_argument("--stroke-fonts", action="store_true", help="also stroke-font kinds")
    parser.add_argument(
        "--unipen", action="store_true", help="also UNIPEN's real letters against its digits"
    )
    unipen_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="the UNIPEN draw and pens")
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
    unipen = unipen_pen_set(args) if args.unipen else None
    for predictor in predictors:
        report(predictor, drawn, mnist, non_digits)
        if unipen is not None:
            unipen_report(predictor, unipen)


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


@dataclass
class PenSamples:
    """UNIPEN samples drawn on the canvas: the model inputs of those the app's
    preprocessing let through (`kept`), in order."""

    samples: list[UnipenSample]
    inputs: np.ndarray
    kept: np.ndarray

    @classmethod
    def drawn(cls, samples: list[UnipenSample], seed: int) -> PenSamples:
        """Each institution's samples with a pen and places of its own seed."""
        rngs: dict[str, np.random.Generator] = {}
        inputs, kept = [], []
        for sample in samples:
            rng = rngs.get(sample.institution)
            if rng is None:
                rng = rngs[sample.institution] = np.random.default_rng(
                    institution_seed(seed, sample.institution)
                )
            image = model_input("letters", on_canvas(sample.strokes, rng, pen_brush(rng)))
            kept.append(image is not None)
            if image is not None:
                inputs.append(image)
        stacked = np.stack(inputs) if inputs else np.zeros((0, 28, 28), np.float32)
        return cls(samples, stacked, np.array(kept, dtype=bool))

    def answer(self, predictor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per sample: answered with a digit, which digit (-1 where refused before any
        model), and the top probability of those kept."""
        answered = np.zeros(len(self.samples), bool)
        guess = np.full(len(self.samples), -1)
        if len(self.inputs):
            probs, said = predictor.answer(self.inputs)
            answered[self.kept], guess[self.kept] = said, probs.argmax(1)
            return answered, guess, probs.max(1)
        return answered, guess, np.zeros(0)


def unipen_pen_set(args) -> tuple[PenSamples, PenSamples]:
    """The UNIPEN 1a digits and the 1b + 1c letters the options choose, drawn."""
    digits, upper, lower = unipen_sections(args, "1a", "1b", "1c")
    letters = upper + lower
    print(
        f"UNIPEN, drawn as the generated kinds are (brush 4-28 px, 35-80% of the canvas): "
        f"{len(digits)} 1a digits, {len(upper)} 1b and {len(lower)} 1c letters "
        f"({'at most ' + str(args.per_institution) if args.per_institution else 'all'} per "
        f"institution and section; digit-like: {DIGIT_LIKE})",
        flush=True,
    )
    return PenSamples.drawn(digits, args.seed), PenSamples.drawn(letters, args.seed + 1)


def unipen_report(predictor, unipen: tuple[PenSamples, PenSamples]) -> None:
    """UNIPEN letters answered with a digit: by case, per institution, per letter."""
    digits, letters = unipen
    said, guess, digit_top = digits.answer(predictor)
    labels = np.array([int(s.label) for s in digits.samples])
    answered, letter_guess, letter_top = letters.answer(predictor)
    chars = np.array([s.label for s in letters.samples])
    places = np.array([s.institution for s in letters.samples])
    like = np.isin(chars, list(DIGIT_LIKE))
    upper = np.char.isupper(chars)
    print(f"  {'UNIPEN, the same pen':<40}{'sketches':>9}{'AUROC':>9}{'answered':>10}")
    right = (guess == labels) & said
    print(
        f"  {'1a digits':<40}{len(labels):>9}{'':>9}{said.mean():>10.1%}  "
        f"({right.mean():.2%} right counting refusals)"
    )
    rows = [
        ("1b upper-case letters, not digit-like", upper & ~like),
        ("1c lower-case letters, not digit-like", ~upper & ~like),
        ("letters, not digit-like (main)", ~like),
        ("1b digit-like " + "".join(c for c in DIGIT_LIKE if c.isupper()), upper & like),
        ("1c digit-like " + "".join(c for c in DIGIT_LIKE if c.islower()), ~upper & like),
    ]
    for name, chosen in rows:
        tops = letter_top[chosen[letters.kept]]
        separation = auroc(digit_top, tops) if len(tops) and len(digit_top) else float("nan")
        share = answered[chosen].mean() if chosen.any() else float("nan")
        print(f"  {name:<40}{chosen.sum():>9}{separation:>9.4f}{share:>10.1%}")
    if predictor.reject_below <= 0 and predictor.detector is None:
        return  # it answers every sketch the preprocessing lets through: no table to show
    print(
        f"  {'institution':<12}{'1a refused':>11}{'1b letters':>11}{'answered':>9}"
        f"{'1c letters':>11}{'answered':>9}{'digit-like':>11}{'answered':>9}"
    )
    digit_places = np.array([s.institution for s in digits.samples])
    for place in sorted(set(places) | set(digit_places)):
        mine = places == place
        ours = digit_places == place
        cells = f"{1 - said[ours].mean():>11.2%}" if ours.any() else f"{'':>11}"
        for chosen in (mine & upper & ~like, mine & ~upper & ~like, mine & like):
            share = f"{answered[chosen].mean():.1%}" if chosen.any() else ""
            cells += f"{chosen.sum():>11}{share:>9}"
        print(f"  {place:<12}{cells}")
    print("  per letter: sketches, answered with a digit, the commonest digit answered")
    entries = []
    for char in sorted(set(chars), key=lambda c: (c.islower(), c)):
        mine = chars == char
        said_digits = Counter(letter_guess[mine & answered].tolist())
        top = f"{said_digits.most_common(1)[0][0]}" if said_digits else "-"
        entries.append(f"{char} {mine.sum():>5} {answered[mine].mean():>6.1%} {top}")
    for start in range(0, len(entries), 4):
        print("  " + "   ".join(f"{e:<20}" for e in entries[start : start + 4]))


if __name__ == "__main__":
    run_script(main)
