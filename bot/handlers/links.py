"""The seller's side of buyer links (docs/buyers.md): a code's link and receipts, from its
detail in ``/codes``, and ``/toko``, the shop name buyers see.

Every press carries a code id only; ``bot.buyers.Buyers`` looks the code up again for the
person who pressed, so another seller's code finds nothing and the press gets the same alert
as any code that is not theirs (``bot.handlers.browse.pressed_code``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.buyers import LinkChange
from bot.clock import utcnow
from bot.context import Context
from bot.handlers.browse import pressed_code, show_detail
from bot.sellers import Seller, shop_name_of
from bot.texts import text

__all__ = ["receipts", "relink", "share", "toko", "unlink"]

_Change = Callable[[Seller, int], Awaitable[LinkChange | None]]


async def share(update: Update, context: Context) -> None:
    """``code:17:link``: make the code's buyer link (or show the one it has) in its detail."""
    buyers = context.services.buyers
    await _change(
        update,
        context,
        lambda seller, code_id: buyers.share(seller, code_id, now=utcnow()),
        "link.made",
        refused="link.not_shareable",
    )


async def relink(update: Update, context: Context) -> None:
    """``code:17:relink``: a new link in place of the code's link, which stops working."""
    buyers = context.services.buyers
    await _change(
        update,
        context,
        lambda seller, code_id: buyers.replace(seller, code_id, now=utcnow()),
        "link.replaced",
    )


async def unlink(update: Update, context: Context) -> None:
    """``code:17:unlink``: revoke the code's link; opening it then says it is no longer valid."""
    buyers = context.services.buyers
    await _change(
        update,
        context,
        lambda seller, code_id: buyers.revoke(seller, code_id, now=utcnow()),
        "link.revoked",
    )


async def receipts(update: Update, context: Context) -> None:
    """``code:17:receipts:on|off``: switch the receipts to the code's buyers."""
    on = context.matches is not None and context.matches[0][2] == "on"
    buyers = context.services.buyers
    await _change(
        update,
        context,
        lambda seller, code_id: buyers.set_receipts(seller, code_id, on),
        "receipts.set_on" if on else "receipts.set_off",
    )


async def _change(
    update: Update, context: Context, change: _Change, done: str, *, refused: str = ""
) -> None:
    """Apply ``change`` to the pressed code and show its detail, noting ``done`` if it changed
    something, or ``refused`` if it left the code without a link."""
    pressed = await pressed_code(update, context, change)
    if pressed is None:
        return
    query, result = pressed
    key = done if result.changed else refused if result.detail.link is None else ""
    await show_detail(
        query, result.detail, context, note=text(context.language, key) if key else ""
    )


async def toko(update: Update, context: Context) -> None:
    """``/toko <name>``: the shop name buyers see; alone, the name now and how to set it."""
    seller, message = context.seller, update.message
    if message is None:
        return
    typed = " ".join(context.args or [])
    name = (
        await context.services.sellers.set_shop_name(seller.telegram_id, typed) if typed else None
    )
    if name is None:
        await message.reply_html(text(seller.language, "toko.usage", shop=shop_name_of(seller)))
        return
    await message.reply_html(text(seller.language, "toko.set", shop=name))
