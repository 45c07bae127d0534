"""The command line: ``python -m mnist_app serve|train|evaluate|export|personalize|fit-detector``.

``python app.py`` is ``serve``; the ``mnist-app`` command installed with the package is
this too. Each command lives in its own module and is imported only when asked for, so
that ``--help`` answers without loading torch.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "serve": ("serve", "the web app: draw, train, browse mistakes, manage models"),
    "train": ("train", "train a recipe and save the checkpoint"),
    "evaluate": ("evaluate", "test accuracy, per-class accuracy and mistakes of a checkpoint"),
    "export": ("export", "a checkpoint as an ONNX file"),
    "personalize": ("personalize", "fit a model to someone's handwriting"),
    "fit-detector": ("fit_detector", "give a model trained with non-digits a digit detector"),
}
USAGE = (
    "usage: python -m mnist_app {"
    + ",".join(COMMANDS)
    + "} ...\n\n"
    + "".join(f"  {name:<13}{what}\n" for name, (_, what) in COMMANDS.items())
    + "\nEach command has its own --help: python -m mnist_app train --help\n"
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        asked = bool(argv) and argv[0] in ("-h", "--help")
        if argv and not asked:
            print(f"error: unknown command {argv[0]!r}\n", file=sys.stderr)
        print(USAGE, file=sys.stdout if asked else sys.stderr, end="")
        return 0 if asked else 2
    module = importlib.import_module(f"{__name__}.{COMMANDS[argv[0]][0]}")
    return module.main(argv[1:])
