"""Repeatable benchmarks (bench/README.md); run from the repository root as
`python -m bench.<name>`."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_script(main: Callable[[], object]) -> None:
    """Run a script's main; a missing checkpoint or data file ends it with its message, not a
    traceback, since that is a person's typo or a step not yet taken, not a bug."""
    from mnist_app.core.checkpoint import CheckpointError
    from mnist_app.core.data import MnistFormatError, MnistNotFoundError
    from mnist_app.pen.sources import ChecksumError, PenDataNotFoundError

    try:
        code = main()
    except (
        CheckpointError,
        MnistNotFoundError,
        MnistFormatError,
        PenDataNotFoundError,
        ChecksumError,
    ) as err:
        sys.exit(f"error: {err}")
    sys.exit(code if isinstance(code, int) else 0)
