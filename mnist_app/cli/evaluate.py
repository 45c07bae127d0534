"""Command line: evaluate a checkpoint on the MNIST test set.

python -m mnist_app evaluate weights/resnet_mini.pt
python -m mnist_app evaluate resnet_mini --mistakes 20
"""

from __future__ import annotations

import argparse
import sys

from ..core.checkpoint import load_checkpoint, locate
from ..core.data import MnistFormatError, MnistNotFoundError, load_mnist
from ..core.device import pick_device
from ..core.evaluation import evaluate, format_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app evaluate",
        description="Test accuracy, per-class accuracy and confusion matrix of a checkpoint.",
    )
    parser.add_argument("checkpoint", help="path to a .pt file, or a name in weights/")
    parser.add_argument("--data-dir", help="folder with the four MNIST IDX files (or MNIST_DIR)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument(
        "--mistakes",
        type=int,
        default=0,
        metavar="N",
        help="also list the N most confident mistakes",
    )
    args = parser.parse_args(argv)
    try:
        checkpoint = load_checkpoint(locate(args.checkpoint))
        model = checkpoint.build(pick_device(args.device))
        data = load_mnist(args.data_dir)
    except (ValueError, MnistNotFoundError, MnistFormatError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = evaluate(model, data.test_images, data.test_labels, checkpoint.mean, checkpoint.std)
    print(f"{checkpoint.name}: {checkpoint.arch} from recipe {checkpoint.recipe or '?'}")
    print(format_report(result))
    if args.mistakes:
        print("\nmost confident mistakes (test index: true -> predicted, confidence):")
        for m in result.mistakes()[: args.mistakes]:
            print(f"  #{m.index:<5} {m.true} -> {m.predicted}  {m.confidence:.1%}")
    return 0
