"""A leader lease the test grants and takes away (``storage.Lease``)."""

from __future__ import annotations

import asyncio

from storage import Lease


class FakeLease(Lease):
    """Held once ``granted`` is set, lost once ``gone`` is set; ``released`` counts gives-up."""

    def __init__(self) -> None:
        self.granted = asyncio.Event()
        self.gone = asyncio.Event()
        self.released = 0
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def acquire(self) -> None:
        await self.granted.wait()
        self._held = True

    async def lost(self) -> None:
        await self.gone.wait()
        self._held = False

    async def release(self) -> None:
        self.released += 1
        self._held = False

    async def held_in(self, sql: object) -> bool:
        return self._held
