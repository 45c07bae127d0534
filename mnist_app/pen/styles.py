"""Writing styles MNIST lacks, made by editing real pen trajectories: a zero with a slash
or a dot, a seven with a bar, a one with a long flag (with a foot or without), a two with
a loop, a closed four, a nine with a straight stem, and the proportions of other hands
(narrow, wide, leaning back). Open-top fours are the writers' own, selected, not edited.

A style is a function from a real pen-drawn digit to the same digit in that style (or
None where the digit does not suit it, e.g. a seven already crossed). The per-style table
of `bench/drawn_accuracy.py --styles` builds each from the pendigits test writers.
Coordinates are the tablet's, y pointing up.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .replay import PenDigit, Stroke

Style = Callable[[PenDigit, np.random.Generator], PenDigit | None]


def _points(digit: PenDigit) -> np.ndarray:
    return np.concatenate([np.asarray(s, dtype=float) for s in digit.strokes])


def _line(start, end, samples: int = 12) -> Stroke:
    """A straight pen stroke, sampled like a tablet's."""
    t = np.linspace(0, 1, samples)[:, None]
    p = (1 - t) * np.asarray(start, float) + t * np.asarray(end, float)
    return [(float(x), float(y)) for x, y in p]


def _with(digit: PenDigit, strokes: list[Stroke]) -> PenDigit:
    return PenDigit(digit.label, digit.writer, strokes)


