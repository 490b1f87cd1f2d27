"""The card a seller forwards to a buyer: a QRIS photo with a caption, or a VA message.

Everything on it comes from the catalogues; the VA number is shown exactly as Pivot returned
it, in ``<code>`` so that a tap copies it. The QRIS photo is labelled (``qr_label``): saved,
printed or forwarded without its caption, it still says whose it is and how much.

A QR photo's file id, as Telegram returns it with the first card, is kept with its code: an
inline answer (a code shared into a buyer's chat) can only name a photo Telegram already has.
``CardPhotos`` gets the photo of an older code there when it has none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import Bot, InputMediaPhoto, Message
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.amounts import format_rupiah
from bot.clock import format_datetime, utcnow
from bot.codebook import Codebook
from bot.qr import QrLabel, render_labelled_qr_png
from bot.relay import Relay
from bot.texts import CATALOGUES, Safe, language_of, plain, text
from pivot_client import DEFAULT_VA_RULES
from pivot_client.qris import merchant_name, nmid
from storage import Code, CodeKind, CodeStatus

__all__ = [
    "QRIS_APPS",
    "CardPhotos",
    "deliver_card",
    "qr_label",
    "render_card",
    "render_qr_photo",
    "send_card",
]

logger = logging.getLogger(__name__)

# The e-wallets that pay any QRIS, named on the card and the sticker (with mobile banking).
QRIS_APPS = ("GoPay", "OVO", "DANA", "ShopeePay", "LinkAja")
_ALBUM = 10  # photos in one sendMediaGroup, Telegram's most


def render_card(code: Code, language: str, *, zone: ZoneInfo, heading: str = "") -> str:
    """The card's HTML: ``heading`` (HTML, such as whose shop it is from), marks, what to pay,
    how, and until when (in the seller's ``zone``)."""
    lines: list[str] = [heading] if heading else []
    if code.simulation:
        lines.append(text(language, "card.simulation"))
    if code.status is CodeStatus.DEACTIVATED:
        lines.append(text(language, "card.deactivated"))
    lines.extend(
        _qris_lines(code, language) if code.kind is CodeKind.QRIS else _va_lines(code, language)
    )
    if code.expires_at is None:
        lines.append(text(language, "card.reusable"))
    else:  # a closed VA: Pivot takes payments on it for 30 days only
        until = format_datetime(code.expires_at, zone)
        lines.append(text(language, "card.valid_until", date=until))
    return Safe("\n".join(lines))


def _qris_lines(code: Code, language: str) -> list[str]:
    lines = [text(language, "card.qris.title", customer=code.customer)]
    if code.amount is None:
        lines.append(text(language, "card.qris.open"))
    else:
        lines.append(text(language, "card.qris.amount", amount=format_rupiah(code.amount)))
    # The name the payer's app will show: tag 59 of the QR itself, not Pivot's merchantName.
    if code.qr_content and (name := merchant_name(code.qr_content)):
        lines.append(text(language, "card.qris.merchant", merchant=name))
    lines.append(text(language, "card.qris.steps", apps=", ".join(QRIS_APPS)))
    return lines


def qr_label(code: Code, language: str) -> QrLabel:
    """What the QRIS photo says: the customer, the expected amount or "nominal bebas", the name
    a payer sees (tag 59) and the NMID as the QR itself carries them, "SIMULASI" if simulated."""
    content = code.qr_content or ""
    lines = [
        plain(language, "image.open_amount")
        if code.amount is None
        else plain(language, "image.amount", amount=format_rupiah(code.amount))
    ]
    if name := merchant_name(content):
        lines.append(plain(language, "image.merchant", merchant=name))
    if number := nmid(content):
        lines.append(plain(language, "image.nmid", nmid=number))
    return QrLabel(
        title=plain(language, "image.customer", customer=code.customer),
        lines=tuple(lines),
        banner=plain(language, "image.simulation") if code.simulation else None,
    )


def render_qr_photo(code: Code, language: str) -> bytes:
    """The QRIS code's labelled photo (PNG)."""
    if not code.qr_content:
        raise ValueError(f"code {code.id} has no QR content to draw")
    return render_labelled_qr_png(code.qr_content, qr_label(code, language))


def _va_lines(code: Code, language: str) -> list[str]:
    channel = code.bank or ""
    rule = DEFAULT_VA_RULES.get(channel)
    lines = [
        text(language, "card.va.title", bank=rule.name if rule else channel),
        text(language, "card.va.customer", customer=code.customer),
        text(language, "card.va.number", number=code.va_number or ""),
    ]
    if code.amount is None:
        lines.append(text(language, "card.va.open"))
    else:
        lines.append(text(language, "card.va.amount", amount=format_rupiah(code.amount)))
    menu = text(language, _menu_key(channel, language))
    lines.append(text(language, "card.va.steps", bank=channel, menu=menu, bank_short=channel))
    return lines


def _menu_key(channel: str, language: str) -> str:
    """The bank's own menu name when the catalogue knows it, else the generic one."""
    key = f"card.va.menu.{channel}"
    return key if key in CATALOGUES[language_of(language)] else "card.va.menu"


async def send_card(
    bot: Bot, chat_id: int, code: Code, language: str, *, zone: ZoneInfo, heading: str = ""
) -> Message:
    """Send the card: a QR photo with the card as caption, or the card as a message."""
    card = render_card(code, language, zone=zone, heading=heading)
    if code.kind is CodeKind.QRIS:
        return await bot.send_photo(
            chat_id,
            photo=render_qr_photo(code, language),
            caption=card,
            parse_mode=ParseMode.HTML,
            filename=_qr_file_name(code),
        )
    return await bot.send_message(chat_id, card, parse_mode=ParseMode.HTML)


def _qr_file_name(code: Code) -> str:
    return f"qris-{code.id}.png"


async def deliver_card(
    bot: Bot,
    relay: Relay,
    chat_id: int,
    code: Code,
    language: str,
    *,
    zone: ZoneInfo,
    codebook: Codebook,
) -> bool:
    """Send the card; when Telegram will not take it, tell the seller so when they next write.

    The bot's ``Sender`` has already waited out flood limits and retried transient failures:
    what arrives here is final. The code itself is safe in ``/codes`` either way. A QR photo's
    file id is kept with the code for sharing.
    """
    try:
        message = await send_card(bot, chat_id, code, language, zone=zone)
    except TelegramError as exc:
        logger.warning("the card of code %d could not be delivered: %s", code.id, exc)
        if isinstance(exc, Forbidden):
            await relay.refused(chat_id, f"forbidden: {exc}")
        await relay.keep_for_later(
            chat_id,
            text(language, "card.undelivered", customer=code.customer),
            dedupe_key=f"card-undelivered:{code.id}:{utcnow().isoformat()}",
        )
        return False
    if message.photo:
        await codebook.keep_photo(code, message.photo[-1].file_id)  # the largest size
    return True


class CardPhotos:
    """Gets QR photos to Telegram unseen (``bot.codebook.PhotoUpload``): sent silently to the
    seller's own chat, a whole answer's in one or two albums, and deleted at once. A file id
    stays valid after its message is deleted."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def __call__(self, chat_id: int, codes: Sequence[Code], language: str) -> dict[int, str]:
        """The file ids of the QR photos of ``codes`` (labelled in ``language``), by code id;
        those Telegram refused (the seller blocked the bot, say) left out."""
        file_ids: dict[int, str] = {}
        sent: list[int] = []
        try:
            for start in range(0, len(codes), _ALBUM):
                batch = codes[start : start + _ALBUM]
                messages = await self._send(chat_id, batch, language)
                sent += [message.message_id for message in messages]
                for code, message in zip(batch, messages, strict=True):
                    file_ids[code.id] = message.photo[-1].file_id
        except TelegramError as exc:
            logger.warning("Telegram did not take the QR photos of %d codes: %s", len(codes), exc)
        finally:
            if sent:
                await self._delete(chat_id, sent)
        return file_ids

    async def _send(self, chat_id: int, codes: Sequence[Code], language: str) -> Sequence[Message]:
        photos = [(render_qr_photo(code, language), _qr_file_name(code)) for code in codes]
        if len(photos) == 1:  # an album takes two photos or more
            [(photo, name)] = photos
            sent = await self._bot.send_photo(
                chat_id, photo, filename=name, disable_notification=True
            )
            return [sent]
        album = [InputMediaPhoto(photo, filename=name) for photo, name in photos]
        return await self._bot.send_media_group(chat_id, album, disable_notification=True)

    async def _delete(self, chat_id: int, message_ids: list[int]) -> None:
        try:
            await self._bot.delete_messages(chat_id, message_ids)
        except TelegramError as exc:  # the photos stay in the seller's chat: harmless
            logger.warning("could not delete the QR photos sent to get their file ids: %s", exc)
