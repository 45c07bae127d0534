"""The command line: ``python -m mnist_app train|evaluate|personalize|fit-detector ...``."""

from __future__ import annotations

import sys

from . import evaluate, fit_detector, personalize, train

COMMANDS = {
    "train": train.main,
    "evaluate": evaluate.main,
    "personalize": personalize.main,
    "fit-detector": fit_detector.main,
}
USAGE = """usage: python -m mnist_app {train,evaluate,personalize,fit-detector} ...

  train        train a recipe and save the checkpoint (python -m mnist_app train --help)
  evaluate     test accuracy, per-class accuracy, confusion matrix and mistakes of a checkpoint
  personalize  fit a model to someone's handwriting (python -m mnist_app personalize --help)
  fit-detector give a model trained with non-digits a digit detector (... fit-detector --help)
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        known = argv and argv[0] in ("-h", "--help")
        print(USAGE, file=sys.stdout if known else sys.stderr, end="")
        return 0 if known else 2
    return COMMANDS[argv[0]](argv[1:])
