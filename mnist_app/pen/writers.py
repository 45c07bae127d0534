"""Which UNIPEN writers teach the models and which judge them.

Whole institutions are kept out of training (`HELD_OUT`): the writers of one institution
share a tablet and habits, so a model judged on another institution's writers is judged on
people and tablets it never met. Every setting and refusal threshold is chosen on them.

- Digits: section 1a of the other institutions, less the 1.3% whose ink does not show their
  label (`unipen_labels.mislabelled`), which neither teach nor judge.
- Letters: sections 1b and 1c of the other institutions, less the letters people read as
  digits (`DIGIT_LIKE`). Those are neither taught as non-digits nor counted against a model
  that answers them: an O is a fair 0, and teaching "O is no digit" teaches the model to
  refuse round zeros.

    >>> digits = unipen_digits("train")       # UnipenSamples, for pen_digits()
    >>> letters = letter_pens(unipen_letters("held_out"), label=10)
"""

from __future__ import annotations

from pathlib import Path

from .replay import PenDigit
from .sources import unipen_dir
from .unipen import UnipenReader, UnipenSample
from .unipen_labels import mislabelled

# apa and ced have digits and letters (51 writers, 2,061 digits, 14,960 letters); mot, only
# lower-case letters, is the cursive writers (2,698 letters). What remains trains: 98
# writers' 6,504 digits and 36,192 letters that look like no digit (10,734 held out).
HELD_OUT = ("apa", "ced", "mot")

# Letters a digit looks like, which a person may fairly read as one (O o Q as 0, I l i j J
# as 1, Z z as 2, S s as 5, b G as 6, L as a 4 or a 7 turned, B as 8, g q as 9, p d as a
# mirrored 9 or 6).
DIGIT_LIKE = "BGIJLOQSZbdgijlopqsz"

PARTS = ("train", "held_out")


def unipen_digits(part: str, folder: str | Path | None = None) -> list[UnipenSample]:
    """The 1a digits of the training institutions ("train") or of `HELD_OUT`
    ("held_out"), less the mislabelled ones."""
    return [s for s in _part(_section(_where(folder), "1a"), part) if not mislabelled(s)]


def unipen_letters(part: str, folder: str | Path | None = None) -> list[UnipenSample]:
    """The 1b and 1c letters no one reads as a digit, of the training institutions or of
    `HELD_OUT`. Reading them takes ~10 s and 1 GB at its peak: render them once
    (`rendered.cached`)."""
    where = _where(folder)
    letters = _section(where, "1b") + _section(where, "1c")
    return [s for s in _part(letters, part) if s.label not in DIGIT_LIKE]


def letter_pens(samples: list[UnipenSample], label: int) -> list[PenDigit]:
    """Letters as pen drawings to replay (`replay.render_training_images`), each labelled
    `label`, the training set's "no digit"."""
    return [PenDigit(label, 0, sample.strokes) for sample in samples]


def _where(folder: str | Path | None) -> Path:
    return unipen_dir(folder).resolve()


def _part(samples: list[UnipenSample], part: str) -> list[UnipenSample]:
    if part not in PARTS:
        raise ValueError(f"no part {part!r} of the UNIPEN writers: {' or '.join(PARTS)}")
    held_out = part == "held_out"
    return [s for s in samples if (s.institution in HELD_OUT) == held_out]


def _section(folder: Path, section: str) -> list[UnipenSample]:
    return UnipenReader(folder).read_section(section).samples
