"""Label noise in UNIPEN 1a (issue 34): its digits' quality is "?", not checked by hand.

Draws every 1a digit on the 280x280 canvas at brush 12 px (a random size and place,
seeded, as bench/drawn_accuracy.py draws them), reads it through the app's pipeline with
each model named, and finds the *suspects*: the digits every model reads as one and the
same other digit (each with a top probability above --confidence), and those a model
that refuses (resnet_drawn) refuses. It then counts, per institution, the digits whose
ink does not show their label:

- IBM's *fragments* (`mnist_app.pen.unipen_labels.fragment`): IBM cut some digits
  written in two or three strokes into one segment per stroke, each labelled with the
  digit. Each such stroke was recorded in its own frame (its points start from 0, 0; so
  were 393 of IBM's 1,568 segments), so the strokes' places relative to each other are
  lost and the pieces cannot be put back together. A lone stem, arm or bar labelled 4, a
  lone slash labelled 0, a one's lone foot. Found by a rule, checked by eye on the sheets
  (fragments-ibm.png);
- the other suspects judged wrong by eye (`unipen_labels.JUDGED_WRONG`: another digit, a
  fragment, several digits in one segment, or ink no one can read as its label), from the
  sheets of a run with the defaults.

The rest of the suspects were judged fair digits that the models get wrong (ones with a
long flag, barred or slashed zeros, boxy zeros, open-top nines, fives whose stem is
missing).

Sheets (git-ignored, under --out), one PNG per institution: each stroke its own colour in
writing order (red, blue, green, orange, purple, ...), a dot where it starts; captioned
with the suspect's number, label, reading ("no": refused), the lowest top probability,
and F (a fragment) or W (judged wrong). suspects.csv lists them.

    python -m research.unipen_labels
    python -m research.unipen_labels --confidence 0.9 --out data/val/unipen_confident

Results: research/unipen.md.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench import run_script
from mnist_app.core.paths import PROJECT_ROOT
from mnist_app.core.predict import load_predictor
from mnist_app.pen.drawn_accuracy import model_input
from mnist_app.pen.replay import PenDigit, random_sketches
from mnist_app.pen.sources import unipen_dir
from mnist_app.pen.unipen import UnipenReader, UnipenSample, pen_digits, per_institution
from mnist_app.pen.unipen_labels import JUDGED_WRONG, fragment

COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
TILE = 128  # pixels per sample on a sheet
COLUMNS = 10
CSV_COLUMNS = ["number", "institution", "source", "delineation", "writer", "label", "read as"]
CSV_COLUMNS += ["verdict"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=["resnet_drawn", "speedrun_drawn"])
    parser.add_argument("--weights-dir", type=Path)
    parser.add_argument("--confidence", type=float, default=0.0, help="suspects above this")
    parser.add_argument("--brush", type=float, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unipen-dir", type=Path)
    parser.add_argument("--institutions", nargs="*")
    parser.add_argument("--per-institution", type=int, default=0, metavar="N")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "val" / "unipen_labels")
    args = parser.parse_args()

    reading = UnipenReader(unipen_dir(args.unipen_dir)).read_section("1a")
    samples = per_institution(reading.samples, args.per_institution, args.institutions, args.seed)
    digits = pen_digits(samples)
    labels = np.array([d.label for d in digits])
    inputs = np.stack(
        [model_input(s) for s, _ in random_sketches(digits, args.brush, seed=args.seed)]
    )
    screen = Screen.of(samples, labels, inputs, args)
    print(
        f"{len(samples)} UNIPEN 1a digits at brush {args.brush:g} px. Misread: read as one "
        f"other digit by {' and '.join(args.models)} (each above {args.confidence:g}); "
        "confident: each above 0.9; refused: by a model that refuses. Suspects: misread or "
        "refused. Wrong: IBM fragments, and suspects judged wrong by eye. Right: "
        f"{args.models[0]}'s share read right (a refusal wrong), of all and without the wrong."
    )
    screen.table(samples)
    suspect, wrong = screen.suspect, screen.wrong
    print(
        f"suspects judged wrong: {(suspect & wrong).sum()} of {suspect.sum()}; confident "
        f"misread judged wrong: {(screen.confident & wrong).sum()} of {screen.confident.sum()}; "
        f"wrong ones no suspect: {(wrong & ~suspect).sum()}"
    )
    write_out(args.out, samples, digits, screen)


@dataclass
class Screen:
    """Per digit: its label, the first model's reading, the lowest top probability, which
    screens it fails, and whether it is wrong (a fragment, or judged so)."""

    labels: np.ndarray
    guess: np.ndarray
    top: np.ndarray
    misread: np.ndarray
    confident: np.ndarray
    refused: np.ndarray
    broken: np.ndarray
    judged: np.ndarray
    right: np.ndarray

    @classmethod
    def of(cls, samples, labels, inputs, args) -> Screen:
        guesses, tops, answers = [], [], []
        for name in args.models:
            predictor = load_predictor(name, weights_dir=args.weights_dir)
            probabilities, answered = predictor.answer(inputs)
            guesses.append(probabilities.argmax(1))
            tops.append(probabilities.max(1))
            answers.append(answered)
        guess, top = np.stack(guesses), np.stack(tops)
        misread = ((guess != labels) & (top > args.confidence)).all(0) & (guess == guess[0]).all(0)
        return cls(
            labels=labels,
            guess=guess[0],
            top=top.min(0),
            misread=misread,
            confident=misread & (top > 0.9).all(0),
            refused=~np.stack(answers).all(0),
            broken=np.array([fragment(s) for s in samples]),
            judged=np.array([(s.source, s.delineation) in JUDGED_WRONG for s in samples]),
            right=(guess[0] == labels) & answers[0],
        )

    @property
    def suspect(self) -> np.ndarray:
        return self.misread | self.refused

    @property
    def wrong(self) -> np.ndarray:
        return self.broken | self.judged

    def table(self, samples: list[UnipenSample]) -> None:
        institutions = np.array([s.institution for s in samples])
        columns = ("misread", "confident", "refused", "fragments", "judged", "wrong")
        print(f"{'institution':<12}{'digits':>7}" + "".join(f"{c:>10}" for c in columns), end="")
        print(f"{'share':>8}{'right':>8}{'without':>9}")
        for place in [*sorted(set(institutions)), "all"]:
            mine = institutions == place if place != "all" else np.ones(len(samples), bool)
            counts = (self.misread, self.confident, self.refused, self.broken, self.judged)
            cells = "".join(f"{(mine & c).sum():>10}" for c in (*counts, self.wrong))
            print(
                f"{place:<12}{mine.sum():>7}{cells}{(mine & self.wrong).sum() / mine.sum():>8.2%}"
                f"{self.right[mine].mean():>8.2%}{self.right[mine & ~self.wrong].mean():>9.2%}"
            )


def tile(digit: PenDigit, caption: str) -> Image.Image:
    """The digit's strokes in writing order, each its own colour, a dot where it starts."""
    image = Image.new("RGB", (TILE, TILE), "white")
    draw = ImageDraw.Draw(image)
    fitted = digit.fit(TILE, TILE - 30, (TILE / 2, TILE / 2 + 8))
    for k, stroke in enumerate(fitted):
        colour = COLOURS[k % len(COLOURS)]
        if len(stroke) > 1:
            draw.line(stroke, fill=colour, width=3)
        x, y = stroke[0]
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
    draw.text((3, 2), caption, fill="black")
    draw.rectangle((0, 0, TILE - 1, TILE - 1), outline="#cccccc")
    return image


