"""Buyer links end to end (docs/buyers.md): a seller shares one code through its link, a second
person opens it as the buyer and sees that code alone, and gets a receipt for each payment once
Pivot has confirmed it; over loopback, with the simulator and the fake Bot API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import format_datetime, utcnow
from bot.drafts import Draft
from bot.texts import text
from storage import ChargeConfirmation, Code, CodeKind, OutboxStatus, SellerStatus
from tests.e2e.test_payments import post_callback
from tests.standins import (
    ADMIN_ID,
    BotEnv,
    Edit,
    FakeUser,
    SentMessage,
    charge_success_body,
    decode_qr,
    running_bot,
    say,
    settle,
    wait_for,
)

SELLER = 501
BUYER = 3001
_LINK = re.compile(r"https://t\.me/\w+\?start=(b_[A-Za-z0-9_-]{32})")


async def make_code(env: BotEnv, draft: Draft, seller_id: int = SELLER) -> Code:
    """Issue a code through the bot's own CodeIssuer (creation itself is tested elsewhere)."""
    seller = await env.services.db.sellers.get(seller_id)
    assert seller is not None
    return await env.services.codes.issue(seller, draft, f"test:{draft.customer}")


def qris(customer: str = "Budi", amount: int | None = 25_000) -> Draft:
    return Draft(kind=CodeKind.QRIS, customer=customer, amount=amount, open_amount=amount is None)


async def press(user: FakeUser, message_id: int, data: str, *, forged: bool = False) -> Edit:
    """Press a button (``forged``: one the message does not show, as a stale or modified
    client would) and wait for the message it sits on to be edited."""
    after = user.fake.mark()
    await (user.forge_press if forged else user.press)(message_id, data)
    return await user.fake.wait_for_edit(
        user.chat_id, lambda edit: edit.message_id == message_id, after=after
    )


async def open_detail(seller: FakeUser, code: Code) -> Edit:
    """``/codes``, then the code's detail (edited into the list message)."""
    listing = await say(seller, "/codes")
    return await press(seller, listing.message_id, f"code:{code.id}")


def token_in(message: SentMessage | Edit) -> str:
    match = _LINK.search(message.text or "")
    assert match is not None, message.text
    return match.group(1)


async def share(seller: FakeUser, code: Code, *, receipts: bool = False) -> str:
    """The seller makes the code's buyer link from its detail (and turns receipts on); the
    link's token."""
    detail = await open_detail(seller, code)
    shared = await press(seller, detail.message_id, f"code:{code.id}:link")
    assert (shared.text or "").startswith(text("id", "link.made"))
    if receipts:
        switched = await press(seller, detail.message_id, f"code:{code.id}:receipts:on")
        assert text("id", "code.receipts.on") in (switched.text or "")
    return token_in(shared)


@dataclass
class Shared:
    """A seller with a QRIS code shared through its buyer link, and a buyer given the link."""

    seller: FakeUser
    code: Code
    token: str
    buyer: FakeUser


async def shared_qris(env: BotEnv, *, receipts: bool = False) -> Shared:
    """Sari's QRIS code for Budi, its link made (receipts on if asked), and Dewi, who has the
    link but has not opened it yet."""
    seller = await env.invite_seller(SELLER, "Sari")
    code = await make_code(env, qris())
    token = await share(seller, code, receipts=receipts)
    return Shared(seller, code, token, env.user(BUYER, "Dewi"))


async def open_link(buyer: FakeUser, token: str) -> SentMessage:
    """The buyer opens the link (Telegram sends ``/start <token>``); what the bot shows."""
    return await say(buyer, f"/start {token}")


def receipts_to(env: BotEnv, chat_id: int) -> list[SentMessage]:
    title = text("id", "receipt", amount="", shop="", time="").split("</b>")[0].rstrip()
    return [m for m in env.telegram.sent_messages(chat_id) if (m.text or "").startswith(title)]


