"""``code:17:renew``: a new code in place of a fixed-amount VA that expires (or has expired).

The new code has the old one's customer, bank and amount, and is issued like any other
(``CodeIssuer.issue``). Its request key is derived from the old code, so a double tap, a
second press from ``/codes`` after one on the warning, or a "try again" after Pivot was down
all find the same new code: one renewal per code. Pivot's own idempotency key comes from the
new code's fresh client reference. A second tap while the renewal is under way is answered as
stale, so it sends no second card either.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.clock import utcnow
from bot.context import Context
from bot.drafts import Draft
from bot.expiry import renewable
from bot.handlers.access import current_seller
from bot.handlers.browse import owned_code, show_detail
from bot.handlers.new import issue_in_background
from bot.keyboards import code_data
from bot.texts import text
from storage import Code, CodeKind

__all__ = ["renew", "renewal_key"]

logger = logging.getLogger(__name__)

_RENEWING = "renewing"  # bot_data: ids of the codes whose renewal is under way


def renewal_key(code_id: int) -> str:
    """The request key of the code that renews code ``code_id``."""
    return f"renew:{code_id}"


async def renew(update: Update, context: Context) -> None:
    """The renew button, under an expiry warning or in a code's detail."""
    renewing: set[int] = context.bot_data.setdefault(_RENEWING, set())
    query = update.callback_query
    if query is not None and context.matches and int(context.matches[0][1]) in renewing:
        seller = await current_seller(update, context)
        await query.answer(text(seller.language, "new.stale_button"))
        return
    found = await owned_code(update, context)
    if found is None:
        return
    query, seller, code = found
    if not renewable(code, utcnow()) or code.bank is None:
        await show_detail(query, context, seller, code, 1)  # deactivated since, or never expires
        return
    codes = context.services.codes
    channels = await codes.channels()
    if code.bank not in channels:  # no longer enabled at Pivot
        note = text(seller.language, "new.unknown_bank", bank=code.bank, banks=", ".join(channels))
        await show_detail(query, context, seller, code, 1, note=note)
        return
    draft = Draft(kind=CodeKind.VA, bank=code.bank, customer=code.customer, amount=code.amount)
    key = renewal_key(code.id)

    async def attempt() -> Code:
        try:
            return await codes.issue(seller, draft, key)
        finally:
            renewing.discard(code.id)

    logger.info("Seller %s renews code %s", seller.telegram_id, code.id)
    renewing.add(code.id)
    started = False
    try:
        started = await issue_in_background(
            update, context, seller, attempt, query, retry_data=code_data(code.id, "renew")
        )
    finally:
        if not started:  # the attempt, which lets go of the code, never runs
            renewing.discard(code.id)
