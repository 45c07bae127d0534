"""From what a person drew or uploaded to MNIST's 28x28: decoding any input to ink
(`ink`), the MNIST recipe (`mnist_style`), stroke width (`strokes`), and real pen-drawn
digits replayed as sketches (`pen_replay`) and edited into writing styles (`styles`)."""

from .ink import UnreadableImage, ink_from_alpha, ink_map, read_image
from .mnist_style import (
    PREPROCESSING,
    NotADigit,
    Preprocessed,
    preprocess,
    preprocess_ink,
    to_mnist,
)

__all__ = [
    "PREPROCESSING",
    "NotADigit",
    "Preprocessed",
    "UnreadableImage",
    "ink_from_alpha",
    "ink_map",
    "preprocess",
    "preprocess_ink",
    "read_image",
    "to_mnist",
]
