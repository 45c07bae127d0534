"""Launch the MNIST studio web app.

    python app.py                          # http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080 --weights-dir /srv/weights
    python app.py --share                  # also a public gradio.live link

    MNIST_APP_USERNAME=ada MNIST_APP_PASSWORD=... python app.py --host 0.0.0.0

Environment variables give the defaults: MNIST_APP_HOST, MNIST_APP_PORT,
MNIST_APP_WEIGHTS (the weights folder), MNIST_DIR (the MNIST files),
MNIST_APP_USERNAME and MNIST_APP_PASSWORD (a login; prefer the environment to --password,
which other users of the machine can read in the process list), MNIST_APP_MAX_UPLOAD_MB.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train, draw and inspect MNIST digit classifiers in the browser.",
        epilog="Each option's default can also come from the environment variable named.",
    )
    env = os.environ.get
    parser.add_argument(
        "--host",
        default=env("MNIST_APP_HOST", "127.0.0.1"),
        help="address to serve on; 0.0.0.0 for every network (default: 127.0.0.1, this "
        "machine only; MNIST_APP_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(env("MNIST_APP_PORT", "7860")),
        help="port to serve on (default: 7860; MNIST_APP_PORT)",
    )
    parser.add_argument("--share", action="store_true", help="also a public gradio.live link")
    parser.add_argument(
        "--weights-dir",
        type=Path,
        default=env("MNIST_APP_WEIGHTS"),
        help="folder of checkpoints to serve, where new models are saved too (default: "
        "weights/; MNIST_APP_WEIGHTS)",
    )
    parser.add_argument(
        "--data-dir",
        default=env("MNIST_DIR"),
        help="folder of the four MNIST files (default: found on its own; MNIST_DIR)",
    )
    parser.add_argument(
        "--username",
        default=env("MNIST_APP_USERNAME"),
        help="require this login, with a password (MNIST_APP_USERNAME)",
    )
    # Read from the environment after parsing, so that --help never prints it.
    parser.add_argument(
        "--password", help="the login's password (better: MNIST_APP_PASSWORD, unseen by others)"
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=float(env("MNIST_APP_MAX_UPLOAD_MB", "10")),
        help="largest image a user may upload, in MB (default: 10; MNIST_APP_MAX_UPLOAD_MB)",
    )
    args = parser.parse_args(argv)
    args.password = args.password or env("MNIST_APP_PASSWORD")
    if bool(args.username) != bool(args.password):
        parser.error("a login needs both a username and a password")
    if args.max_upload_mb <= 0:
        parser.error("--max-upload-mb must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Imported here so that --help answers at once, without loading torch and Gradio.
    from mnist_app.library import ModelLibrary
    from mnist_app.ui import CSS, THEME, build_app, warm_up, with_queue

    library = ModelLibrary(args.weights_dir, args.data_dir)
    names = library.names()
    print(
        f"serving {len(names)} model(s) from {library.weights_dir}: {', '.join(names)}"
        if names
        else f"no models in {library.weights_dir} yet: train one in the Train tab",
        flush=True,
    )
    if not args.username and (args.share or args.host not in LOOPBACK):
        print(
            f"warning: serving on {'a public link' if args.share else args.host} without a "
            "login: anyone who can reach it can train models and use this machine's CPU/GPU. "
            "Set MNIST_APP_USERNAME and MNIST_APP_PASSWORD to require one.",
            file=sys.stderr,
        )
    warm_up(library)
    with_queue(build_app(library, max_upload_mb=args.max_upload_mb)).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        auth=(args.username, args.password) if args.username else None,
        max_file_size=int(args.max_upload_mb * 1024 * 1024),
        theme=THEME,
        css=CSS,
        footer_links=["api"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
