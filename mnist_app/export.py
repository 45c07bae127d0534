"""Moved: `python -m mnist_app.export` is now `python -m mnist_app export`."""

raise SystemExit("python -m mnist_app.export is now: python -m mnist_app export (see --help)")
