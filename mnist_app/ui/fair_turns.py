"""Turns taken fairly between client addresses: a few requests run at once, and when more
wait, the next turn goes to the address that waited longest for one, not to whoever sent
the most. One address flooding the pen canvas then gets its share, and another person's
pen-up answer waits behind at most one of its requests per slot (bench/exhaust.py F12)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class TurnsFull(Exception):
    """An address has too many requests waiting already."""


class FairTurns:
    def __init__(self, slots: int, waiting_per_address: int):
        self.slots, self.waiting_per_address = slots, waiting_per_address
        self._busy = 0
        self._waiting: OrderedDict[str, deque[asyncio.Future]] = OrderedDict()

    @asynccontextmanager
    async def turn(self, address: str) -> AsyncIterator[None]:
        """Runs the block in a slot; raises TurnsFull when `address` has too many waiting."""
        await self._acquire(address)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, address: str) -> None:
        if self._busy < self.slots and not self._waiting:
            self._busy += 1
            return
        queue = self._waiting.setdefault(address, deque())
        if len(queue) >= self.waiting_per_address:
            if not queue:
                del self._waiting[address]
            raise TurnsFull(address)
        ticket = asyncio.get_running_loop().create_future()
        queue.append(ticket)
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled():
                self._release()  # handed a slot just as its client left: pass it on
            else:
                self._forget(address, ticket)
            raise

    def _release(self) -> None:
        """The slot goes to the first waiter of the address first in line, which then goes
        to the back of the line: round robin between addresses, in order within one."""
        while self._waiting:
            address, queue = next(iter(self._waiting.items()))
            ticket = queue.popleft()
            if queue:
                self._waiting.move_to_end(address)
            else:
                del self._waiting[address]
            if not ticket.cancelled():
                ticket.set_result(None)
                return
        self._busy -= 1

    def _forget(self, address: str, ticket: asyncio.Future) -> None:
        queue = self._waiting.get(address)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            if not queue:
                del self._waiting[address]
