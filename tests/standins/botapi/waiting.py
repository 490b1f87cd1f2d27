"""Waking waiters when the fake's state changes, and the one loop every ``wait_for_*`` uses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar


class Signal:
    """Wakes every waiter on each notify; take ``waiter()`` before checking state."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def waiter(self) -> asyncio.Event:
        """The event the next ``notify`` sets."""
        return self._event

    def notify(self) -> None:
        """Wake everyone waiting now."""
        self._event.set()
        self._event = asyncio.Event()


class _Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


_R = TypeVar("_R", bound=_Sequenced)


async def first_record(
    changed: Signal,
    records: Callable[[], Iterable[_R]],
    predicate: Callable[[_R], bool] | None,
    *,
    after: int,
    timeout: float,
    what: str,
    context: Callable[[], str],
) -> _R:
    """The first of ``records()`` from ``after`` on that matches ``predicate``.

    Checked again whenever ``changed`` fires; AssertionError after ``timeout``, saying ``what`` it
    waited for and ``context()``.
    """
    try:
        async with asyncio.timeout(timeout):
            while True:
                waiter = changed.waiter()
                for record in records():
                    if record.seq >= after and (predicate is None or predicate(record)):
                        return record
                await waiter.wait()
    except TimeoutError:
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what}; {context()}"
        ) from None
