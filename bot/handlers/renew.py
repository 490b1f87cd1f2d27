"""``code:17:renew``: a new code in place of a fixed-amount VA that expires (or has expired).

The new code has the old one's customer, bank and amount, and is issued like any other
(``Codebook.renew``). Its request key is derived from the old code, so a double tap, a
second press from ``/codes`` after one on the warning, or a "try again" after Pivot was down
all find the same new code: one renewal per code. Pivot's own idempotency key comes from the
new code's fresh client reference. A second tap while the renewal is under way is answered as
stale, so it sends no second card either.
"""

from __future__ import annotations

from telegram import Update

from bot.clock import utcnow
from bot.codebook import Code, RenewalRefusal
from bot.context import Context
from bot.handlers.browse import pressed_code, show_detail
from bot.handlers.new import issue_in_background
from bot.keyboards import code_data
from bot.texts import text

__all__ = ["renew"]

_RENEWING = "renewing"  # bot_data: ids of the codes whose renewal is under way


async def renew(update: Update, context: Context) -> None:
    """The renew button, under an expiry warning or in a code's detail."""
    renewing: set[int] = context.bot_data.setdefault(_RENEWING, set())
    query = update.callback_query
    if query is not None and context.matches and int(context.matches[0][1]) in renewing:
        await query.answer(text(context.language, "new.stale_button"))
        return
    codebook = context.services.codebook
    now = utcnow()
    pressed = await pressed_code(
        update, context, lambda seller, code_id: codebook.renewal(seller, code_id, now=now)
    )
    if pressed is None:
        return
    query, renewal = pressed
    code = renewal.code
    if renewal.refusal is not None:
        note = ""
        if renewal.refusal is RenewalRefusal.BANK_GONE:
            banks = ", ".join(renewal.channels)
            note = text(context.language, "new.unknown_bank", bank=code.bank, banks=banks)
        await show_detail(query, await codebook.detail_of(code), context, note=note)
        return
    seller = context.seller

    async def attempt() -> Code:
        try:
            return await codebook.renew(seller, code)
        finally:
            renewing.discard(code.id)

    renewing.add(code.id)
    started = False
    try:
        started = await issue_in_background(
            update, context, attempt, query, retry_data=code_data(code.id, "renew")
        )
    finally:
        if not started:  # the attempt, which lets go of the code, never runs
            renewing.discard(code.id)
