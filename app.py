"""Launch the MNIST studio web app: the same as `python -m mnist_app serve` (see
`python app.py --help`, and mnist_app/cli/serve.py)."""

import sys

from mnist_app.cli.serve import main

if __name__ == "__main__":
    sys.exit(main())
