"""Around a code, end to end: the buttons under payment messages that open their codes, finding
codes by customer with ``/codes <text>``, renaming a code, and reactivating a deactivated one."""

from __future__ import annotations

import re
from pathlib import Path

from bot.drafts import Draft
from bot.texts import text
from storage import Code, CodeKind, OutboxStatus
from tests.standins import (
    BotEnv,
    Edit,
    FakeUser,
    SentMessage,
    running_bot,
    say,
    settle,
    wait_for,
)

ANI, MALLORY = 501, 502


async def make_code(env: BotEnv, seller_id: int, draft: Draft) -> Code:
    """Issue a code through the bot's own CodeIssuer (creation itself is tested elsewhere)."""
    seller = await env.services.db.sellers.get(seller_id)
    assert seller is not None
    return await env.services.codes.issue(seller, draft, f"test:{draft.customer}")


def qris(customer: str) -> Draft:
    return Draft(kind=CodeKind.QRIS, customer=customer, open_amount=True)


def keyboard(message: SentMessage | Edit) -> list[tuple[str, str]]:
    """Each inline button's text and data, row after row."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


def is_payment(message: SentMessage) -> bool:
    return (message.text or "").startswith("💰")


async def answer_to(env: BotEnv, query_id: str) -> tuple[str | None, bool]:
    """The text of the answer to a press, and whether it was an alert."""
    await settle(env)
    answer = next(a for a in env.telegram.answered_callbacks if a.callback_query_id == query_id)
    return answer.text, answer.show_alert


async def pay_in_turn(env: BotEnv, *payments: tuple[Code, int]) -> None:
    """Pay each amount into its code, each recorded before the next is paid (so the order of
    the messages is the order here)."""
    for number, (code, amount) in enumerate(payments, start=1):
        await env.pay(code, amount)

        async def recorded(count: int = number) -> bool:
            return await env.services.db.charges.count() == count

        await wait_for(recorded, timeout=10, what=f"payment {number} recorded")


async def opened(user: FakeUser, message: SentMessage, data: str) -> SentMessage:
    """Press ``data`` on ``message``; the new message the bot answers with."""
    mark = user.fake.mark()
    await user.press(message.message_id, data)
    return await user.next_message(after=mark)


# 1. The button under a payment message


async def test_a_payment_messages_button_opens_its_code_and_no_one_elses(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        ani = await env.invite_seller(ANI, "Ani")
        mallory = await env.invite_seller(MALLORY, "Mallory")
        code = await make_code(env, ANI, qris("Bu Ani"))
        await make_code(env, ANI, qris("Pak Budi"))

        mark = env.telegram.mark()
        await env.pay(code, 25_000)
        payment = await ani.next_message(is_payment, after=mark, timeout=10)
        assert keyboard(payment) == [("🔎 Lihat kode", f"code:{code.id}:open")]

        edits_before = len(env.telegram.edits(ANI))
        detail = await opened(ani, payment, f"code:{code.id}:open")
        assert detail.text is not None
        assert detail.text.startswith("QRIS · <b>Bu Ani</b>")
        assert "Pembayaran: 1× · total Rp 25.000" in detail.text
        assert (f"code:{code.id}:off") in [data for _, data in keyboard(detail)]
        # The payment message stays as it was: the detail came as a new message.
        assert len(env.telegram.edits(ANI)) == edits_before

        # Mallory forges the same press on a message of her own: nothing of Ani's comes back.
        own = await say(mallory, "/codes")
        sent_before = len(mallory.messages())
        query_id = await mallory.forge_press(own.message_id, f"code:{code.id}:open")
        assert await answer_to(env, query_id) == (text("id", "code.not_found"), True)
        assert len(mallory.messages()) == sent_before


async def test_a_combined_message_has_a_button_for_each_of_its_codes(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        ani = await env.invite_seller(ANI, "Ani")
        bu_ani = await make_code(env, ANI, qris("Bu Ani"))
        budi = await make_code(
            env, ANI, Draft(kind=CodeKind.VA, bank="BCA", customer="Pak Budi", amount=50_000)
        )

        # While Ani has blocked the bot her payments wait, and go out combined once she writes.
        env.telegram.block_chat(ANI)
        await pay_in_turn(env, (bu_ani, 10_000), (budi, 50_000), (bu_ani, 20_000))

        async def held() -> bool:
            return await env.services.db.outbox.count(OutboxStatus.HELD) == 3

        await wait_for(held, timeout=15, what="three held payment messages")
        env.telegram.unblock_chat(ANI)
        mark = env.telegram.mark()
        await ani.send("/today")
        combined = await ani.next_message(is_payment, after=mark, timeout=10)
        assert "3 pembayaran masuk" in (combined.text or "")
        assert keyboard(combined) == [
            ("🔎 Bu Ani · QRIS", f"code:{bu_ani.id}:open"),
            ("🔎 Pak Budi · VA BCA", f"code:{budi.id}:open"),
        ]

        detail = await opened(ani, combined, f"code:{budi.id}:open")
        assert (detail.text or "").startswith("VA BCA · <b>Pak Budi</b>")
        assert "Pembayaran: 1× · total Rp 50.000" in (detail.text or "")
        other = await opened(ani, combined, f"code:{bu_ani.id}:open")
        assert "Pembayaran: 2× · total Rp 30.000" in (other.text or "")


async def test_past_eight_codes_the_last_button_opens_the_whole_list(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        ani = await env.invite_seller(ANI, "Ani")
        codes = [await make_code(env, ANI, qris(f"Pelanggan {n}")) for n in range(1, 11)]
        env.telegram.block_chat(ANI)
        await pay_in_turn(env, *((code, 5_000) for code in codes))

        async def held() -> bool:
            return await env.services.db.outbox.count(OutboxStatus.HELD) == len(codes)

        await wait_for(held, timeout=15, what="ten held payment messages")
        env.telegram.unblock_chat(ANI)
        mark = env.telegram.mark()
        await ani.send("/today")
        combined = await ani.next_message(is_payment, after=mark, timeout=10)
        assert "10 pembayaran masuk" in (combined.text or "")
        buttons = keyboard(combined)
        # Telegram takes up to 100 buttons; a phone shows eight rows well.
        assert [data for _, data in buttons[:-1]] == [f"code:{c.id}:open" for c in codes[:7]]
        assert buttons[-1] == ("📋 Semua kode", "codes:open")

        listing = await opened(ani, combined, "codes:open")
        assert (listing.text or "").startswith(text("id", "codes.title", page=1, pages=2))


# 2. /codes <text>


async def press_edit(user: FakeUser, message: SentMessage, data: str) -> Edit:
    """Press ``data`` on ``message``; the bot's edit of it."""
    mark = user.fake.mark()
    await user.press(message.message_id, data)
    return await user.fake.wait_for_edit(
        user.chat_id, lambda edit: edit.message_id == message.message_id, after=mark
    )


