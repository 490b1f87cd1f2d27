"""Sharing a code straight into a buyer's chat: the seller types ``@bot`` there (inline mode),
picks one of their live codes, and the card is posted in that chat via the bot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.clock import utcnow
from bot.inline_check import INLINE_OFF
from bot.texts import text
from storage import Code, Seller
from tests.standins import (
    SELLER,
    BotEnv,
    FakeUser,
    InlineAnswer,
    add_code,
    card_after,
    decode_qr,
    new_seller,
    running_bot,
    say,
    settle,
    wait_for,
)

BUYER = 3001  # talks to the seller, never to the bot


async def made(env: BotEnv, seller: FakeUser, command: str) -> tuple[Code, str]:
    """The code ``/new ...`` in one message makes, and its card's text as the seller got it."""
    mark = seller.fake.mark()
    await say(seller, command)
    card = await card_after(seller, mark)
    return (await env.codes_of(SELLER))[0], card.text or ""


async def ask(env: BotEnv, user: FakeUser, words: str = "", offset: str = "") -> InlineAnswer:
    """``user`` types ``@bot words`` in a chat; the bot's answer."""
    query_id = await user.inline_query(words, offset=offset)
    return await env.telegram.wait_for_inline_answer(query_id)


def offered(answer: InlineAnswer) -> list[str]:
    return [result["id"] for result in answer.results]


async def seller_record(env: BotEnv) -> Seller:
    seller = await env.services.db.sellers.get(SELLER)
    assert seller is not None
    return seller


