"""Messages to the operators, queued in the outbox like payments so none is lost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.notifications import TEXT_KIND, TextNotice
from bot.texts import DEFAULT_LANGUAGE, text
from storage import Transaction

__all__ = ["alert_operators"]


async def alert_operators(
    tx: Transaction,
    admin_ids: Iterable[int],
    key: str,
    *,
    dedupe: str,
    now: datetime,
    **values: object,
) -> None:
    """Queue the catalogue text ``key`` for every operator, once per ``dedupe`` value."""
    for admin_id in sorted(set(admin_ids)):
        # An operator who never wrote to the bot has no row yet; in a private chat the chat id
        # is the user id, so the alert can still go out.
        seller = await tx.sellers.get(admin_id)
        language = seller.language if seller else DEFAULT_LANGUAGE
        chat_id = seller.chat_id if seller else admin_id
        notice = TextNotice(text=text(language, key, **values))
        await tx.outbox.enqueue(
            dedupe_key=f"alert:{dedupe}:{admin_id}",
            chat_id=chat_id,
            kind=TEXT_KIND,
            payload=notice.model_dump_json(),
            now=now,
        )
