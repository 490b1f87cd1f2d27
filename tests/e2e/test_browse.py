"""/codes end to end: the list page by page, a code's detail and payments, resend, deactivate,
and one seller unable to reach another's code by forging a button."""

from __future__ import annotations

from pathlib import Path

from bot.drafts import Draft
from bot.texts import text
from storage import Code, CodeKind, CodeStatus
from tests.standins import (
    BotEnv,
    Edit,
    FakeUser,
    SentMessage,
    decode_qr,
    running_bot,
    say,
    settle,
    wait_for,
)


async def press(user: FakeUser, message_id: int, data: str) -> Edit:
    """Press a button and wait for the message it sits on to be edited."""
    after = user.fake.mark()
    await user.press(message_id, data)
    return await user.fake.wait_for_edit(
        user.chat_id, lambda edit: edit.message_id == message_id, after=after
    )


async def make_code(env: BotEnv, seller_id: int, draft: Draft) -> Code:
    """Issue a code through the bot's own CodeIssuer (creation itself is tested elsewhere)."""
    seller = await env.services.db.sellers.get(seller_id)
    assert seller is not None
    return await env.services.codes.issue(seller, draft, f"test:{draft.customer}")


def qris(customer: str) -> Draft:
    return Draft(kind=CodeKind.QRIS, customer=customer, open_amount=True)


def callback_data(message: SentMessage | Edit) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


async def pay(env: BotEnv, code: Code, *amounts: int) -> None:
    """Pay ``amounts`` into ``code``; wait until the bot has recorded them and told the seller."""
    before = await env.services.db.charges.count_for_code(code.id)
    for amount in amounts:
        await env.pay(code, amount)

    async def reported() -> bool:
        db = env.services.db
        count = await db.charges.count_for_code(code.id)
        return count == before + len(amounts) and await db.outbox.pending_count() == 0

    await wait_for(reported, timeout=10, what="the payments to be recorded and reported")


