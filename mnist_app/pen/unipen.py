"""UNIPEN train_r01_v07: isolated characters read from the UNIPEN text format, as pen strokes
the project replays like its pendigits (`replay.PenDigit`, `replay.render`).

A distribution folder holds ``data/`` and ``include/``. A ``data/<section>/<institution>/``
file names the pen data with ``.INCLUDE`` lines (paths under ``include/``, read in order as
one stream; an included file may include others) and cuts characters out of that stream
with ``.SEGMENT CHARACTER <delineation> <quality> "<label>"`` lines. Sections: ``1a``
digits, ``1b`` upper-case letters, ``1c`` lower-case letters.

    >>> digits = UnipenReader().read_section("1a")  # found or downloaded: sources.unipen_dir
    >>> digits = UnipenReader("../shared/handwriting/unipen").read_section("1a")
    >>> digits.samples[0].label, digits.samples[0].institution     # "1", "aga"
    >>> digits.skipped                        # Counter({"all points at one place": 3})
    >>> pen = pen_digits(digits.samples)[0]                         # a replay.PenDigit
    >>> sketch = render(pen.fit(280, 180, (140, 140)))   # as drawn on the 280x280 canvas

What the format leaves open, as found in the files:

- Components, numbered from 0 over the whole stream, are the non-empty ``.PEN_DOWN`` *and*
  ``.PEN_UP`` blocks. CEDAR (cea, ceb) and Princeton (pri) record the lifted pen's path as
  ``.PEN_UP`` points and their delineations count those blocks: cea's ``63:87-63:114`` ends
  on the last of the 115 points of a pen-down block only if they do, and its i's dot is
  the pen-down block two after the i's body. An empty ``.PEN_UP`` only ends a
  ``.PEN_DOWN`` (and a ``.PEN_DOWN`` may end another: pri). Only pen-down points are ink.
- Which way y grows is found per institution from the ink of characters whose shape
  says where their weight sits (`Reading.upright`), since no header says so reliably.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .replay import PenDigit, Stroke
from .sources import unipen_dir

SECTIONS = {"1a": "digits", "1b": "upper-case letters", "1c": "lower-case letters"}

# The statements the reader needs; documentation (.DATA_INFO, .PAD, .COMMENT, ...) is
# dropped as a file is split, so what a reader keeps is mostly pen data.
_UNITS = ("X_POINTS_PER_INCH", "Y_POINTS_PER_INCH", "X_POINTS_PER_MM", "Y_POINTS_PER_MM")
_KEPT = frozenset({"INCLUDE", "PEN_DOWN", "PEN_UP", "SEGMENT", "COORD", "WRITER_ID", *_UNITS})

# `<level> <delineation> <quality> "<label>"`; the label may hold escaped quotes.
_SEGMENT = re.compile(r'(\S+)\s+(\S+)\s+(\S+)\s+"((?:[^"\\]|\\.)*)"\s*')
# One item of a delineation: `c`, `c:p`, `c-d`, `c:p-d`, `c-d:q` or `c:p-d:q`.
_RANGE = re.compile(r"(\d+)(?::(\d+))?(?:-(\d+)(?::(\d+))?)?")
_ESCAPES = {"n": "\n", "t": "\t"}

# Characters whose ink sits mostly in the upper (7's bar, 9's loop, P's bowl, g's loop)
# or lower (6's loop, 2's base, L, b's bowl) half of their box, in every institution
# (measured on 1a-1c: 85-100% of each label's samples per institution). Where writers
# *start* a character is no such cue: cursive writers (sie, mot) start most lower-case
# letters with an up-stroke from the baseline.
_HIGH_INK = frozenset("79FPTYgpq")
_LOW_INK = frozenset("26LUWbdhkuw")


@dataclass(frozen=True)
class UnipenSample:
    label: str  # the character: "7", "G", "g"
    writer: str  # the stream's .WRITER_ID, else its data file's name
    institution: str  # "aga", "cea", ...: the folder under data/<section>/
    source: str  # the data file, relative to the distribution folder
    quality: str  # the .SEGMENT's quality: "?" (not checked by hand), "OK", ...
    # Pen-down points, y pointing up and y in x's unit, as in PenDigit (whose `fit` turns
    # them into canvas pixels, y down).
    strokes: list[Stroke]
    # The .SEGMENT's delineation, the components it cuts out: "938", "849-850", "3,5".
    delineation: str = ""


@dataclass
class Reading:
    samples: list[UnipenSample]
    # .SEGMENT lines that gave no sample, by reason: nothing unreadable stops a read.
    skipped: Counter[str] = field(default_factory=Counter)
    # Header lines not understood (the defaults stayed: x, y in the first two columns, one
    # unit both ways), by keyword, once for each stream that read them.
    bad_headers: Counter[str] = field(default_factory=Counter)
    # Per institution, the share of its samples of `_HIGH_INK` / `_LOW_INK` characters
    # whose ink sits where it should when y is read as growing upwards. Under 0.5 its y
    # grows downwards, and its samples' y were negated. An institution without such a
    # sample in the read is taken as it is (y up).
    upright: dict[str, float] = field(default_factory=dict)


class _Skip(Exception):
    """A segment that gives no sample; its message is the reason counted."""


class _Component(NamedTuple):  # a NamedTuple: a stream makes ~130,000 of them for 1a
    pen_down: bool
    text: str  # the block's lines of numbers, converted only when a segment uses them
    x_column: int
    y_column: int
    y_scale: float  # x's points per unit length / y's

    def points(self) -> Stroke:
        """The block's x, y (y in x's unit); other columns (time, pressure) are dropped."""
        rows = [words for words in (line.split() for line in self.text.splitlines()) if words]
        width = len(rows[0])
        if width <= max(self.x_column, self.y_column) or any(len(r) != width for r in rows):
            raise _Skip("pen data lines of unequal or too few columns")
        try:
            return [(float(r[self.x_column]), float(r[self.y_column]) * self.y_scale) for r in rows]
        except ValueError:
            raise _Skip("pen data not numbers") from None


@dataclass
class _Stream:
    """One data file's stream: components in the order read, and the headers in effect so
    far. Headers apply to the points that follow them, whichever file those are in: a data
    file's .doc include sets the units of the pen data included after it."""

    bad_headers: Counter[str]
    components: list[_Component] = field(default_factory=list)
    segments: list[tuple[str, str | None]] = field(default_factory=list)  # (text, writer)
    broken: str | None = None  # why none of its segments can be trusted
    writer: str | None = None
    columns: tuple[int, int] = (0, 1)  # x's and y's place on a point's line
    units: dict[str, float] = field(default_factory=dict)
    y_scale: float = 1.0

    def header(self, keyword: str, words: list[str]) -> None:
        if keyword == "WRITER_ID" and words:
            self.writer = words[0]
        elif keyword == "COORD" and "X" in words and "Y" in words:
            self.columns = (words.index("X"), words.index("Y"))
        elif keyword in _UNITS and words and _positive(words[0]):
            self.units[keyword] = float(words[0])
            # Most tablets count as many points per inch both ways; AT&T's (aga) do not.
            for unit in ("INCH", "MM"):
                x = self.units.get(f"X_POINTS_PER_{unit}")
                y = self.units.get(f"Y_POINTS_PER_{unit}")
                if x and y:
                    self.y_scale = x / y
                    break
        else:
            self.bad_headers[f".{keyword}"] += 1


