"""Non-digits from stroke fonts made by people: letters of Hershey's script, gothic and
italic fonts, letters of other alphabets and signs from its Greek, Cyrillic, symbol and
astrology fonts (npm `hersheytext`), and Chinese characters (npm `hanzi-writer-data`: Make
Me a Hanzi's stroke medians, in writing order), written with the same wobbling pen as
nondigit/negatives.py's letters: shapes the generator never made. The letters and symbols
are split by font, as the typeset glyphs are, and can be taught (`--script-negatives`,
`--symbol-negatives`); the Chinese characters are only ever measured
(`bench/reject.py --stroke-fonts`).

The fonts are not in the project: `scripts/fetch_stroke_fonts.sh` unpacks the two npm
packages under data/stroke_fonts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

from ..core.paths import PROJECT_ROOT
from ..pen.replay import Stroke
from .negatives import on_canvas, pen_brush, stacked, training_inputs, wobble

FOLDER = PROJECT_ROOT / "data" / "stroke_fonts"
KINDS = ("script letters", "chinese", "symbols")  # in seed order
_HERSHEY = Path("hersheytext/package/hersheytext.json")
_HANZI = Path("hanzi-writer-data/package")
# Hershey fonts of each split (no font in two): handwriting-like ones, and for training two
# more of other shapes. ("cursive" is left out: its letters are those of "scripts".)
LETTER_FONTS = {
    "train": ("scripts", "gothiceng", "timesi", "timesib", "futural"),
    "val": ("gothicita",),
    "test": ("scriptc", "gothicger"),
}
# Letters no digit looks like, as for the typeset glyphs (Hershey's glyphs start at "!").
_LETTERS = "AaCcDEeFfHhKkMmNnPRrTtUuVvWwXxYy"
# Letters of other alphabets and signs, by font (at the ASCII characters whose places they
# take), screened by eye on a sheet of every glyph: none a person reads as a digit (Greek
# ο Θ ζ σ, Cyrillic Б З Ч В, ☉ ♃ ⊕), nor Φ (a slashed zero's shape) or Г (a seven's), and
# none the hand-made test shapes draw (α μ ψ §, a tree, a boat, a spade), so that those stay
# unseen. No test font: the hand-made shapes are the test of what these teach.
SYMBOL_FONTS = {
    "train": {
        "greek": "ACDEHKLMNPRSTUWXcghklnpuw",
        "cyrillic": "ADEHIKLMNPQRSTUWX[]^`dehiklmnpqrstuwx{|}",
        "symbolic": "AEFGIJKLMNOPQRSTUXYZ[]^`aghnop~",
    },
    "val": {"astrology": "!+;<=>?@[]_`{|}~"},
}
# Characters of fewer strokes can look like a digit (丨 a one, 乙 a two, 口 a zero).
_MIN_STROKES = 5
_SPLIT_SEED = {"train": 0, "val": 1, "test": 2}


class StrokeFontsMissing(ValueError):
    """The fonts are not fetched: a message for the user, as for any setting that cannot
    be used."""


def available(folder: Path | None = None) -> bool:
    folder = folder or FOLDER
    return (folder / _HERSHEY).exists() and (folder / _HANZI).is_dir()


def require(folder: Path | None = None) -> None:
    folder = folder or FOLDER
    if not available(folder):
        raise StrokeFontsMissing(
            f"no stroke fonts in {folder}: run scripts/fetch_stroke_fonts.sh first"
        )


def hershey_strokes(path_data: str) -> list[Stroke]:
    """An SVG path of M and L commands (Hershey's only ones) as strokes, y pointing up."""
    strokes: list[Stroke] = []
    for part in re.findall(r"M[^M]*", path_data):
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", part)]
        points = [(x, -y) for x, y in zip(numbers[::2], numbers[1::2], strict=True)]
        if points:
            strokes.append(points)
    return strokes


def _glyphs(chars_by_font: dict[str, str], folder: Path) -> tuple[list[Stroke], ...]:
    """The glyphs at these ASCII characters of these Hershey fonts, as strokes."""
    require(folder)
    fonts = json.loads((folder / _HERSHEY).read_text())
    return tuple(
        hershey_strokes(fonts[font]["chars"][ord(char) - 33]["d"])
        for font, chars in chars_by_font.items()
        for char in chars
    )


@cache
def letters(split: str, folder: Path = FOLDER) -> tuple[list[Stroke], ...]:
    """Every allowed letter of `split`'s fonts, as strokes."""
    return _glyphs(dict.fromkeys(LETTER_FONTS[split], _LETTERS), folder)


@cache
def symbols(split: str, folder: Path = FOLDER) -> tuple[list[Stroke], ...]:
    """Every screened letter of another alphabet and sign of `split`'s fonts, as strokes."""
    return _glyphs(SYMBOL_FONTS.get(split, {}), folder)


@cache
def chinese_files(folder: Path = FOLDER) -> tuple[Path, ...]:
    require(folder)
    # One file per character, named by it (the package's own package.json is not one).
    return tuple(sorted(p for p in (folder / _HANZI).glob("*.json") if len(p.stem) == 1))


def chinese_strokes(path: Path) -> list[Stroke] | None:
    """A character's stroke medians (y up), or None for one of under _MIN_STROKES."""
    medians = json.loads(path.read_text())["medians"]
    if len(medians) < _MIN_STROKES:
        return None
    return [[(float(x), float(y)) for x, y in median] for median in medians]


def _unit_box(strokes: list[Stroke]) -> list[Stroke]:
    """Scaled into a unit box: the pen's wobble is sized for one."""
    points = np.concatenate([np.asarray(s, float) for s in strokes])
    lo, size = points.min(axis=0), max(np.ptp(points, axis=0).max(), 1e-9)
    return [[(float(x), float(y)) for x, y in (np.asarray(s, float) - lo) / size] for s in strokes]


def kinds(split: str) -> tuple[str, ...]:
    """The kinds `split` has (symbols have no test font)."""
    if split not in LETTER_FONTS:
        raise ValueError(f"unknown split {split!r}")
    return tuple(k for k in KINDS if k != "symbols" or split in SYMBOL_FONTS)


def stroke_font_sketches(
    kind: str, count: int, split: str, seed: int = 0, folder: Path = FOLDER
) -> Iterator[np.ndarray]:
    """`count` canvases (dark ink on white) of one of `split`'s kinds, seeded: script letters
    and symbols in `split`'s fonts; Chinese characters (never trained on) from any split's
    seeds."""
    if kind not in kinds(split):
        raise ValueError(f"unknown kind {kind!r} for split {split!r}")
    rng = np.random.default_rng([_SPLIT_SEED[split], KINDS.index(kind), seed])
    made = 0
    while made < count:
        if kind != "chinese":
            shapes = letters(split, folder) if kind == "script letters" else symbols(split, folder)
            strokes: list[Stroke] | None = shapes[int(rng.integers(len(shapes)))]
        else:
            files = chinese_files(folder)
            strokes = chinese_strokes(files[int(rng.integers(len(files)))])
        if strokes is None:
            continue
        made += 1
        yield on_canvas(wobble(_unit_box(strokes), rng), rng, pen_brush(rng))


def stroke_font_images(kind: str, count: int, split: str = "train", seed: int = 0) -> np.ndarray:
    """`count` sketches of `kind` (script letters, symbols or Chinese characters) from
    `split`'s fonts, as model inputs the way negatives.negative_images makes its kinds:
    uint8 (N, 28, 28). Raises StrokeFontsMissing before the fonts are fetched."""
    canvases = stroke_font_sketches(kind, count, split, seed)
    return stacked(training_inputs(kind, canvases))
