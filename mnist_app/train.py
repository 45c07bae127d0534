"""Moved: `python -m mnist_app.train` is now `python -m mnist_app train`."""

raise SystemExit("python -m mnist_app.train is now: python -m mnist_app train (see --help)")
