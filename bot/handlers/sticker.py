"""``code:17:sticker``: a QRIS code's print-ready sticker, sent as a PDF and a PNG document.

Only the seller's own active QRIS codes get one (``bot.codebook.can_print_sticker``): the
button is offered for them alone, and a press is checked again, since the code may have been
deactivated since, or the data forged.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.constants import ParseMode

from bot.codebook import can_print_sticker
from bot.context import Context
from bot.handlers.browse import pressed_code, show_detail
from bot.sellers import shop_name_of
from bot.sticker import render_sticker
from bot.texts import text

__all__ = ["sticker"]


async def sticker(update: Update, context: Context) -> None:
    """``code:17:sticker``: the code's sticker as two documents, a PDF and a PNG."""
    pressed = await pressed_code(update, context, context.services.codebook.find)
    if pressed is None:
        return
    query, code = pressed
    seller, language = context.seller, context.language
    if not can_print_sticker(code):
        detail = await context.services.codebook.detail_of(code)
        await show_detail(query, detail, context, note=text(language, "sticker.unavailable"))
        return
    # ~60 ms of drawing and compressing a 300 dpi page: off the event loop.
    printed = await asyncio.to_thread(render_sticker, code, shop_name_of(seller), language)
    name = text(language, "sticker.file", id=code.id)
    for kind, data in (("pdf", printed.pdf), ("png", printed.png)):
        await context.bot.send_document(
            seller.chat_id,
            document=data,
            filename=f"{name}.{kind}",
            caption=text(language, f"sticker.{kind}", customer=code.customer),
            parse_mode=ParseMode.HTML,
        )