async def test_a_seller_shares_a_qr_or_a_va_into_a_buyers_chat_found_by_the_customers_name(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await new_seller(env)
        buyer = env.user(BUYER, "Budi")
        qris, qris_card = await made(env, seller, "/new qris 25rb Budi Santoso")
        va, va_card = await made(env, seller, "/new va bca 50000 Ani Wijaya")
        uploads = len(env.telegram.calls_to("sendPhoto"))

        everything = await ask(env, seller)
        found = await ask(env, seller, "SANTO")
        qr_posted = await seller.choose(found, str(qris.id), buyer)
        va_posted = await seller.choose(everything, str(va.id), buyer)
        await settle(env)  # the chosen results reached the bot
        kept = await env.services.db.codes.get(qris.id)

    # Newest first, the seller's own; personal and never cached, so each keystroke asks again.
    assert offered(everything) == [str(va.id), str(qris.id)]
    assert (everything.is_personal, everything.cache_time, everything.next_offset) == (True, 0, "")
    assert offered(found) == [str(qris.id)]
    # The QR photo is the one Telegram holds from the card: nothing was uploaded for sharing.
    assert kept is not None and kept.photo_file_id is not None
    assert found.results[0]["photo_file_id"] == kept.photo_file_id
    assert len(env.telegram.calls_to("sendPhoto")) == uploads
    assert env.telegram.calls_to("sendMediaGroup") == []
    # The buyer's chat has the QR (it reads back as the code) and the VA, each with its card.
    assert [m.message_id for m in env.telegram.via_bot_messages(BUYER)] == [1, 2]
    assert qr_posted.photo is not None and decode_qr(qr_posted.photo) == [qris.qr_content]
    assert (qr_posted.text, qr_posted.sender_id) == (qris_card, SELLER)
    assert va_posted.text == va_card and f"<code>{va.va_number}</code>" in va_card
    # A button copies what the buyer types: the VA number, the QRIS's expected amount.
    assert [b["copy_text"]["text"] for b in va_posted.buttons()] == [va.va_number]
    assert [b["copy_text"]["text"] for b in qr_posted.buttons()] == ["25000"]
    # Both codes were live: nothing was touched, and the bot never wrote to the buyer.
    assert env.telegram.edits(BUYER) == []
    assert env.telegram.sent_messages(BUYER) == []


async def test_a_stranger_and_a_suspended_seller_are_offered_nothing(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await new_seller(env)
        await made(env, seller, "/new qris Budi")
        stranger = env.user(BUYER, "Budi")
        before = await ask(env, seller)

        strangers = await ask(env, stranger, "budi")
        await say(env.admin, f"/suspend {SELLER}")
        suspended = await ask(env, seller)
        await say(env.admin, f"/unsuspend {SELLER}")
        restored = await ask(env, seller)

    assert len(before.results) == 1
    assert (strangers.results, strangers.is_personal) == ([], True)
    assert suspended.results == []
    assert offered(restored) == offered(before)
    # Refused without a word: an inline query comes from no chat of the bot's.
    assert env.telegram.sent_messages(BUYER) == []


async def test_a_code_deactivated_after_it_was_offered_is_withdrawn_from_the_buyers_chat(
    bot_home: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.handlers.inline")
    async with running_bot(bot_home) as env:
        seller = await new_seller(env)
        buyer = env.user(BUYER, "Budi")
        va, _ = await made(env, seller, "/new va bca 50000 Budi")
        qris, _ = await made(env, seller, "/new qris 25rb Budi")
        open_qris, open_card = await made(env, seller, "/new qris Budi")
        shown = await ask(env, seller, "budi")
        record = await seller_record(env)
        for code in (va, qris, open_qris):
            await env.services.codebook.deactivate(record, code.id, now=utcnow())

        # Telegram's app posts what the answer offered; the bot learns of it afterwards.
        for code in (va, qris, open_qris):
            await seller.choose(shown, str(code.id), buyer)
        await wait_for(
            lambda: len(env.telegram.edits(BUYER)) == 2, timeout=5, what="the cards replaced"
        )
        await settle(env)
        again = await ask(env, seller, "budi")

    withdrawn = text("id", "share.withdrawn")
    va_shown, qris_shown, open_shown = env.telegram.via_bot_messages(BUYER)
    # The VA's number is gone from the buyer's chat, and the QR's card says not to pay it.
    assert (va_shown.text, va_shown.photo, va_shown.reply_markup) == (withdrawn, None, None)
    assert va.va_number is not None and va.va_number not in withdrawn
    assert (qris_shown.text, qris_shown.reply_markup) == (withdrawn, None)
    # An open-amount QRIS has no keyboard, so Telegram gives no way to edit it: it stays,
    # and a payment on it is still recorded and announced (a static QRIS takes money).
    assert (open_shown.text, open_shown.edited) == (open_card, False)
    assert [r.getMessage() for r in caplog.records if "stopped being live" in r.getMessage()] == [
        f"Seller {SELLER} shared code {va.id} after it stopped being live (replacing its card)",
        f"Seller {SELLER} shared code {qris.id} after it stopped being live (replacing its card)",
        f"Seller {SELLER} shared code {open_qris.id} after it stopped being live "
        "(its card cannot be edited)",
    ]
    assert again.results == []  # and never offered again


async def test_codes_come_a_page_at_a_time_and_a_qr_telegram_lacks_is_sent_unseen_once(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await new_seller(env)
        buyer = env.user(BUYER, "Budi")
        # Codes made before photos were kept: Telegram holds no photo of theirs.
        codes = [
            await add_code(env.services.db, SELLER, customer=f"Pelanggan {n}") for n in range(25)
        ]
        first = await ask(env, seller)
        last = await ask(env, seller, offset=first.next_offset)
        albums = env.telegram.calls_to("sendMediaGroup")
        again = await ask(env, seller, "pelanggan 2")
        posted = await seller.choose(last, str(codes[0].id), buyer)

    newest_first = [str(code.id) for code in reversed(codes)]
    assert (offered(first), first.next_offset) == (newest_first[:20], "20")
    assert (offered(last), last.next_offset) == (newest_first[20:], "")
    # One album per ten photos, to the seller's own chat, silently, then deleted at once.
    assert [len(album.params["media"]) for album in albums] == [10, 10, 5]
    assert {
        (album.params["chat_id"], album.params["disable_notification"]) for album in albums
    } == {(SELLER, True)}
    deleted = [call.params["message_ids"] for call in env.telegram.calls_to("deleteMessages")]
    sent = [m for m in env.telegram.sent_messages(SELLER) if m.method == "sendMediaGroup"]
    assert deleted == [[m.message_id for m in sent[:20]], [m.message_id for m in sent[20:]]]
    for message in sent:
        with pytest.raises(LookupError):
            env.telegram.message_json(SELLER, message.message_id)
    # Kept: the next answer sends none.
    assert offered(again) == [str(codes[n].id) for n in (24, 23, 22, 21, 20, 2)]
    assert len(env.telegram.calls_to("sendMediaGroup")) == 3
    assert posted.photo is not None and decode_qr(posted.photo) == [codes[0].qr_content]


async def test_with_inline_mode_off_the_bot_warns_and_healthz_says_so(
    new_bot_home: Callable[[], Path | str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.inline_check")
    async with running_bot(new_bot_home(), inline_mode=False) as env:
        seller = await new_seller(env)
        helped = await say(seller, "/help")
        off = await health(env)
    async with running_bot(new_bot_home()) as env:
        on = await health(env)

    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.inline_check"]
    assert warning == INLINE_OFF.format(bot=env.telegram.bot_username)
    assert "/setinline" in warning and "/setinlinefeedback" in warning
    assert (off["inline"], off["status"], on["inline"]) == ("off", "ok", "on")
    assert helped.text == text("id", "help")  # no word of sharing while it cannot work


async def health(env: BotEnv) -> dict[str, object]:
    """``/healthz``'s report."""
    async with httpx.AsyncClient() as http:
        report: dict[str, object] = (await http.get(f"{env.runtime.http_url}/healthz")).json()
    return report
