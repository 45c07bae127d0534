"""Command line: a checkpoint as an ONNX file (`python -m mnist_app export MODEL`).

python -m mnist_app export resnet_mini                  # -> resnet_mini.onnx
python -m mnist_app export weights/t4_lenet5.pt --out lenet.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis.onnx_export import export_onnx
from ..core.checkpoint import CheckpointError, load_checkpoint, locate
from ..core.messages import first_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app export",
        description="Export a trained model to ONNX (input: float32 (N, 1, 28, 28) images "
        "in 0-1, light digit on dark; outputs: the ten probabilities, and whether they name "
        "a digit).",
    )
    parser.add_argument("model", help="a model name in the weights folder, or a .pt path")
    parser.add_argument("--out", type=Path, help="the .onnx file (default: <model>.onnx here)")
    parser.add_argument("--weights-dir", type=Path, help="where model names are looked up")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    try:
        checkpoint = load_checkpoint(locate(args.model, args.weights_dir))
    except (CheckpointError, ValueError) as err:
        parser.exit(2, f"error: {first_line(err)}\n")
    out = args.out or Path(f"{checkpoint.name}.onnx")
    try:
        path = export_onnx(checkpoint, out, overwrite=args.overwrite)
    except FileExistsError:
        parser.exit(2, f"error: {out} exists; choose another --out or pass --overwrite\n")
    print(
        f"wrote {path} ({path.stat().st_size / 1024:,.0f} kB): {checkpoint.name}, {checkpoint.arch}"
    )
    return 0
