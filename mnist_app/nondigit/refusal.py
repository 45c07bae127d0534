"""How well a model tells digits from what is not a digit: its score (the top
probability), the separation (AUROC), the threshold it refuses below, and the held-out
non-digits it is measured on. The engine of `bench/reject.py` and the refusal search."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from . import stroke_fonts
from .hand_made import hand_made_sketches
from .negatives import KINDS, model_input, sketches
from .stroke_fonts import stroke_font_sketches


def auroc(digit_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The chance that a random digit scores above a random non-digit (ties count half)."""
    others = np.sort(np.asarray(other_scores))
    below = np.searchsorted(others, digit_scores, side="left")
    tied = np.searchsorted(others, digit_scores, side="right") - below
    return float((below + tied / 2).sum() / (len(digit_scores) * len(others)))


def threshold_refusing(digit_scores: np.ndarray, share: float) -> float:
    """The top probability below which `share` of these (held-out) digits fall."""
    return float(np.quantile(digit_scores, share))


class NonDigits:
    """Held-out non-digits of one kind: the model inputs, and how many sketches the app's
    preprocessing already refused (a fill, a dot) before any model saw them."""

    def __init__(self, kind: str, canvases: Iterable[np.ndarray]):
        self.kind = kind
        self.sketches = 0
        self.refused_by_preprocessing = 0
        inputs = []
        for sketch in canvases:
            self.sketches += 1
            image = model_input(kind, sketch)
            if image is None:
                self.refused_by_preprocessing += 1
            else:
                inputs.append(image)
        self.inputs = np.stack(inputs) if inputs else np.zeros((0, 28, 28), np.float32)

    def answered(self, is_digit: np.ndarray) -> float:
        """The share of this kind's sketches answered with a digit, given which of its
        model inputs were (a refusal by preprocessing is not an answer)."""
        return float(np.sum(is_digit) / max(self.sketches, 1))


def non_digit_sets(count: int, split: str, seed: int = 0) -> list[NonDigits]:
    """`count` sketches of every kind (glyphs only where fonts are installed)."""
    sets = [NonDigits(kind, sketches(kind, count, split, seed)) for kind in KINDS]
    return [s for s in sets if s.sketches]


def stroke_font_sets(count: int, split: str, seed: int = 0) -> list[NonDigits]:
    """`count` sketches of every stroke-font kind of `split` (nondigit/stroke_fonts.py): script
    letters and symbols in its fonts, and Chinese characters. Raises StrokeFontsMissing
    before the fonts are fetched."""
    return [
        NonDigits(kind, stroke_font_sketches(kind, count, split, seed))
        for kind in stroke_fonts.kinds(split)
    ]


def hand_made_set(count: int, seed: int = 0) -> NonDigits:
    """`count` sketches of the shapes made by hand (nondigit/hand_made.py), which only the
    test figures use: no model trains on them and no setting is chosen on them."""
    return NonDigits("hand-made", hand_made_sketches(count, seed))