def write_out(out: Path, samples, digits, screen: Screen) -> None:
    """suspects.csv, and a sheet of each institution's suspects and of its fragments."""
    out.mkdir(parents=True, exist_ok=True)
    found = np.flatnonzero(screen.suspect)
    verdicts = np.where(screen.broken, "F", np.where(screen.judged, "W", ""))
    readings = np.where(screen.refused, "no", screen.guess.astype(str))
    labels = screen.labels
    with open(out / "suspects.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for k, i in enumerate(found):
            s = samples[i]
            row = [s.institution, s.source, s.delineation, s.writer, labels[i], readings[i]]
            writer.writerow([k, *row, verdicts[i]])
    tiles = [
        (i, f"{k} {labels[i]}->{readings[i]} {screen.top[i]:.2f} {verdicts[i]}")
        for k, i in enumerate(found)
    ]
    sheets(out, "suspects", tiles, samples, digits)
    fragments = [
        (i, f"{labels[i]} {samples[i].delineation}") for i in np.flatnonzero(screen.broken)
    ]
    sheets(out, "fragments", fragments, samples, digits)
    print(f"sheets and suspects.csv in {out}")


def sheets(out: Path, name: str, tiles: list[tuple[int, str]], samples, digits) -> None:
    """`name`-<institution>.png: the (sample, caption) `tiles`, by institution."""
    for place in sorted({samples[i].institution for i, _ in tiles}):
        mine = [(i, caption) for i, caption in tiles if samples[i].institution == place]
        sheet = Image.new("RGB", (COLUMNS * TILE, -(-len(mine) // COLUMNS) * TILE), "white")
        for n, (i, caption) in enumerate(mine):
            sheet.paste(tile(digits[i], caption), ((n % COLUMNS) * TILE, (n // COLUMNS) * TILE))
        sheet.save(out / f"{name}-{place}.png")


if __name__ == "__main__":
    run_script(main)
