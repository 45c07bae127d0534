"""``python -m mnist_app.personalize``: see cli/personalize.py."""

import sys

from .cli.personalize import main

if __name__ == "__main__":
    sys.exit(main())
