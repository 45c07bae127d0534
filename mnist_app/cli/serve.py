"""Command line: serve the web app (`python -m mnist_app serve`, or `python app.py`).

    python -m mnist_app serve                          # http://127.0.0.1:7860
    python -m mnist_app serve --host 0.0.0.0 --port 8080 --weights-dir /srv/weights
    python -m mnist_app serve --share                  # also a public gradio.live link
    python -m mnist_app serve --mcp                    # also MCP tools (/gradio_api/mcp/)

    MNIST_APP_USERNAME=ada MNIST_APP_PASSWORD=... python -m mnist_app serve --host 0.0.0.0

Environment variables give the defaults: MNIST_APP_HOST, MNIST_APP_PORT,
MNIST_APP_WEIGHTS (the weights folder), MNIST_DIR (the MNIST files),
MNIST_APP_USERNAME and MNIST_APP_PASSWORD (a login; prefer the environment to --password,
which other users of the machine can read in the process list), MNIST_APP_MAX_UPLOAD_MB,
MNIST_APP_UPLOAD_CACHE_MB, MNIST_APP_CLIENT_UPLOAD_MB, MNIST_APP_CACHE_DIR,
MNIST_APP_MAX_TRAIN_MINUTES, MNIST_APP_PERSONAL_DIR, MNIST_APP_TRAINING_URL.

The server's operator stops the training run in progress, whoever started it, with
`kill -USR1 <pid>` (the pid is printed at start): it stops after its current step and
saves what it has learnt.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app serve",
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
        "--mcp",
        action="store_true",
        default=env("MNIST_APP_MCP", "") not in ("", "0"),
        help="also serve the API as MCP tools for agents, at /gradio_api/mcp/ (MNIST_APP_MCP)",
    )
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
    positive = _limit_options(parser, env)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=env("MNIST_APP_CACHE_DIR"),
        help="the upload cache, emptied at start (default: a folder per port under the "
        "system's temporary folder; MNIST_APP_CACHE_DIR)",
    )
    parser.add_argument(
        "--personal-dir",
        type=Path,
        default=env("MNIST_APP_PERSONAL_DIR"),
        help="where people's own drawings are kept, for fitting models to their handwriting "
        "(default: data/personal/; MNIST_APP_PERSONAL_DIR)",
    )
    _door_options(parser, env)
    parser.add_argument(
        "--training-url",
        default=env("MNIST_APP_TRAINING_URL", ""),
        help="this server does not train: the address of the one that does, shown in the "
        "Train tab (several replicas, one training server; MNIST_APP_TRAINING_URL)",
    )
    args = parser.parse_args(argv)
    args.password = args.password or env("MNIST_APP_PASSWORD")
    if bool(args.username) != bool(args.password):
        parser.error("a login needs both a username and a password")
    for flag in positive:
        if not 0 < getattr(args, flag[2:].replace("-", "_")) < float("inf"):
            parser.error(f"{flag} must be a positive number")
    args.cache_dir = args.cache_dir or Path(tempfile.gettempdir()) / f"mnist_app-cache-{args.port}"
    return args


def _limit_options(parser: argparse.ArgumentParser, env) -> list[str]:
    """The limits that must be positive numbers; their flags."""
    positive = []

    def positive_number(flag: str, variable: str, default: str, what: str) -> None:
        parser.add_argument(
            flag,
            type=float,
            default=float(env(variable, default)),
            help=f"{what} (default: {default}; {variable})",
        )
        positive.append(flag)

    positive_number(
        "--max-upload-mb", "MNIST_APP_MAX_UPLOAD_MB", "10", "largest image a user may upload, in MB"
    )
    positive_number(
        "--upload-cache-mb",
        "MNIST_APP_UPLOAD_CACHE_MB",
        "1024",
        "most uploads kept on disk at once, in MB",
    )
    positive_number(
        "--client-upload-mb",
        "MNIST_APP_CLIENT_UPLOAD_MB",
        "200",
        "most one client address may upload in an hour, in MB",
    )
    positive_number(
        "--max-train-minutes",
        "MNIST_APP_MAX_TRAIN_MINUTES",
        "60",
        "a run started from the web stops after this long and saves what it learnt",
    )
    return positive


def _door_options(parser: argparse.ArgumentParser, env) -> None:
    """What the server lets in from outside: fetched URLs, forwarded addresses."""
    parser.add_argument(
        "--fetch-urls",
        action="store_true",
        default=env("MNIST_APP_FETCH_URLS", "") not in ("", "0"),
        help="let API and MCP clients pass an image as a URL that the server downloads "
        "(default: refused before any lookup; MNIST_APP_FETCH_URLS)",
    )
    parser.add_argument(
        "--trusted-proxies",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        default=env("MNIST_APP_TRUSTED_PROXIES", env("FORWARDED_ALLOW_IPS", "")),
        help="comma-separated addresses of reverse proxies whose X-Forwarded-For is believed "
        "(default: none, every client is its own address; MNIST_APP_TRUSTED_PROXIES, or "
        "uvicorn's FORWARDED_ALLOW_IPS)",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # A cache folder of the app's own, which it may empty: Gradio reads this when imported.
    os.environ["GRADIO_TEMP_DIR"] = str(args.cache_dir)
    # Imported here so that --help answers at once, without loading torch and Gradio.
    from ..core.atomic import remove_leftovers
    from ..service.library import ModelLibrary
    from ..service.personal_store import PersonalStore
    from ..service.training_jobs import TrainingJobs
    from ..ui import (
        CSS,
        THEME,
        Limits,
        UploadCache,
        build_app,
        launch_options,
        warm_up,
        with_queue,
    )

    mb = 2**20
    limits = Limits(
        max_upload_bytes=int(args.max_upload_mb * mb),
        cache_bytes=int(args.upload_cache_mb * mb),
        client_upload_bytes=int(args.client_upload_mb * mb),
        max_run_s=args.max_train_minutes * 60,
        fetch_urls=args.fetch_urls,
    )
    uploads = UploadCache(
        args.cache_dir, limits.cache_bytes, limits.client_upload_bytes, limits.client_upload_files
    )
    uploads.empty()
    uploads.sweep_every(60)
    library = ModelLibrary(args.weights_dir, args.data_dir)
    jobs = TrainingJobs(library, max_run_s=limits.max_run_s, trains_at=args.training_url)

    def operator_stop(*_) -> None:
        # In a thread: a signal handler must not wait for a lock that the main thread holds.
        reason = "the server's operator stopped it"
        threading.Thread(target=lambda: print(jobs.stop_any(reason), flush=True)).start()

    signal.signal(signal.SIGUSR1, operator_stop)
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
    print(f"pid {os.getpid()}: `kill -USR1 {os.getpid()}` stops a training run", flush=True)
    personal = PersonalStore(args.personal_dir, limits.personal_drawings, limits.personal_sets)
    for folder in (library.weights_dir, personal.root):
        if removed := remove_leftovers(folder):
            print(f"removed {removed} unfinished write(s) left in {folder} by a crash", flush=True)
    warm_up(library)
    auth = (args.username, args.password) if args.username else None
    # Uvicorn believes X-Forwarded-For from these addresses only (its default trusts any
    # local client, which let one address pass for many: SSH tunnels, local proxies).
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(args.trusted_proxies)
    with_queue(build_app(library, jobs, limits, personal)).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        auth=auth,
        theme=THEME,
        css=CSS,
        footer_links=["api"],
        mcp_server=args.mcp,
        **launch_options(limits, uploads, auth),
    )
    return 0