async def test_codes_with_a_text_finds_codes_by_part_of_the_customer_across_pages(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        ani = await env.invite_seller(ANI, "Ani")
        wanted = [await make_code(env, ANI, qris(f"Warung Sari {n}")) for n in range(1, 11)]
        await make_code(env, ANI, qris("Pak Budi"))
        newest_first = list(reversed(wanted))

        found = await say(ani, "/codes sARi")
        assert found.text is not None
        lines = found.text.splitlines()
        assert lines[0] == text("id", "codes.search_title", search="sARi", page=1, pages=2)
        assert all("Warung Sari" in line for line in lines[1:]) and len(lines) == 9
        datas = [data for _, data in keyboard(found)]
        assert datas[:8] == [f"code:{code.id}" for code in newest_first[:8]]
        next_page = datas[-1]
        # The id of the seller's /codes message, not the text (it could be 4,000 characters).
        search = re.fullmatch(r"codes:q:(\d+):p:2", next_page)
        assert search is not None

        # The page buttons keep the search, even after another /codes in between.
        await say(ani, "/codes")
        second = await press_edit(ani, found, next_page)
        assert second.text is not None
        assert second.text.splitlines()[0] == text(
            "id", "codes.search_title", search="sARi", page=2, pages=2
        )
        assert "Pak Budi" not in second.text
        assert [data for _, data in keyboard(second)] == [
            *(f"code:{code.id}" for code in newest_first[8:]),
            f"codes:q:{search[1]}:p:1",
        ]

        nothing = await say(ani, "/codes 50%_off")
        assert nothing.text == text("id", "codes.search_empty", search="50%_off")
        assert nothing.reply_markup is None

        # A search the bot no longer keeps (a restart forgets them) says so.
        query_id = await ani.forge_press(found.message_id, "codes:q:999999:p:2")
        assert await answer_to(env, query_id) == (text("id", "codes.search_gone"), True)


# 3. Rename


async def test_a_renamed_code_shows_its_new_name_in_the_detail_the_list_and_the_card(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        ani = await env.invite_seller(ANI, "Ani")
        code = await make_code(env, ANI, qris("Bu Ani"))
        listing = await say(ani, "/codes")
        await press_edit(ani, listing, f"code:{code.id}")

        question = await press_edit(ani, listing, f"code:{code.id}:rename")
        assert question.text == text("id", "rename.ask", kind="QRIS", customer="Bu Ani")
        assert keyboard(question) == [(text("id", "rename.keep"), f"code:{code.id}")]

        # Nothing usable: asked again, as /new asks again for a customer's name.
        assert (await say(ani, "\u200b")).text == text("id", "name.empty")
        detail = await say(ani, "  Bu Ani   Warung Sebelah ")
        assert detail.text is not None
        note = text("id", "rename.done", previous="Bu Ani", customer="Bu Ani Warung Sebelah")
        assert detail.text.startswith(f"{note}\n\nQRIS · <b>Bu Ani Warung Sebelah</b>")
        assert f"code:{code.id}:rename" in [data for _, data in keyboard(detail)]

        # The question is over: the next text is not a name.
        assert (await say(ani, "Cici")).text == text("id", "unknown")
        stored = await env.services.db.codes.get(code.id)
        assert stored is not None and stored.customer == "Bu Ani Warung Sebelah"
        assert stored.qr_content == code.qr_content  # the code itself is the same

        listing = await say(ani, "/codes")
        assert "QRIS · <b>Bu Ani Warung Sebelah</b>" in (listing.text or "")
        found = await say(ani, "/codes sebelah")
        assert "Bu Ani Warung Sebelah" in (found.text or "")
        card = await opened(ani, detail, f"code:{code.id}:resend")
        assert "Bu Ani Warung Sebelah" in (card.text or "")


async def test_the_rename_question_answered_last_wins_and_anything_else_drops_it(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        ani = await env.invite_seller(ANI, "Ani")
        code = await make_code(env, ANI, qris("Bu Ani"))
        listing = await say(ani, "/codes")

        async def ask() -> Edit:
            """From the list (or the question), the code's detail, then its rename question."""
            await press_edit(ani, listing, f"code:{code.id}")
            return await press_edit(ani, listing, f"code:{code.id}:rename")

        # /new waits for a customer's name; then the rename question is asked: the typed
        # name renames the code, and /new makes no code of it.
        prompt = await say(ani, "/new")
        asked = await press_edit(ani, prompt, "new:kind:QRIS")
        assert asked.text == text("id", "new.ask_name")
        await ask()
        renamed = await say(ani, "Pak Budi")
        assert (renamed.text or "").startswith(
            text("id", "rename.done", previous="Bu Ani", customer="Pak Budi")
        )
        assert len(await env.codes_of(ANI)) == 1
        # /new still waits, and /cancel now stops it.
        assert (await say(ani, "/cancel")).text == text("id", "new.cancelled")

        # /cancel stops the rename question, and says so.
        await ask()
        assert (await say(ani, "/cancel")).text == text("id", "rename.cancelled")
        assert (await say(ani, "Cici")).text == text("id", "unknown")

        # Another command drops it quietly and is answered as ever; so does another button.
        await ask()
        today = await say(ani, "/today")
        assert (today.text or "").startswith("Belum ada pembayaran hari ini")
        assert (await say(ani, "Cici")).text == text("id", "unknown")
        await ask()
        kept = await press_edit(ani, listing, f"code:{code.id}")  # the question's cancel
        assert (kept.text or "").startswith("QRIS · <b>Pak Budi</b>")
        assert (await say(ani, "Cici")).text == text("id", "unknown")
        stored = await env.services.db.codes.get(code.id)
        assert stored is not None and stored.customer == "Pak Budi"


# 4. Reactivate


async def test_a_reactivated_codes_payments_are_no_longer_flagged(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        ani = await env.invite_seller(ANI, "Ani")
        code = await make_code(env, ANI, qris("Bu Ani"))
        listing = await say(ani, "/codes")
        await press_edit(ani, listing, f"code:{code.id}")
        await press_edit(ani, listing, f"code:{code.id}:off")
        off = await press_edit(ani, listing, f"code:{code.id}:off!")
        assert "Status: nonaktif sejak" in (off.text or "")
        assert f"code:{code.id}:on" in [data for _, data in keyboard(off)]

        # Pivot never stopped taking payments: one now is flagged.
        mark = env.telegram.mark()
        await env.pay(code, 10_000)
        flagged = await ani.next_message(is_payment, after=mark, timeout=10)
        assert text("id", "payment.flag.deactivated_code") in (flagged.text or "")

        on = await press_edit(ani, listing, f"code:{code.id}:on")
        assert on.text is not None
        assert on.text.startswith(text("id", "reactivate.done", customer="Bu Ani"))
        assert "Status: aktif" in on.text
        assert f"code:{code.id}:off" in [data for _, data in keyboard(on)]

        mark = env.telegram.mark()
        await env.pay(code, 15_000)
        payment = await ani.next_message(is_payment, after=mark, timeout=10)
        assert "Rp 15.000" in (payment.text or "")
        assert text("id", "payment.flag.deactivated_code") not in (payment.text or "")
        charges = await env.services.db.charges.list_for_code(code.id, offset=0, limit=5)
        assert [charge.flags for charge in charges] == [frozenset(), {"deactivated_code"}]