class UnipenReader:
    """Reads a distribution folder (the one holding data/ and include/, or the folder
    above it holding train_r01_v07/; left out, `sources.unipen_dir()` finds or downloads
    one). Each file is split into statements once per reader and kept: one reader reads
    several sections without reading their shared include files again (a CEDAR writer's
    one file serves 1a, 1b and 1c). Drop the reader to free them."""

    def __init__(self, folder: str | Path | None = None):
        folder = Path(folder) if folder is not None else unipen_dir()
        if not (folder / "data").is_dir() and (folder / "train_r01_v07" / "data").is_dir():
            folder = folder / "train_r01_v07"
        self.folder = folder
        self._statements: dict[Path, list[tuple[str, str]]] = {}

    def section_files(self, section: str) -> list[Path]:
        """A section's data files, sorted (the order of the samples read)."""
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}: one of {', '.join(SECTIONS)}")
        root = self.folder / "data" / section
        if not root.is_dir():
            raise FileNotFoundError(f"no UNIPEN section folder {root}")
        return sorted(p for p in root.rglob("*") if p.is_file())

    def read_section(self, section: str, y_up: Mapping[str, bool] | None = None) -> Reading:
        """Every character of a section, "1a", "1b" or "1c" (see `read_files`)."""
        return self.read_files(self.section_files(section), y_up)

    def read_files(
        self, files: Iterable[str | Path], y_up: Mapping[str, bool] | None = None
    ) -> Reading:
        """The characters the data files `files` (under data/<section>/<institution>/)
        delineate, in file order. An institution's y direction is found from these
        samples, unless `y_up` says it (for a read too small to show it)."""
        reading = Reading(samples=[])
        for path in files:
            reading.samples += self._read_file(Path(path), reading)
        votes: dict[str, list[bool]] = {}
        for sample in reading.samples:
            if sample.label in _HIGH_INK or sample.label in _LOW_INK:
                high = _ink_sits_high(sample.strokes)
                votes.setdefault(sample.institution, []).append(high == (sample.label in _HIGH_INK))
        reading.upright = {i: sum(v) / len(v) for i, v in sorted(votes.items())}
        up = {i: share >= 0.5 for i, share in reading.upright.items()} | dict(y_up or {})
        reading.samples = [
            s
            if up.get(s.institution, True)
            else replace(s, strokes=[[(x, -y) for x, y in stroke] for stroke in s.strokes])
            for s in reading.samples
        ]
        return reading

    def _read_file(self, path: Path, reading: Reading) -> list[UnipenSample]:
        stream = _Stream(reading.bad_headers)
        self._walk(path, stream, [path])
        try:
            parts = path.relative_to(self.folder).parts
        except ValueError:
            parts = path.resolve().relative_to(self.folder.resolve()).parts
        institution = parts[2] if len(parts) > 3 and parts[0] == "data" else path.parent.name
        samples = []
        for text, writer in stream.segments:
            try:
                if stream.broken:
                    raise _Skip(stream.broken)
                label, quality, strokes, delineation = _segment(text, stream.components)
            except _Skip as skip:
                reading.skipped[str(skip)] += 1
                continue
            samples.append(
                UnipenSample(
                    label,
                    writer or path.stem,
                    institution,
                    "/".join(parts),
                    quality,
                    strokes,
                    delineation,
                )
            )
        return samples

    def _walk(self, path: Path, stream: _Stream, stack: list[Path]) -> None:
        """Adds `path`'s statements to `stream`, reading its includes where they stand
        (`stack`: the files being read, to refuse a cycle)."""
        for keyword, rest in self._split(path):
            if keyword in ("PEN_DOWN", "PEN_UP"):
                stream.components.append(
                    _Component(keyword == "PEN_DOWN", rest, *stream.columns, stream.y_scale)
                )
            elif keyword == "SEGMENT":
                stream.segments.append((rest, stream.writer))
            elif keyword == "INCLUDE":
                target = self.folder / "include" / rest.split()[0] if rest else None
                if target is None or not target.is_file():
                    stream.broken = stream.broken or "include not found"
                elif target in stack:
                    stream.broken = stream.broken or "include cycle"
                else:
                    self._walk(target, stream, [*stack, target])
            else:
                stream.header(keyword, rest.split())

    def _split(self, path: Path) -> list[tuple[str, str]]:
        """`path`'s statements that the reader needs, as (keyword, the rest), split once.
        Empty pen blocks are left out: they only end a .PEN_DOWN, and are no component."""
        statements = self._statements.get(path)
        if statements is None:
            statements = []
            # A statement starts with a keyword in the first column: splitting the text
            # there is several times faster than reading it line by line.
            text = path.read_text(encoding="latin-1")
            for chunk in ("\n" + text).split("\n.")[1:]:
                words = chunk.split(maxsplit=1)
                if words and words[0] in _KEPT:
                    rest = words[1] if len(words) > 1 else ""
                    if rest or words[0] not in ("PEN_DOWN", "PEN_UP"):
                        statements.append((words[0], rest))
            self._statements[path] = statements
        return statements


