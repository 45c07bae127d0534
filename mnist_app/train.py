"""``python -m mnist_app.train``, also under torchrun: see cli/train.py."""

import sys

from .cli.train import main

if __name__ == "__main__":
    sys.exit(main())
