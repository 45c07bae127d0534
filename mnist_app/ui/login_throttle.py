"""Failed logins lock the client address out for longer and longer.

Gradio's /login answers as fast as it can check a password (515 guesses a second here),
and does not count failures. RequestGuard asks this throttle before each login and tells
it how each one went.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int
    locked_until: float
    last_failure: float


class LoginThrottle:
    """`free` failures in a row are allowed; each one after locks the address out for twice
    as long as the last (1 s, 2 s, 4 s, ... up to `max_lock_s`). A success clears the
    record; so does twice `max_lock_s` without a failure. At most `max_clients` addresses are
    remembered (the oldest forgotten), so that many addresses cannot fill the memory."""

    def __init__(
        self,
        free: int = 5,
        max_lock_s: float = 900.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.free, self.max_lock_s, self.max_clients = free, max_lock_s, max_clients
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """Seconds before `client` may try again (0: now)."""
        with self._lock:
            record = self._current(client)
            return max(0.0, record.locked_until - self._clock()) if record else 0.0

    def failed(self, client: str) -> None:
        with self._lock:
            now = self._clock()
            record = self._current(client) or _Record(0, 0.0, now)
            record.failures += 1
            record.last_failure = now
            beyond = record.failures - self.free
            if beyond > 0:
                record.locked_until = now + min(2.0 ** (beyond - 1), self.max_lock_s)
            self._records[client] = record
            self._records.move_to_end(client)
            while len(self._records) > self.max_clients:
                self._records.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._records.pop(client, None)

    def _current(self, client: str) -> _Record | None:
        record = self._records.get(client)
        if record and self._clock() - record.last_failure > 2 * self.max_lock_s:
            del self._records[client]  # a quiet while wipes the slate
            return None
        return record