def pen_digits(samples: Iterable[UnipenSample]) -> list[PenDigit]:
    """Digit samples as the project's pen digits (`PenDigit.fit`, `render`, the training
    and benchmark helpers of `replay`). PenDigit's writer is a number: each distinct
    (institution, writer) gets one, from 0 in order of first appearance."""
    writers: dict[tuple[str, str], int] = {}
    digits = []
    for sample in samples:
        if not (len(sample.label) == 1 and sample.label.isdigit()):
            raise ValueError(f"not a digit: {sample.label!r} from {sample.source}")
        writer = writers.setdefault((sample.institution, sample.writer), len(writers))
        digits.append(PenDigit(int(sample.label), writer, sample.strokes))
    return digits


def per_institution(
    samples: Sequence[UnipenSample],
    cap: int = 0,
    institutions: Iterable[str] | None = None,
    seed: int = 0,
) -> list[UnipenSample]:
    """The samples of `institutions` (all where None), at most `cap` of each (all where 0),
    kept in reading order. Which ones is drawn at random, seeded by `seed` and the
    institution's name: one institution's draw does not depend on which others are asked
    for. ValueError for an institution none of the samples is from."""
    by_institution: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        by_institution.setdefault(sample.institution, []).append(index)
    wanted = sorted(by_institution) if institutions is None else list(dict.fromkeys(institutions))
    unknown = [name for name in wanted if name not in by_institution]
    if unknown:
        raise ValueError(
            f"no samples from {', '.join(unknown)}: there are {', '.join(sorted(by_institution))}"
        )
    kept: list[int] = []
    for name in wanted:
        indices = by_institution[name]
        if cap and len(indices) > cap:
            rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
            indices = rng.choice(indices, size=cap, replace=False).tolist()
        kept += indices
    return [samples[i] for i in sorted(kept)]


