"""Telegram taking QR photos for inline answers, for services tested without Telegram."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from storage import Code


@dataclass
class FakePhotos:
    """Telegram taking QR photos, as ``bot.cards.CardPhotos`` gets them there: every one but
    the ``refused`` codes' is given a file id; each call is kept."""

    refused: set[int] = field(default_factory=set)
    calls: list[tuple[int, list[int]]] = field(default_factory=list)

    async def __call__(self, chat_id: int, codes: Sequence[Code], language: str) -> dict[int, str]:
        self.calls.append((chat_id, [code.id for code in codes]))
        return {code.id: f"photo-{code.id}" for code in codes if code.id not in self.refused}
