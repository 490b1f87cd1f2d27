"""A buyer's receipt: what it says, and when it may go out (docs/buyers.md, "Receipts").

The ledger queues one per charge and buyer in the transaction that records the charge, next to
the seller's message (docs/money.md rule 4), for every buyer holding a live link of a code whose
receipts are on. A charge a callback reported waits for Pivot's API: its receipts are queued
AWAITING that charge and go out only once ``bot.confirm`` confirms it, never if it refutes it
(docs/money.md rule 6), and never flagged "not yet confirmed" as a seller's message may be: a
buyer has nothing to hand over, only a receipt that must be true.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.amounts import format_rupiah
from bot.clock import format_datetime
from bot.notifications import TEXT_KIND, TextNotice
from bot.sellers import shop_name_of
from bot.texts import text
from storage import Buyer, ChargeConfirmation, NewCharge, NewMessage, Seller, Transaction

__all__ = ["receipt_dedupe_key", "receipt_message", "withdraw_receipts"]

_KEY_PREFIX = "receipt:"


def receipt_dedupe_key(pivot_charge_id: str, buyer_id: int) -> str:
    """The outbox key of one buyer's receipt for one charge: one receipt each, ever."""
    return f"{_KEY_PREFIX}{pivot_charge_id}:{buyer_id}"


def receipt_message(record: NewCharge, seller: Seller, buyer: Buyer) -> NewMessage:
    """``buyer``'s receipt for the charge ``record`` on a code of ``seller``'s, in the buyer's
    language, the time in the seller's zone (WIB unless the seller's is another)."""
    body = text(
        buyer.language,
        "receipt",
        amount=format_rupiah(record.amount),
        shop=shop_name_of(seller),
        time=format_datetime(record.paid_at, ZoneInfo(seller.timezone)),
    )
    pending = record.confirmation is ChargeConfirmation.PENDING
    return NewMessage(
        dedupe_key=receipt_dedupe_key(record.pivot_charge_id, buyer.telegram_id),
        chat_id=buyer.chat_id,
        kind=TEXT_KIND,
        payload=TextNotice(text=body).model_dump_json(),
        awaiting_charge=record.pivot_charge_id if pending else None,
    )


async def withdraw_receipts(tx: Transaction, code_id: int) -> int:
    """Give up on the receipts for ``code_id``'s payments not sent yet (waiting for Pivot's
    confirmation, or held for a buyer who blocked the bot); how many.

    Called in the transaction that revokes or replaces the code's link or switches its receipts
    off, before the link is revoked: a seller who withdraws a link that reached the wrong person
    means that person to hear of no payment from then on, not of the ones still on their way.
    """
    holders = (await tx.buyers.holding_live_links([code_id])).get(code_id, [])
    if not holders:
        return 0
    unsent = await tx.outbox.unsent_in_chats(
        [buyer.chat_id for buyer in holders], key_prefix=_KEY_PREFIX
    )
    # The key is ours: receipt:<Pivot's charge id>:<buyer's Telegram id>.
    charge_of = {
        message_id: key[len(_KEY_PREFIX) :].rpartition(":")[0] for message_id, key in unsent
    }
    on_code = await tx.charges.on_code(charge_of.values(), code_id)
    withdrawn = [message_id for message_id, charge_id in charge_of.items() if charge_id in on_code]
    await tx.outbox.mark_failed(withdrawn, error="receipt withdrawn: link revoked or receipts off")
    return len(withdrawn)
