"""Moved: `python -m mnist_app.export` is now `python -m mnist_app export`."""

MOVED = "python -m mnist_app.export is now: python -m mnist_app export (see --help)"

if __name__ == "__main__":
    raise SystemExit(MOVED)
raise ImportError(MOVED)
