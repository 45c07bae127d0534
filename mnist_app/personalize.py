"""Moved: `python -m mnist_app.personalize` is now `python -m mnist_app personalize`."""

MOVED = "python -m mnist_app.personalize is now: python -m mnist_app personalize (see --help)"

if __name__ == "__main__":
    raise SystemExit(MOVED)
raise ImportError(MOVED)
