"""Gradio's upload cache, with a quota in total and per client, emptied at start and swept.

Gradio keeps every upload on disk and deletes only the files the running process received,
once they are an hour old: 200 uploads of 10 MB were all kept, and they survived a
restart. The app gives Gradio a cache folder of its own (GRADIO_TEMP_DIR), so that it can
empty it at start-up, and RequestGuard asks `admit` before each upload.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

HOUR_S = 3600.0


class UploadCache:
    """The folder's bytes stay under `total_bytes`; one client address may upload at most
    `client_bytes` and `client_files` an hour. Files older than `max_age_s` are deleted
    by `sweep`, and the oldest ones too while the folder is over its quota."""

    def __init__(
        self,
        folder: Path,
        total_bytes: int,
        client_bytes: int,
        client_files: int,
        max_age_s: float = HOUR_S,
        max_clients: int = 10_000,
    ):
        self.folder = Path(folder)
        self.total_bytes = total_bytes
        self.client_bytes = client_bytes
        self.client_files = client_files
        self.max_age_s = max_age_s
        self.max_clients = max_clients
        self._used = 0  # bytes on disk at the last sweep, plus those admitted since
        # client -> [start of its hour, bytes, files] in that hour
        self._clients: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def empty(self) -> None:
        """Delete everything in the folder: uploads of an earlier run belong to no one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for entry in self.folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        with self._lock:
            self._used = 0

    def admit(self, client: str, size: int, kept_on_disk: bool = True) -> str | None:
        """Reserve `size` bytes for an upload by `client`, or say why it is refused. Image
        bytes sent another way (a data URL in a request) count towards the client's hourly
        quota too, but not towards the folder's (`kept_on_disk=False`)."""
        now = time.monotonic()
        with self._lock:
            if kept_on_disk and self._used + size > self.total_bytes:
                return (
                    "The server's upload space is full; please try again later "
                    f"(at most {self.total_bytes / 2**20:,.0f} MB of uploads are kept)."
                )
            account = self._clients.get(client)
            if account is None or now - account[0] > HOUR_S:
                account = [now, 0, 0]
            if account[1] + size > self.client_bytes or account[2] + 1 > self.client_files:
                wait_min = max(1, round((account[0] + HOUR_S - now) / 60))
                return (
                    f"Upload quota reached: at most {self.client_bytes / 2**20:,.0f} MB and "
                    f"{self.client_files:,} files an hour from one address; try again in "
                    f"{wait_min} min."
                )
            account[1] += size
            account[2] += 1
            self._clients[client] = account
            self._clients.move_to_end(client)
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            if kept_on_disk:
                self._used += size
            return None

    def sweep(self) -> None:
        """Delete what is too old, then the oldest files while over quota; recount."""
        files = []
        now = time.time()
        for path in self.folder.rglob("*"):
            try:
                stat = path.lstat()
            except OSError:  # deleted meanwhile
                continue
            if path.is_file():
                files.append((stat.st_mtime, stat.st_size, path))
        files.sort()
        used = sum(size for _, size, _ in files)
        for mtime, size, path in files:
            if now - mtime <= self.max_age_s and used <= self.total_bytes:
                break
            path.unlink(missing_ok=True)
            used -= size
        # Empty folders go too, deepest first; not new ones, which Gradio may be filling.
        for folder in sorted(self.folder.rglob("*"), reverse=True):
            try:
                if folder.is_dir() and now - folder.stat().st_mtime > 60:
                    folder.rmdir()  # only when empty
            except OSError:
                pass
        with self._lock:
            self._used = used

    def sweep_every(self, seconds: float) -> threading.Thread:
        def work() -> None:
            while True:
                time.sleep(seconds)
                try:
                    self.sweep()
                except Exception as err:  # never kill the sweeper; try again next time
                    log.warning("sweeping the upload cache failed: %s", err)

        thread = threading.Thread(target=work, name="upload-cache-sweeper", daemon=True)
        thread.start()
        return thread