async def test_a_seller_without_codes_is_told_how_to_make_one(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        assert (await say(seller, "/codes")).text == text("id", "codes.empty")


async def test_the_list_pages_newest_first_editing_the_message_in_place(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        codes = [await make_code(env, 501, qris(f"Pelanggan {n}")) for n in range(1, 11)]
        listing = await say(seller, "/codes")
        assert listing.text is not None
        lines = listing.text.splitlines()
        assert lines[0] == text("id", "codes.title", page=1, pages=2)
        assert lines[1] == "1. QRIS · <b>Pelanggan 10</b> · bebas · 0× · Rp 0"
        assert len(lines) == 1 + 8
        newest_first = [f"code:{code.id}" for code in reversed(codes)]
        assert callback_data(listing) == [*newest_first[:8], "codes:p:2"]

        sent = len(seller.messages())
        second = await press(seller, listing.message_id, "codes:p:2")
        assert second.text is not None
        assert second.text.splitlines() == [
            text("id", "codes.title", page=2, pages=2),
            "9. QRIS · <b>Pelanggan 2</b> · bebas · 0× · Rp 0",
            "10. QRIS · <b>Pelanggan 1</b> · bebas · 0× · Rp 0",
        ]
        assert callback_data(second) == [*newest_first[8:], "codes:p:1"]
        first = await press(seller, listing.message_id, "codes:p:1")
        assert first.text == listing.text
        assert len(seller.messages()) == sent  # paging edits, it never sends


async def test_a_codes_detail_lists_its_payments_page_by_page(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        va = await make_code(
            env, 501, Draft(kind=CodeKind.VA, bank="BCA", customer="Bu Ani", amount=25_000)
        )
        await pay(env, va, *([25_000] * 11), 20_000)
        listing = await say(seller, "/codes")
        assert listing.text is not None
        assert "1. VA BCA · <b>Bu Ani</b> · Rp 25.000 · 12× · Rp 295.000" in listing.text

        detail = await press(seller, listing.message_id, f"code:{va.id}")
        assert detail.text is not None
        assert f"Nomor: <code>{va.va_number}</code>" in detail.text
        assert "Pembayaran: 12× · total Rp 295.000" in detail.text
        assert text("id", "code.payments.title", page=1, pages=2) in detail.text
        payment_lines = [line for line in detail.text.splitlines() if line.startswith("•")]
        assert len(payment_lines) == 10
        mismatch = text("id", "flag.short.amount_mismatch", expected="Rp 25.000")
        assert payment_lines[0].endswith(f"· <b>Rp 20.000</b> · VA BCA · {mismatch}")
        assert callback_data(detail) == [
            f"code:{va.id}:resend",
            f"code:{va.id}:off",
            f"code:{va.id}:rename",
            f"code:{va.id}:link",
            f"code:{va.id}:p:2",
            "codes:p:1",
        ]
        older = await press(seller, listing.message_id, f"code:{va.id}:p:2")
        assert older.text is not None
        assert text("id", "code.payments.title", page=2, pages=2) in older.text
        assert sum(line.startswith("•") for line in older.text.splitlines()) == 2

        back = await press(seller, listing.message_id, "codes:p:1")
        assert back.text == listing.text


async def test_resend_sends_the_card_again(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        code = await make_code(env, 501, qris("Bu Ani"))
        listing = await say(seller, "/codes")
        await press(seller, listing.message_id, f"code:{code.id}")
        after = env.telegram.mark()
        await seller.press(listing.message_id, f"code:{code.id}:resend")
        card = await seller.next_message(after=after)
        assert card.photo is not None
        assert decode_qr(card.photo) == [code.qr_content]
        assert card.text is not None and "Bu Ani" in card.text


async def test_deactivation_asks_first_and_later_payments_are_flagged(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        code = await make_code(env, 501, qris("Bu Ani"))
        listing = await say(seller, "/codes")
        await press(seller, listing.message_id, f"code:{code.id}")

        confirm = await press(seller, listing.message_id, f"code:{code.id}:off")
        assert confirm.text == text("id", "deactivate.confirm", kind="QRIS", customer="Bu Ani")
        assert callback_data(confirm) == [f"code:{code.id}:off!", f"code:{code.id}"]
        kept = await press(seller, listing.message_id, f"code:{code.id}")
        assert kept.text is not None and "Status: aktif" in kept.text
        stored = await env.services.db.codes.get(code.id)
        assert stored is not None and stored.status is CodeStatus.ACTIVE

        await press(seller, listing.message_id, f"code:{code.id}:off")
        done = await press(seller, listing.message_id, f"code:{code.id}:off!")
        assert done.text is not None
        assert done.text.startswith(text("id", "deactivate.done", customer="Bu Ani"))
        assert "Status: nonaktif sejak" in done.text
        assert callback_data(done) == [
            f"code:{code.id}:resend",
            f"code:{code.id}:on",
            f"code:{code.id}:rename",
            "codes:p:1",
        ]
        stored = await env.services.db.codes.get(code.id)
        assert stored is not None and stored.status is CodeStatus.DEACTIVATED

        after = env.telegram.mark()
        await env.pay(code, 15_000)
        message = await seller.next_message(
            lambda m: "Pembayaran masuk" in (m.text or ""), after=after, timeout=10
        )
        assert text("id", "payment.flag.deactivated_code") in (message.text or "")
        charges = await env.services.db.charges.list_for_code(code.id, offset=0, limit=5)
        assert [charge.flags for charge in charges] == [frozenset({"deactivated_code"})]

        after = env.telegram.mark()
        await seller.press(listing.message_id, f"code:{code.id}:resend")
        card = await seller.next_message(after=after)
        assert text("id", "card.deactivated") in (card.text or "")


async def test_a_seller_cannot_reach_another_sellers_code_by_forging_buttons(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        await env.invite_seller(501, "Ani")
        mallory = await env.invite_seller(502, "Mallory")
        victim_code = await make_code(env, 501, qris("Pelanggan Ani"))
        await make_code(env, 502, qris("Pelanggan Mallory"))
        listing = await say(mallory, "/codes")
        sent_before, edits_before = len(mallory.messages()), len(env.telegram.edits(502))

        for action in ("", ":p:1", ":resend", ":off", ":off!", ":rename", ":on"):
            query_id = await mallory.forge_press(
                listing.message_id, f"code:{victim_code.id}{action}"
            )
            await settle(env)
            answer = next(
                a for a in env.telegram.answered_callbacks if a.callback_query_id == query_id
            )
            assert (answer.text, answer.show_alert) == (text("id", "code.not_found"), True)

        assert len(mallory.messages()) == sent_before
        assert len(env.telegram.edits(502)) == edits_before
        stored = await env.services.db.codes.get(victim_code.id)
        assert stored is not None and stored.status is CodeStatus.ACTIVE