def _positive(word: str) -> bool:
    try:
        return float(word) > 0
    except ValueError:
        return False


def _ink_sits_high(strokes: list[Stroke]) -> bool:
    """Whether the ink's centre (each line between samples weighted by its length: a pen
    slowing down leaves more samples, not more ink) is above the middle of the box."""
    ys = [y for stroke in strokes for _, y in stroke]
    middle = (min(ys) + max(ys)) / 2
    moment = length = 0.0
    for stroke in strokes:
        for (x0, y0), (x1, y1) in pairwise(stroke):
            step = math.hypot(x1 - x0, y1 - y0)
            moment += step * (y0 + y1) / 2
            length += step
    centre = moment / length if length else sum(ys) / len(ys)
    return centre > middle


def _segment(text: str, components: list[_Component]) -> tuple[str, str, list[Stroke], str]:
    """A CHARACTER .SEGMENT statement's label, quality, pen-down strokes and delineation."""
    match = _SEGMENT.fullmatch(text)
    if not match:
        raise _Skip("unparseable .SEGMENT line")
    level, delineation, quality, label = match.groups()
    if level != "CHARACTER":
        raise _Skip(f"a {level} segment, not a CHARACTER")
    strokes = []
    for index, start, stop in _delineation(delineation, len(components)):
        points = components[index].points()
        if start >= len(points) or (stop is not None and not start < stop <= len(points)):
            raise _Skip("point number out of range")
        # The lifted pen's path (cea, ceb, pri) is a component too, but it left no ink.
        if components[index].pen_down:
            strokes.append(points[start:stop])
    if not strokes:
        raise _Skip("no pen-down points")
    if len({point for stroke in strokes for point in stroke}) == 1:
        # ibm's place-holder blocks (0 0), a few one-point "letters" (mot, val): a
        # single place is no character, nor can PenDigit.fit scale it.
        raise _Skip("all points at one place")
    label = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), label)
    return label, quality, strokes, delineation


def _delineation(text: str, count: int) -> list[tuple[int, int, int | None]]:
    """(component, first point, end point or None for all) for each component that a
    delineation names, of `count` components: `4`, `0-1`, `3,5`, `12:5-12:40` (points 5
    to 40 of component 12, both included), `7:20-9` (7 from its point 20, then all of 8
    and 9), `5:3` (that one point)."""
    parts: list[tuple[int, int, int | None]] = []
    for item in text.split(","):
        match = _RANGE.fullmatch(item)
        if not match:
            raise _Skip("unparseable delineation")
        first, first_point, last, last_point = match.groups()
        if last is None:
            last, last_point = first, first_point
        a, b = int(first), int(last)
        if not a <= b < count:
            raise _Skip("component number out of range")
        for index in range(a, b + 1):
            start = int(first_point) if index == a and first_point else 0
            stop = int(last_point) + 1 if index == b and last_point else None
            parts.append((index, start, stop))
    return parts
