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
from storage import Buyer, ChargeConfirmation, NewCharge, NewMessage, Seller

__all__ = ["receipt_dedupe_key", "receipt_message"]


def receipt_dedupe_key(pivot_charge_id: str, buyer_id: int) -> str:
    """The outbox key of one buyer's receipt for one charge: one receipt each, ever."""
    return f"receipt:{pivot_charge_id}:{buyer_id}"


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
