"""Turns taken fairly between client addresses: a few requests run at once, at most a
couple per address, and when more wait, the next turn goes to the address that waited
longest for one, not to whoever sent the most. One address flooding the pen canvas then
gets its share, and another person's pen-up answer waits behind at most one of its
requests per slot (bench/exhaust.py F12). Within an address, urgent requests (a pen-up's
answer) go before the others (frames sent while a pen is still down): a class behind one
school address sees its pen-up answers first, however many pens are moving. And a page's
pen-up drops that page's frame still waiting (the page sends it without waiting for the
frame's answer, which nobody would see)."""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


class TurnsFull(Exception):
    """An address has too many requests waiting already."""


class Superseded(Exception):
    """A frame sent while the pen was down, dropped while it waited: its page's pen-up came."""


@dataclass
class _Line:
    """One address's waiting requests: the urgent ones first."""

    urgent: deque[asyncio.Future] = field(default_factory=deque)
    later: deque[asyncio.Future] = field(default_factory=deque)

    def __len__(self) -> int:
        return len(self.urgent) + len(self.later)

    def add(self, ticket: asyncio.Future, urgent: bool) -> None:
        (self.urgent if urgent else self.later).append(ticket)

    def next(self) -> asyncio.Future:
        return (self.urgent or self.later).popleft()

    def remove(self, ticket: asyncio.Future) -> None:
        for queue in (self.urgent, self.later):
            if ticket in queue:
                queue.remove(ticket)


class FairTurns:
    def __init__(self, slots: int, per_address: int, waiting_per_address: int):
        self.slots, self.per_address = slots, per_address
        self.waiting_per_address = waiting_per_address
        self._running: Counter[str] = Counter()
        self._waiting: OrderedDict[str, _Line] = OrderedDict()
        # Each page's request that is not urgent, while it waits: (address, ticket).
        self._page_waiting: dict[str, tuple[str, asyncio.Future]] = {}

    @asynccontextmanager
    async def turn(
        self, address: str, urgent: bool = True, page: str | None = None
    ) -> AsyncIterator[None]:
        """Runs the block in a slot; raises TurnsFull when `address` has too many waiting.
        A request that is not `urgent` waits behind its address's urgent ones, and raises
        Superseded if an urgent one of the same `page` (and address) comes meanwhile."""
        await self._acquire(address, urgent, page)
        try:
            yield
        finally:
            self._release(address)

    async def _acquire(self, address: str, urgent: bool, page: str | None) -> None:
        if urgent and page is not None:
            self._supersede(address, page)
        if not self._waiting and self._free_for(address):
            self._running[address] += 1
            return
        line = self._waiting.setdefault(address, _Line())
        if len(line) >= self.waiting_per_address:
            if not line:
                del self._waiting[address]
            raise TurnsFull(address)
        ticket = asyncio.get_running_loop().create_future()
        line.add(ticket, urgent)
        if not urgent and page is not None:
            self._page_waiting[page] = (address, ticket)
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled() and ticket.exception() is None:
                self._release(address)  # granted just as its client left: pass it on
            else:
                self._forget(address, ticket)
            raise
        finally:
            if page is not None and self._page_waiting.get(page, (None, None))[1] is ticket:
                del self._page_waiting[page]

    def _supersede(self, address: str, page: str) -> None:
        """Drops `page`'s request still waiting, if it came from the same address."""
        waiting = self._page_waiting.get(page)
        if waiting is None or waiting[0] != address or waiting[1].done():
            return
        del self._page_waiting[page]
        self._forget(address, waiting[1])
        waiting[1].set_exception(Superseded(page))

    def _free_for(self, address: str) -> bool:
        busy = sum(self._running.values())
        return busy < self.slots and self._running[address] < self.per_address

    def _release(self, address: str) -> None:
        self._running[address] -= 1
        if not self._running[address]:
            del self._running[address]
        self._dispatch()

    def _dispatch(self) -> None:
        """Free slots go round robin to the addresses waiting: the first one in line that
        may run another, which then goes to the back of the line."""
        granted = True
        while granted:
            granted = False
            for address, line in list(self._waiting.items()):
                if not self._free_for(address):
                    continue
                ticket = line.next()
                if line:
                    self._waiting.move_to_end(address)
                else:
                    del self._waiting[address]
                if not ticket.cancelled():
                    self._running[address] += 1
                    ticket.set_result(None)
                granted = True
                break

    def _forget(self, address: str, ticket: asyncio.Future) -> None:
        line = self._waiting.get(address)
        if line is not None:
            line.remove(ticket)
            if not line:
                del self._waiting[address]