def payment_messages(env: BotEnv, chat_id: int = SELLER) -> list[SentMessage]:
    return [
        m
        for m in env.telegram.sent_messages(chat_id)
        if (m.text or "").startswith(("💰", "⏳ <b>Pembayaran"))
    ]


async def drained(env: BotEnv) -> None:
    """Callbacks delivered, charges settled with Pivot, the outbox sent."""

    async def idle() -> bool:
        db = env.services.db
        return (
            env.simulator.pending_deliveries == 0
            and await db.charges.awaiting_confirmation() == []
            and await db.outbox.pending_count() == 0
        )

    await wait_for(idle, timeout=15, what="payments confirmed and the outbox drained")


async def test_a_buyer_opens_the_link_and_sees_that_code_with_the_shop_name(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        shared = await shared_qris(env)
        seller, code, token, buyer = shared.seller, shared.code, shared.token, shared.buyer

        # Without /toko, buyers see the seller's Telegram name.
        card = await open_link(buyer, token)
        assert card.photo is not None and decode_qr(card.photo) == [code.qr_content]
        assert (card.text or "").startswith(text("id", "buyer.from", shop="Sari"))
        assert "Rp 25.000" in (card.text or "") and "Budi" in (card.text or "")

        usage = await say(seller, "/toko")
        assert usage.text == text("id", "toko.usage", shop="Sari")
        named = await say(seller, "/toko  Warung   Sari ")
        assert named.text == text("id", "toko.set", shop="Warung Sari")
        again = await open_link(buyer, token)
        assert (again.text or "").startswith(text("id", "buyer.from", shop="Warung Sari"))
        assert again.photo is not None and decode_qr(again.photo) == [code.qr_content]

        buyers = await env.services.db.buyers.holding_live_links([code.id])
        assert [b.telegram_id for b in buyers[code.id]] == [BUYER]
        assert await env.services.db.sellers.get(BUYER) is None


async def test_a_va_link_shows_the_number_and_an_open_amount(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(SELLER, "Sari")
        va = await make_code(env, Draft(kind=CodeKind.VA, bank="BCA", customer="Bu Ani"))
        token = await share(seller, va)
        shown = await open_link(env.user(BUYER, "Ani"), token)
        assert shown.photo is None
        assert va.va_number is not None and f"<code>{va.va_number}</code>" in (shown.text or "")
        assert text("id", "card.va.open") in (shown.text or "")
        assert (shown.text or "").startswith(text("id", "buyer.from", shop="Sari"))


async def test_a_buyer_gets_nothing_of_a_sellers_and_a_polite_answer_to_anything_else(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        shared = await shared_qris(env)
        code, buyer = shared.code, shared.buyer
        card = await open_link(buyer, shared.token)

        only = text("id", "buyer.only")
        for words in ("/codes", "/new qris 25rb Budi", "/today", "/help", "/toko Mine", "halo"):
            assert (await say(buyer, words)).text == only, words
        # A forged press on the code's own buttons, from the card the buyer holds.
        for data in (f"code:{code.id}", f"code:{code.id}:unlink", f"code:{code.id}:receipts:on"):
            await buyer.forge_press(card.message_id, data)
        await settle(env)
        answers = env.telegram.answered_callbacks[-3:]
        assert [(a.text, a.show_alert) for a in answers] == [(only, True)] * 3

        db = env.services.db
        assert await db.sellers.get(BUYER) is None
        assert await db.buyer_links.live_for_code(code.id) is not None
        stored = await db.codes.get(code.id)
        assert stored is not None and not stored.receipts
        assert env.telegram.edits(BUYER) == []
        # A stranger who never opened a link is still refused as before.
        stranger = env.user(3002, "Tamu")
        assert (await say(stranger, "/codes")).text == text(
            "id", "access.refused", telegram_id=3002
        )


async def test_a_receipt_goes_to_the_buyer_once_after_pivot_confirms_and_not_while_it_cannot(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home, confirm_within=1.0, confirm_grace=0.5) as env:
        seller = await env.invite_seller(SELLER, "Sari")
        await say(seller, "/toko Warung Sari")
        code = await make_code(env, qris())
        token = await share(seller, code, receipts=True)
        buyer = env.user(BUYER, "Dewi")
        await open_link(buyer, token)

        # Confirmed at once: the seller's message and the buyer's receipt, once each.
        first = await env.pay(code, 25_000)
        await wait_for(lambda: bool(receipts_to(env, BUYER)), timeout=10, what="the receipt")
        await drained(env)
        [receipt] = receipts_to(env, BUYER)
        charge = await env.services.db.charges.get(first)
        assert charge is not None and charge.confirmation is ChargeConfirmation.CONFIRMED
        assert receipt.text == text(
            "id",
            "receipt",
            amount="Rp 25.000",
            shop="Warung Sari",
            time=format_datetime(charge.paid_at, ZoneInfo("Asia/Jakarta")),
        )
        assert len(payment_messages(env)) == 1

        # Pivot's API down: the seller is told, flagged, after the deadline; the buyer is not.
        env.simulator.fail_next("GET", "/v2/charges", count=100_000, status=503)
        second = await env.pay(code, 30_000)
        await wait_for(lambda: len(payment_messages(env)) == 2, timeout=10, what="the flag")
        assert "belum dikonfirmasi" in (payment_messages(env)[1].text or "")

        async def relay_idle() -> bool:
            return await env.services.db.outbox.pending_count() == 0

        # Past the seller's deadline, everything due sent: the receipt is not among it.
        await wait_for(relay_idle, timeout=10, what="the relay idle")
        assert len(receipts_to(env, BUYER)) == 1
        row = await env.services.db.outbox.by_dedupe_key(f"receipt:{second}:{BUYER}")
        assert row is not None and row.status is OutboxStatus.AWAITING

        env.simulator.clear_failures()
        await wait_for(lambda: len(receipts_to(env, BUYER)) == 2, timeout=15, what="receipt 2")
        await drained(env)
        assert "Rp 30.000" in (receipts_to(env, BUYER)[1].text or "")
        assert len(receipts_to(env, BUYER)) == 2
        assert receipts_to(env, SELLER) == []


@pytest.mark.parametrize("withdrawal", ["unlink", "relink", "receipts:off"])
async def test_a_receipt_still_waiting_is_withdrawn_with_the_link_or_the_receipts(
    bot_home: Path | str, withdrawal: str
) -> None:
    # A seller who takes a link back from someone it reached by mistake means that person to
    # hear of no payment from then on, not of one still waiting for Pivot's confirmation.
    async with running_bot(bot_home, confirm_within=1.0, confirm_grace=0.5) as env:
        shared = await shared_qris(env, receipts=True)
        seller, code = shared.seller, shared.code
        await open_link(shared.buyer, shared.token)
        env.simulator.fail_next("GET", "/v2/charges", count=100_000, status=503)
        charge = await env.pay(code, 25_000)
        db = env.services.db

        async def awaiting() -> bool:
            row = await db.outbox.by_dedupe_key(f"receipt:{charge}:{BUYER}")
            return row is not None and row.status is OutboxStatus.AWAITING

        await wait_for(awaiting, timeout=10, what="the receipt waiting for Pivot")
        detail = await open_detail(seller, code)
        await press(seller, detail.message_id, f"code:{code.id}:{withdrawal}")
        env.simulator.clear_failures()

        async def confirmed() -> bool:
            recorded = await db.charges.get(charge)
            return recorded is not None and recorded.confirmation is ChargeConfirmation.CONFIRMED

        await wait_for(confirmed, timeout=15, what="Pivot's confirmation")
        await drained(env)

        assert receipts_to(env, BUYER) == []
        row = await db.outbox.by_dedupe_key(f"receipt:{charge}:{BUYER}")
        assert row is not None and row.status is OutboxStatus.FAILED


async def test_a_buyer_update_stops_at_the_gate_even_when_answering_it_fails(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        shared = await shared_qris(env)
        buyer = shared.buyer
        env.telegram.fail_next("sendPhoto", status=400)  # Telegram refuses the code's photo
        await buyer.send(f"/start {shared.token}")
        await settle(env)

        # The error handler's apology, and nothing from the seller handlers: /start there would
        # have said "unknown invitation".
        assert [m.text for m in buyer.messages()] == [text("id", "error.generic")]
        assert await env.services.db.sellers.get(BUYER) is None


async def test_no_receipt_with_receipts_off_nor_for_a_forged_payment(bot_home: Path | str) -> None:
    async with running_bot(bot_home, confirm_grace=1.0) as env:
        seller = await env.invite_seller(SELLER, "Sari")
        off = await make_code(env, qris("Budi"))
        on = await make_code(env, qris("Wati"))
        buyer = env.user(BUYER, "Dewi")
        await open_link(buyer, await share(seller, off))
        await open_link(buyer, await share(seller, on, receipts=True))

        await env.pay(off, 10_000)
        await wait_for(lambda: len(payment_messages(env)) == 1, timeout=10, what="the payment")
        assert on.pivot_session_id is not None
        forged = charge_success_body(
            on.pivot_session_id, on.client_reference_id, [("forged-charge-9", 900_000)]
        )
        assert await post_callback(env, forged) == 200
        await wait_for(
            lambda: any("forged-charge-9" in (m.text or "") for m in env.telegram.sent_messages()),
            timeout=15,
            what="the forgery alert",
        )
        await drained(env)

        assert receipts_to(env, BUYER) == []
        row = await env.services.db.outbox.by_dedupe_key(f"receipt:forged-charge-9:{BUYER}")
        assert row is not None and row.status is OutboxStatus.FAILED
        assert len(payment_messages(env)) == 1  # the forgery was never announced either


async def test_revoked_replaced_and_deactivated_links_say_so(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(SELLER, "Sari")
        code = await make_code(env, qris())
        first = await share(seller, code)
        buyer = env.user(BUYER, "Dewi")
        assert (await open_link(buyer, first)).photo is not None

        detail = await open_detail(seller, code)
        replaced = await press(seller, detail.message_id, f"code:{code.id}:relink")
        assert (replaced.text or "").startswith(text("id", "link.replaced"))
        second = token_in(replaced)
        assert second != first
        invalid = text("id", "buyer.invalid")
        assert (await open_link(buyer, first)).text == invalid
        assert (await open_link(buyer, second)).photo is not None

        revoked = await press(seller, detail.message_id, f"code:{code.id}:unlink")
        assert (revoked.text or "").startswith(text("id", "link.revoked"))
        assert _LINK.search(revoked.text or "") is None
        assert (await open_link(buyer, second)).text == invalid
        assert (await open_link(buyer, "b_" + "A" * 32)).text == invalid  # never made

        third = await share(seller, code)
        await press(seller, detail.message_id, f"code:{code.id}:off")
        off = await press(seller, detail.message_id, f"code:{code.id}:off!")
        assert token_in(off) == third  # the link stays, to say the code is off
        shown = await open_link(buyer, third)
        assert shown.photo is None
        assert shown.text == text("id", "buyer.deactivated", shop="Sari", customer="Budi")
        # No new link for a code that is off, even from a button sent before it was.
        assert f"code:{code.id}:relink" not in str(off.reply_markup)
        after = await press(seller, detail.message_id, f"code:{code.id}:relink", forged=True)
        assert token_in(after) == third
        assert not (after.text or "").startswith(text("id", "link.replaced"))


async def test_invitation_and_buyer_tokens_never_stand_in_for_each_other(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(SELLER, "Sari")
        code = await make_code(env, qris())
        token = await share(seller, code)
        db = env.services.db
        invitation = (await say(env.admin, "/invite")).text or ""
        invite_token = invitation.split("?start=")[1].split()[0]
        # Each token planted in the other kind's table too: the shape decides which is read.
        other = await make_code(env, qris("Wati"))
        now = utcnow()
        async with db.write() as tx:
            await tx.invites.create(
                token=token, created_by=ADMIN_ID, now=now, expires_at=now + timedelta(days=1)
            )
            await tx.buyer_links.create(code_id=other.id, token=invite_token, now=now)

        buyer = env.user(BUYER, "Dewi")
        shown = await open_link(buyer, token)  # a buyer link: the code, never a seat as seller
        assert shown.photo is not None
        assert (await say(buyer, "/codes")).text == text("id", "buyer.only")
        assert await db.sellers.get(BUYER) is None
        planted = await db.invites.get(token)
        assert planted is not None and planted.used_by is None

        newcomer = env.user(3002, "Rina")
        joined = await open_link(newcomer, invite_token)  # an invitation: a seller, no code
        assert (joined.text or "").startswith(text("id", "start.joined", name="Rina"))
        assert joined.photo is None and "Wati" not in (joined.text or "")
        assert await db.buyers.holding_live_links([other.id]) == {}


async def test_a_seller_opening_a_link_sees_it_as_a_buyer_would_and_nothing_more(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(SELLER, "Sari")
        other_seller = await env.invite_seller(502, "Rudi")
        code = await make_code(env, qris())
        token = await share(seller, code)

        seen = await open_link(other_seller, token)
        assert seen.photo is not None
        assert (seen.text or "").startswith(text("id", "buyer.from", shop="Sari"))
        # Still a seller of their own, with no way into Sari's code.
        listing = await say(other_seller, "/codes")
        assert listing.text == text("id", "codes.empty")
        await other_seller.forge_press(listing.message_id, f"code:{code.id}:unlink")
        await settle(env)
        assert env.telegram.answered_callbacks[-1].text == text("id", "code.not_found")
        assert await env.services.db.buyer_links.live_for_code(code.id) is not None

        # The owner previews what buyers see, and is not counted as one.
        own = await open_link(seller, token)
        assert (own.text or "").startswith(text("id", "buyer.own"))
        holders = await env.services.db.buyers.holding_live_links([code.id])
        assert [b.telegram_id for b in holders[code.id]] == [502]


async def test_a_buyer_who_blocked_the_bot_never_marks_the_seller_blocked(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(SELLER, "Sari")
        code = await make_code(env, qris())
        buyer = env.user(BUYER, "Dewi")
        await open_link(buyer, await share(seller, code, receipts=True))
        env.telegram.block_chat(BUYER)

        charge = await env.pay(code, 25_000)
        await wait_for(lambda: len(payment_messages(env)) == 1, timeout=10, what="the payment")
        db = env.services.db

        async def held() -> bool:
            row = await db.outbox.by_dedupe_key(f"receipt:{charge}:{BUYER}")
            return row is not None and row.status is OutboxStatus.HELD

        await wait_for(held, timeout=10, what="the receipt held")
        stored = await db.sellers.get(SELLER)
        assert stored is not None and stored.status is SellerStatus.ACTIVE
        assert not [
            m for m in env.telegram.sent_messages(ADMIN_ID) if "memblokir" in (m.text or "")
        ]
        await env.pay(code, 5_000)  # the seller is still told
        await wait_for(lambda: len(payment_messages(env)) == 2, timeout=10, what="payment 2")

        env.telegram.unblock_chat(BUYER)
        assert (await say(buyer, "halo")).text is not None  # writing again releases the receipts
        await wait_for(lambda: len(receipts_to(env, BUYER)) == 2, timeout=10, what="receipts")
        await drained(env)
        assert len(receipts_to(env, BUYER)) == 2
