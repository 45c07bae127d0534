"""Command line: give a trained model a digit detector (mnist_app/core/digit_detector.py), fitted
as `train --detector-refuse` fits one, without training it again.

python -m mnist_app fit-detector resnet_drawn --refuse 0.001
"""

from __future__ import annotations

import argparse
import sys

from ..core.checkpoint import load_checkpoint, locate, save_checkpoint
from ..core.data import MnistFormatError, MnistNotFoundError, load_mnist
from ..core.settings import SETTINGS
from ..nondigit import stroke_fonts
from ..training.add_detector import with_detector

_REFUSE = next(spec for spec in SETTINGS if spec.name == "detector_refuse")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app fit-detector",
        description="Fit a digit detector on a model trained with non-digits, and save it in "
        "the same checkpoint: answers then also say 'not a digit' where it says so.",
    )
    parser.add_argument("checkpoint", help="path to a .pt file, or a name in weights/")
    parser.add_argument("--refuse", type=float, required=True, help=_REFUSE.help)
    parser.add_argument("--weights-dir", help="where named models are (default: weights/)")
    parser.add_argument("--data-dir", help="folder with the four MNIST IDX files (or MNIST_DIR)")
    args = parser.parse_args(argv)
    try:
        if args.refuse <= 0:
            raise ValueError(f"--refuse must be above 0, got {args.refuse:g}")
        stroke_fonts.require()
        path = locate(args.checkpoint, args.weights_dir)
        checkpoint = load_checkpoint(path)
        data = load_mnist(args.data_dir)
        fitted = with_detector(checkpoint, data, args.refuse)
    except (ValueError, MnistNotFoundError, MnistFormatError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    save_checkpoint(fitted, path, overwrite=True)
    print(
        f"{checkpoint.name}: digit detector fitted, refusing {args.refuse:.2%} of the digits "
        f"it trained on; saved {path}"
    )
    return 0
