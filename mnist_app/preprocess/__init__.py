"""Any input to MNIST's 28x28: decoding a drawing or an image to ink (`ink`), the MNIST
recipe (`mnist_style`: crop, fit into 20x20, centre of mass in 28x28), stroke width
(`strokes`) and scaling into a box (`scale`)."""

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
