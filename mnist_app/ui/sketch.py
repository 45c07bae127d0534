"""Gradio's Sketchpad value, read as the engine's preprocessing input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..preprocess import Preprocessed, ink_from_alpha, preprocess, preprocess_ink


def read_drawing(source: Any) -> Preprocessed | None:
    """Every preprocessing stage of a Sketchpad value or an uploaded image, or None when
    there is no ink. Raises what `preprocess.preprocess` raises."""
    if not isinstance(source, Mapping):
        return preprocess(source)
    # The strokes' alpha is the exact ink mask whatever the canvas colour (the dark theme
    # paints the background 0x333333); the composite serves when there are no strokes, as
    # for an image sent through the API or uploaded as the background.
    alphas = [
        np.asarray(layer)[..., 3]
        for layer in source.get("layers") or []
        if np.ndim(layer) == 3 and np.shape(layer)[2] == 4
    ]
    if any(alpha.any() for alpha in alphas):
        return preprocess_ink(ink_from_alpha(np.max(alphas, axis=0)))
    return preprocess(source.get("composite"))
