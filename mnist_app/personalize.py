"""Moved: `python -m mnist_app.personalize` is now `python -m mnist_app personalize`."""

raise SystemExit(
    "python -m mnist_app.personalize is now: python -m mnist_app personalize (see --help)"
)
