"""Closed static VAs expire (Pivot: after 30 days; here the simulator's lifetime is shortened):
the card and /codes say until when, the seller is warned once with a button that makes a new
code, the new code takes payments, and the expired one is marked and never sent again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import format_date, format_datetime, utcnow
from bot.texts import text
from pivot_client import CLOSED_STATIC_VA_LIFETIME, UnprocessableEntityError
from storage import Code, CodeStatus
from tests.standins import (
    SELLER,
    BotEnv,
    Edit,
    FakeUser,
    SentMessage,
    card_after,
    is_card,
    new_seller,
    running_bot,
    say,
    wait_for,
)

WIB = ZoneInfo("Asia/Jakarta")  # the sellers' default zone
LIFETIME = timedelta(seconds=4)  # Pivot's 30 days, shortened
LOOK_EVERY = 0.3  # reconciliation's interval, which the expiry watch follows


def renews(code: Code) -> str:
    return f"code:{code.id}:renew"


def has_button(message: SentMessage | Edit, data: str) -> bool:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return any(button.get("callback_data") == data for row in rows for button in row)


def warnings_for(user: FakeUser, code: Code) -> list[SentMessage]:
    """Messages the bot sent with a button renewing ``code`` (edits do not count)."""
    return [message for message in user.messages() if has_button(message, renews(code))]


async def press(user: FakeUser, message_id: int, data: str) -> Edit:
    after = user.fake.mark()
    await user.press(message_id, data)
    return await user.fake.wait_for_edit(
        user.chat_id, lambda edit: edit.message_id == message_id, after=after
    )


async def closed_va(env: BotEnv, user: FakeUser, command: str) -> tuple[Code, SentMessage]:
    """Make a code with ``/new ...`` in one message; the code and its card."""
    mark = user.fake.mark()
    await user.send(command)
    card = await card_after(user, mark)
    return (await env.codes_of(SELLER))[0], card


async def test_a_closed_va_is_warned_once_renewed_and_then_shown_expired(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home, reconcile_interval_seconds=LOOK_EVERY) as env:
        env.simulator.closed_va_lifetime = LIFETIME
        seller = await new_seller(env)
        old, card = await closed_va(env, seller, "/new va bca 50000 Bu Ani")

        # The card says until when Pivot takes payments on it, in the seller's zone.
        session = env.simulator.sessions[str(old.pivot_session_id)]
        assert old.expires_at == session.expiry_at == session.created_at + LIFETIME
        until = format_datetime(old.expires_at, WIB)
        assert card.text is not None
        assert text("id", "card.valid_until", date=until) in card.text
        assert text("id", "card.reusable") not in card.text

        # It expires within three days: one warning, with the renew button.
        warning = await seller.next_message(lambda m: has_button(m, renews(old)))
        assert warning.text is not None and "<b>Bu Ani</b> (Rp 50.000)" in warning.text
        assert f"<code>{old.va_number}</code>" in warning.text

        # Codes made from now on live Pivot's 30 days. A double tap on the button...
        env.simulator.closed_va_lifetime = CLOSED_STATIC_VA_LIFETIME
        mark = seller.fake.mark()
        await seller.press(warning.message_id, renews(old))
        await seller.press(warning.message_id, renews(old))
        new_card = await card_after(seller, mark)
        await env.telegram.wait_for_call(
            "answerCallbackQuery",
            lambda call: call.params.get("text") == text("id", "new.stale_button"),
            after=mark,
        )

        # ...makes one new code for the same customer, bank and amount, with its own number.
        new, _ = await env.codes_of(SELLER)
        assert (new.customer, new.bank, new.amount) == (old.customer, old.bank, old.amount)
        assert new.status is CodeStatus.ACTIVE and new.va_number != old.va_number
        assert new.request_key == f"renew:{old.id}"
        assert len(env.simulator.sessions) == 2
        assert sum(is_card(m) for m in seller.messages() if m.seq >= mark) == 1
        assert new_card.text is not None and f"<code>{new.va_number}</code>" in new_card.text
        assert new.expires_at is not None
        new_until = format_datetime(new.expires_at, WIB)
        assert text("id", "card.valid_until", date=new_until) in new_card.text

        # The new code takes a payment the Pivot way (sandbox simulation), and it is reported.
        mark = seller.fake.mark()
        await env.services.pivot.simulate_payment(str(new.pivot_session_id), 50_000)
        paid = text("id", "payment.title", amount="Rp 50.000")
        await seller.next_message(lambda m: (m.text or "").startswith(paid), after=mark)

        # Once the old one's date has passed, Pivot refuses payments on it...
        expires_at = old.expires_at
        await wait_for(lambda: utcnow() >= expires_at, timeout=10, what="the old code to expire")
        with pytest.raises(UnprocessableEntityError):
            await env.services.pivot.simulate_payment(str(old.pivot_session_id), 50_000)

        # ...and /codes marks it expired, the new one valid until its date.
        listing = await say(seller, "/codes")
        assert listing.text is not None
        lines = listing.text.splitlines()
        line = "{}. VA BCA · <b>Bu Ani</b> · Rp 50.000 · {}"
        new_date = format_date(new.expires_at, WIB)
        assert lines[1] == line.format(1, f"1× · Rp 50.000 · 🗓 s/d {new_date}")
        assert lines[2] == line.format(2, "0× · Rp 0 · ⌛ kedaluwarsa")

        # Its detail says since when, and offers no resend, only a new code.
        detail = await press(seller, listing.message_id, f"code:{old.id}")
        assert detail.text is not None
        assert f"Status: kedaluwarsa sejak {until}" in detail.text
        assert not has_button(detail, f"code:{old.id}:resend")
        assert has_button(detail, renews(old))

        # A resend button from before it expired does not send it.
        mark = seller.fake.mark()
        refused = await press_forged(seller, listing.message_id, f"code:{old.id}:resend")
        assert refused.text is not None
        assert refused.text.startswith(text("id", "code.expired_no_resend"))
        await say(seller, "/help")  # anything the resend sent would have come before this
        assert not [m for m in seller.messages() if m.seq >= mark and is_card(m)]

        # A dozen looks of the watch later, the old code was still warned only once (and the
        # new one, with 30 days to go, not at all).
        assert len(warnings_for(seller, old)) == 1
        assert warnings_for(seller, new) == []
        row = await env.services.db.outbox.by_dedupe_key(f"expiry:{old.id}")
        assert row is not None and row.telegram_message_id == warning.message_id


async def press_forged(user: FakeUser, message_id: int, data: str) -> Edit:
    """Press ``data`` on a message that no longer shows it (an old button)."""
    after = user.fake.mark()
    await user.forge_press(message_id, data)
    return await user.fake.wait_for_edit(
        user.chat_id, lambda edit: edit.message_id == message_id, after=after
    )


async def test_an_open_va_and_a_qris_never_expire(bot_home: Path | str) -> None:
    async with running_bot(bot_home, reconcile_interval_seconds=LOOK_EVERY) as env:
        env.simulator.closed_va_lifetime = LIFETIME
        seller = await new_seller(env)
        open_va, open_card = await closed_va(env, seller, "/new va bri bebas Budi")
        qris, qris_card = await closed_va(env, seller, "/new qris 25000 Bu Ani")

        assert open_va.expires_at is None and qris.expires_at is None
        for card in (open_card, qris_card):
            assert card.text is not None and card.text.endswith(text("id", "card.reusable"))
        listing = await say(seller, "/codes")
        assert listing.text is not None and "🗓" not in listing.text and "⌛" not in listing.text
        # Past the shortened lifetime, and many looks of the expiry watch later: no warning.
        await wait_for(
            lambda: utcnow() >= open_va.created_at + LIFETIME, timeout=10, what="a while"
        )
        for code in (open_va, qris):
            assert await env.services.db.outbox.by_dedupe_key(f"expiry:{code.id}") is None
            assert warnings_for(seller, code) == []
