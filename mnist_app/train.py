"""Moved: `python -m mnist_app.train` is now `python -m mnist_app train`."""

MOVED = "python -m mnist_app.train is now: python -m mnist_app train (see --help)"

if __name__ == "__main__":
    raise SystemExit(MOVED)
raise ImportError(MOVED)
