"""An explanation as pictures: red where the ink pushed towards the answer, blue where it
pushed towards the runner-up, over the model's 28x28 input and over the user's strokes."""

from __future__ import annotations

import html

import numpy as np
from PIL import Image

from ..analysis.explain import Explanation
from ..preprocess import Preprocessed

TOWARDS_ANSWER = np.array([220, 38, 38], np.float32)  # red
TOWARDS_RUNNER_UP = np.array([37, 99, 235], np.float32)  # blue
NEUTRAL = np.array([203, 213, 225], np.float32)  # ink with no share: pale grey
INPUT_SCALE = 10  # the 28x28 input shown at 280x280


def _strength(values: np.ndarray, scale: float) -> np.ndarray:
    """-1 to 1: each pixel's share against the strongest one (a gentle curve, so that
    the weaker half of the pixels still shows)."""
    return np.sign(values) * np.sqrt(np.clip(np.abs(values) / scale, 0, 1)) if scale else values


def _scale(explanation: Explanation) -> float:
    return float(np.abs(explanation.attribution).max())


def input_map(explanation: Explanation, image: np.ndarray) -> np.ndarray:
    """RGB (280, 280): the model's 28x28 input, its ink painted as in `strokes_map` and
    as strong as it is in the input, on white; each input pixel a 10x10 square."""
    ink = np.asarray(image, np.float32)[..., None]
    painted = _paint(explanation.attribution, _scale(explanation))
    rgb = 255 * (1 - ink) + painted * ink
    big = Image.fromarray(rgb.astype(np.uint8)).resize(
        (28 * INPUT_SCALE, 28 * INPUT_SCALE), Image.Resampling.NEAREST
    )
    return np.asarray(big)


def _paint(values: np.ndarray, scale: float) -> np.ndarray:
    """RGB float: pale grey for no share, to red (towards the answer) or blue (towards
    the runner-up) for the strongest."""
    strength = _strength(values, scale)[..., None]
    colour = np.where(strength >= 0, TOWARDS_ANSWER, TOWARDS_RUNNER_UP)
    return NEUTRAL + (colour - NEUTRAL) * np.abs(strength)


def strokes_map(explanation: Explanation, stages: Preprocessed) -> np.ndarray:
    """RGBA the size of the drawing, to lay over it: the strokes repainted from pale grey
    (no share) to red or blue (the strongest shares), the paper left clear. The 28x28 map
    is softened by one pixel first ([1, 2, 1] / 4 each way), so that the stretched map
    reads as regions of the strokes rather than as single input pixels."""
    soft = _soften(explanation.attribution)
    rgb = _paint(stages.to_canvas(soft), float(np.abs(soft).max()))
    alpha = 255 * np.clip(stages.ink * 1.5, 0, 1)
    return np.dstack([rgb, alpha]).astype(np.uint8)


def _soften(values: np.ndarray) -> np.ndarray:
    padded = np.pad(values, 1, mode="edge")
    rows = (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4
    return (rows[:, :-2] + 2 * rows[:, 1:-1] + rows[:, 2:]) / 4


def legend_html(explanation: Explanation) -> str:
    top, runner_up = explanation.top, explanation.runner_up
    return (
        '<p class="why-legend">'
        f'<span class="towards-answer">■</span> pushed towards {top} · '
        f'<span class="towards-runner-up">■</span> towards {runner_up} (the runner-up)</p>'
        f'<p class="why-note">Integrated Gradients of the lead of {top} over {runner_up} '
        f"({html.escape(f'{explanation.lead:.1f}')} in logits).</p>"
    )