def slashed_zero(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """Ø: a slash from below the left of the oval to above its right, drawn after it."""
    if digit.label != 0:
        return None
    points = _points(digit)
    lo, hi = points.min(axis=0), points.max(axis=0)
    size = hi - lo
    over = rng.uniform(0.0, 0.2, size=2) * size  # how far it pokes out of the oval
    shift = rng.uniform(-0.12, 0.12) * size[0]
    start = (lo[0] - over[0] + shift, lo[1] - over[1])
    end = (hi[0] + over[0] + shift, hi[1] + over[1])
    return _with(digit, [*digit.strokes, _line(start, end)])


def dotted_zero(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A zero with a dot in the middle (a short tap of the pen)."""
    if digit.label != 0:
        return None
    points = _points(digit)
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2 + rng.uniform(-0.06, 0.06, size=2) * (hi - lo)
    tap = centre + rng.uniform(-0.02, 0.02, size=2) * (hi - lo)
    return _with(digit, [*digit.strokes, _line(centre, tap, samples=3)])


def crossed_seven(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A seven not crossed yet, crossed by a short bar through its stem."""
    if digit.label != 7:
        return None
    points = _points(digit)
    lo, hi = points.min(axis=0), points.max(axis=0)
    height = hi[1] - lo[1]
    if len(digit.strokes) > 1 and any(_is_bar(s, lo[1], height) for s in digit.strokes):
        return None
    level = lo[1] + rng.uniform(0.38, 0.55) * height
    # The stem at that height: of the points below the top bar, the one nearest it.
    stem = points[points[:, 1] < hi[1] - 0.2 * height]
    if len(stem) == 0:
        return None
    x = stem[np.argmin(np.abs(stem[:, 1] - level)), 0]
    half = rng.uniform(0.15, 0.25) * max(hi[0] - lo[0], 0.6 * height)
    tilt = math.tan(math.radians(rng.uniform(-6, 6))) * half
    return _with(digit, [*digit.strokes, _line((x - half, level - tilt), (x + half, level + tilt))])


def _is_bar(stroke: Stroke, bottom: float, height: float) -> bool:
    """A flat stroke across the middle of the digit: a seven's crossbar."""
    ys = np.asarray(stroke, dtype=float)[:, 1]
    middle = bottom + 0.15 * height < ys.mean() < bottom + 0.75 * height
    return bool(middle and ys.max() - ys.min() < 0.25 * height)


def _flagged_stroke(
    digit: PenDigit, rng: np.random.Generator, longest: float, lowest: float
) -> tuple[np.ndarray, float] | None:
    """A one written as a bare stroke, as one stroke from the end of a flag down to the
    left of its top (0.3 to `longest` of its height, `lowest` to 50 degrees below the
    horizontal) through its top to its bottom, and the one's height; None for other
    digits."""
    if digit.label != 1 or len(digit.strokes) != 1:
        return None
    stroke = np.asarray(digit.strokes[0], dtype=float)
    if stroke[0, 1] < stroke[-1, 1]:  # written bottom-up: read it top-down
        stroke = stroke[::-1]
    top, height = stroke[0], stroke[0, 1] - stroke[-1, 1]
    if height <= 0:
        return None
    length = rng.uniform(0.3, longest) * height
    angle = math.radians(rng.uniform(lowest, 50))
    flag_end = top + length * np.array([-math.cos(angle), -math.sin(angle)])
    return np.concatenate([np.asarray(_line(flag_end, top)[:-1]), stroke]), height


def flagged_one(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A one with a long flag and a foot across its bottom."""
    flagged = _flagged_stroke(digit, rng, longest=0.45, lowest=25)
    if flagged is None:
        return None
    stroke, height = flagged
    bottom = stroke[-1]
    half = rng.uniform(0.2, 0.3) * height
    foot = _line((bottom[0] - half, bottom[1]), (bottom[0] + half, bottom[1]))
    return _with(digit, [[(float(x), float(y)) for x, y in stroke], foot])


def long_flag_one(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A one with a long flag and no foot, as much of Europe writes it (and so crosses its
    sevens): the flag as long as half the stem, the shape a seven's would have uncrossed."""
    flagged = _flagged_stroke(digit, rng, longest=0.55, lowest=20)
    if flagged is None:
        return None
    return _with(digit, [[(float(x), float(y)) for x, y in flagged[0]]])


def looped_two(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A two written in one stroke with a small loop where its diagonal meets its base."""
    if digit.label != 2 or len(digit.strokes) != 1:
        return None
    stroke = np.asarray(digit.strokes[0], dtype=float)
    lo, hi = stroke.min(axis=0), stroke.max(axis=0)
    size = np.maximum(hi - lo, 1e-6)
    # The corner: the point nearest the bottom-left, in the second half of the stroke.
    half = len(stroke) // 2
    corner = half + int(np.argmin(((stroke[half:] - lo) / size).sum(axis=1)))
    radius = rng.uniform(0.08, 0.13) * size[1]
    centre = stroke[corner] + np.array([-0.3 * radius, radius])
    start = math.atan2(*(stroke[corner] - centre)[::-1])
    turn = start - np.linspace(0, 2 * math.pi, 16)  # clockwise, y up: a loop up and back
    loop = centre + radius * np.stack([np.cos(turn), np.sin(turn)], axis=1)
    looped = np.concatenate([stroke[:corner], loop, stroke[corner + 1 :]])
    return _with(digit, [[(float(x), float(y)) for x, y in looped]])


def _four_parts(digit: PenDigit) -> tuple[np.ndarray, np.ndarray] | None:
    """A four written as an arm (down, then across) and a stem: the two strokes."""
    if digit.label != 4 or len(digit.strokes) != 2:
        return None
    arm, stem = (np.asarray(s, dtype=float) for s in digit.strokes)
    if np.ptp(stem[:, 1]) < np.ptp(arm[:, 1]):  # the stem is the taller stroke
        arm, stem = stem, arm
    return arm, stem


def open_four(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A four whose arm starts well apart from the top of its stem (selected as written)."""
    parts = _four_parts(digit)
    if parts is None:
        return None
    arm, stem = parts
    top = stem[np.argmax(stem[:, 1])]
    gap = np.linalg.norm(arm[np.argmax(arm[:, 1])] - top)
    return digit if gap > 0.25 * np.ptp(stem[:, 1]) else None


def closed_four(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A four whose arm runs from the top of its stem down to the corner: a closed top."""
    parts = _four_parts(digit)
    if parts is None:
        return None
    arm, stem = parts
    lo, hi = arm.min(axis=0), arm.max(axis=0)
    size = np.maximum(hi - lo, 1e-6)
    corner = int(np.argmin(((arm - lo) / size).sum(axis=1)))  # the arm's bottom-left
    height = np.ptp(stem[:, 1])
    top = stem[np.argmax(stem[:, 1])] + rng.uniform(-0.03, 0.03, 2) * height
    # Only an arm that turns at a corner left of and below the stem's top, then runs right.
    across = arm[corner:, 0].max() - arm[corner, 0]
    if not (arm[corner, 0] < top[0] - 0.15 * height and across > 0.3 * height):
        return None
    rises = arm[corner:, 1].max() - arm[corner, 1]
    if arm[corner, 1] > top[1] - 0.25 * height or rises > 0.2 * height:
        return None
    closed = np.concatenate([np.asarray(_line(top, arm[corner]))[:-1], arm[corner:]])
    return _with(digit, [[(float(x), float(y)) for x, y in closed], digit.strokes[1]])


def straight_nine(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A nine written in one stroke whose tail is a straight stem down from its loop."""
    if digit.label != 9 or len(digit.strokes) != 1:
        return None
    stroke = np.asarray(digit.strokes[0], dtype=float)
    lo, hi = stroke.min(axis=0), stroke.max(axis=0)
    height = hi[1] - lo[1]
    # The tail leaves the loop where the pen last goes below the loop's middle.
    high = np.nonzero(stroke[:, 1] > lo[1] + 0.55 * height)[0]
    if len(high) == 0 or high[-1] >= len(stroke) - 2:
        return None
    start = stroke[high[-1]]
    lean = math.tan(math.radians(rng.uniform(-4, 12))) * (start[1] - lo[1])
    stem = _line(start, (start[0] - lean, lo[1]))
    return _with(digit, [[(float(x), float(y)) for x, y in stroke[: high[-1]]] + stem])


def _reshaped(digit: PenDigit, transform: np.ndarray) -> PenDigit:
    return _with(
        digit,
        [[(float(x), float(y)) for x, y in np.asarray(s) @ transform.T] for s in digit.strokes],
    )


def narrow(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A tall, narrow hand: half to two thirds of the width."""
    return _reshaped(digit, np.diag([rng.uniform(0.5, 0.67), 1.0]))


def wide(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A wide, low hand: a third to two thirds wider (ones stay ones: not widened)."""
    return None if digit.label == 1 else _reshaped(digit, np.diag([rng.uniform(1.33, 1.67), 1.0]))


def backslanted(digit: PenDigit, rng: np.random.Generator) -> PenDigit | None:
    """A hand leaning back (to the left) by 15-25 degrees."""
    shear = -math.tan(math.radians(rng.uniform(15, 25)))
    return _reshaped(digit, np.array([[1.0, shear], [0.0, 1.0]]))


STYLES: dict[str, Style] = {
    "slashed zero": slashed_zero,
    "dotted zero": dotted_zero,
    "crossed seven": crossed_seven,
    "flagged one with a foot": flagged_one,
    "one with a long flag": long_flag_one,
    "looped two": looped_two,
    "open-top four": open_four,
    "closed four": closed_four,
    "nine with a straight stem": straight_nine,
    "narrow hand": narrow,
    "wide hand": wide,
    "hand leaning back": backslanted,
}


# Styles of the whole hand, not of one digit: in training material, each takes a third of
# the digits (all of them would outweigh the styles of single digits three to one).
PROPORTIONS = ("narrow hand", "wide hand", "hand leaning back")


# Measured, not trained on. Trained on writers 1-15 with it, resnet_drawn read these ones
# of writers 16-30 no better (94.9 / 95.7 / 96.6% at 6 / 12 / 20 px) than a resnet_mini
# trained without it (96.0 / 96.9 / 97.4%), and the writers themselves no better (99.0 /
# 99.0 / 98.7% counting refusals, as before): a long-flagged one has the shape of an
# uncrossed seven, and the writers who don't cross their sevens pull the other way.
MEASURED_ONLY = ("one with a long flag",)


def in_style(digits: list[PenDigit], style: str, seed: int = 0) -> list[PenDigit]:
    """Every digit that suits `style`, edited into it (seeded)."""
    rng = np.random.default_rng(seed)
    edited = (STYLES[style](digit, rng) for digit in digits)
    return [digit for digit in edited if digit is not None]


def training_styles(digits: list[PenDigit], seed: int = 0) -> list[PenDigit]:
    """Training material: every style but MEASURED_ONLY applied to the digits that suit
    it, the hand's proportions each to a random third of them (seeded)."""
    rng = np.random.default_rng(seed)
    thirds = np.array_split(rng.permutation(len(digits)), len(PROPORTIONS))
    share = {
        style: [digits[i] for i in third] for style, third in zip(PROPORTIONS, thirds, strict=True)
    }
    trained = [style for style in STYLES if style not in MEASURED_ONLY]
    return [
        edited
        for k, style in enumerate(trained)
        for edited in in_style(share.get(style, digits), style, seed + k)
    ]
