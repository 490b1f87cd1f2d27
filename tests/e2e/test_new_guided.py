"""Guided /new against the fake Bot API and the simulator: buttons, questions, cancel, timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.handlers.new as new_handlers
from bot.texts import text
from pivot_client.simulator import DEFAULT_VA_PREFIXES
from storage import CodeKind, CodeStatus
from tests.standins import (
    SELLER,
    BotEnv,
    buttons,
    card_after,
    decode_qr,
    is_card,
    new_seller,
    press,
    running_bot,
    say,
    to_amount,
    wait_for,
)


async def single_session(env: BotEnv) -> dict[str, object]:
    """The only session the simulator holds, as Pivot would return it."""
    [session] = env.simulator.sessions.values()
    return session.to_json()


# Tests


async def test_guided_qris_with_typed_amount(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)

        prompt = await say(user, "/new")
        assert prompt.text == text("id", "new.choose_kind")
        assert buttons(prompt) == [
            text("id", "new.button.qris"),
            text("id", "new.button.va"),
            text("id", "new.button.cancel"),
        ]
        asked = await press(user, prompt, "QRIS")  # the same message asks the next question
        assert asked.text == text("id", "new.ask_name")
        amount = await say(user, "Bu Ani")
        assert amount.text == text("id", "new.ask_amount.qris")
        assert any("bebas" in label for label in buttons(amount))
        mark = user.fake.mark()
        working = await say(user, "Rp 25.000")
        assert working.text == text("id", "new.working")
        card = await card_after(user, mark)

        [code] = await env.codes_of(SELLER)
        session = await single_session(env)
        assert (code.kind, code.amount, code.status) == (CodeKind.QRIS, 25_000, CodeStatus.ACTIVE)
        assert session["amount"] == {"value": 0, "currency": "IDR"}  # open at Pivot
        assert card.method == "sendPhoto" and card.photo is not None
        assert decode_qr(card.photo) == [session["paymentMethod"]["qr"]["qrContent"]]  # type: ignore[index]
        assert card.text is not None
        for expected in (
            "Bu Ani",
            "Rp 25.000",
            "SIMULASI KODEBAYAR",
            text("id", "card.simulation"),
        ):
            assert expected in card.text


async def test_guided_va_for_several_banks_closed_and_open(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        prompt = await say(user, "/new")
        banks = await press(user, prompt, "VA")
        assert banks.text == text("id", "new.choose_bank")
        assert set(DEFAULT_VA_PREFIXES) <= set(buttons(banks))

        cases = [
            ("BCA", "1,5jt", 1_500_000, "Rp 1.500.000"),
            ("BRI", None, None, "<b>bebas</b>"),
            ("MANDIRI", "25k", 25_000, "Rp 25.000"),
        ]
        for bank, typed, amount, shown in cases:
            question = await to_amount(user, "VA", f"Pelanggan {bank}", bank)
            assert question.text == text("id", "new.ask_amount.va")
            mark = user.fake.mark()
            if typed is None:
                await press(user, question, "bebas")
            else:
                await say(user, typed)
            card = await card_after(user, mark)

            code = (await env.codes_of(SELLER))[0]
            assert (code.kind, code.bank, code.amount) == (CodeKind.VA, bank, amount)
            prefix = DEFAULT_VA_PREFIXES[bank]
            assert code.va_number == prefix + "0" * (16 - len(prefix))  # the first suffix
            assert card.method == "sendMessage" and card.text is not None
            assert f"<code>{code.va_number}</code>" in card.text
            assert f"Pelanggan {bank}" in card.text and shown in card.text


async def test_english_open_amount_button_says_open(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        await say(user, "/lang en")
        prompt = await say(user, "/new")
        assert prompt.text == text("en", "new.choose_kind")
        asked = await press(user, await press(user, prompt, "VA"), "BNI")
        assert asked.text == text("en", "new.ask_name")
        question = await say(user, "Mr Budi")
        assert any("open" in label.lower() for label in buttons(question))
        mark = user.fake.mark()
        await press(user, question, "open")
        card = await user.next_message(is_card, after=mark)

        assert card.text is not None and "Amount: <b>open</b>" in card.text
        assert text("en", "card.simulation") in card.text


async def test_names_are_cleaned_and_shown_escaped(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        prompt = await say(user, "/new")
        await press(user, prompt, "QRIS")

        again = await say(user, "\u200b \u200b")  # nothing left once cleaned
        assert again.text is not None and again.text.startswith(text("id", "name.empty"))
        question = await say(user, "  <b>Budi</b> &\tco  ")
        mark = user.fake.mark()
        await press(user, question, "bebas")
        card = await card_after(user, mark)

        [code] = await env.codes_of(SELLER)
        assert code.customer == "<b>Budi</b> & co"
        assert card.text is not None and "&lt;b&gt;Budi&lt;/b&gt; &amp; co" in card.text


@pytest.mark.parametrize("step", ["kind", "bank", "name", "amount"])
async def test_cancel_works_at_every_step(bot_home: Path | str, step: str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        prompt = await say(user, "/new")
        if step != "kind":
            prompt_edit = await press(user, prompt, "VA")
            if step != "bank":
                await press(user, prompt_edit, "BCA")
                if step == "amount":
                    await say(user, "Bu Ani")

        reply = await say(user, "/cancel")
        assert reply.text == text("id", "new.cancelled")
        # The conversation is over: a name or amount now means nothing to the bot.
        assert (await say(user, "25000")).text == text("id", "unknown")
        assert await env.codes_of(SELLER) == []


async def test_cancel_button(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        question = await to_amount(user, "QRIS", "Bu Ani")

        cancelled = await press(user, question, "Batal")

        assert cancelled.text == text("id", "new.cancelled") and buttons(cancelled) == []
        assert (await say(user, "25000")).text == text("id", "unknown")


async def test_double_tap_and_old_buttons_make_no_second_code(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        prompt = await say(user, "/new")
        await press(user, prompt, "VA")
        edited = await press(user, prompt, "BRI")
        question = await say(user, "Bu Ani")
        mark = user.fake.mark()

        # Two taps before the bot handled the first one.
        await user.press_button(question.message_id, "bebas")
        await user.press_button(question.message_id, "bebas")
        await card_after(user, mark)
        await env.telegram.wait_for_call(
            "answerCallbackQuery",
            lambda call: call.params.get("text") == text("id", "new.stale_button"),
            after=mark,
        )

        assert len(await env.codes_of(SELLER)) == 1
        assert len(env.simulator.sessions) == 1
        assert sum(is_card(m) for m in user.messages() if m.seq >= mark) == 1
        assert edited.message_id == prompt.message_id


async def test_typed_text_where_a_button_is_expected(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        prompt = await say(user, "/new")

        reply = await say(user, "QRIS")

        assert reply.text == text("id", "new.expect_button")
        assert (await press(user, prompt, "QRIS")).text == text("id", "new.ask_name")


async def test_the_conversation_times_out_politely(
    bot_home: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(new_handlers, "TIMEOUT_SECONDS", 0.5)
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        prompt = await say(user, "/new")
        mark = user.fake.mark()

        timeout = await user.next_message(after=mark)

        assert timeout.text == text("id", "new.timeout")
        await user.press_button(prompt.message_id, "QRIS")
        await env.telegram.wait_for_call(
            "answerCallbackQuery",
            lambda call: call.params.get("text") == text("id", "new.stale_button"),
            after=mark,
        )


async def test_pivot_down_then_the_retry_button_makes_one_code(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        other = await new_seller(env, SELLER + 1, "Joko")
        # More failures than the client retries; Pivot did create the session each time.
        env.simulator.fail_next("POST", "/v2/payments", count=3, status=503, processed=True)
        mark = user.fake.mark()
        await say(user, "/new qris Bu Ani")

        # While Pivot is retried for the first seller, the bot keeps serving the others.
        prompt = await say(other, "/new")
        down = await env.telegram.wait_for_edit(
            SELLER, lambda edit: edit.text == text("id", "error.pivot_down"), after=mark
        )
        assert prompt.text == text("id", "new.choose_kind") and prompt.seq < down.seq
        [pending] = await env.codes_of(SELLER)
        assert pending.status is CodeStatus.PENDING

        mark = user.fake.mark()
        await user.press_button(down.message_id, "Coba lagi")
        await user.press_button(down.message_id, "Coba lagi")  # a double tap
        card = await card_after(user, mark)
        await wait_for(
            lambda: sum(c.seq >= mark for c in env.telegram.calls_to("answerCallbackQuery")) == 2,
            what="both taps answered",
        )

        [code] = await env.codes_of(SELLER)
        assert code.id == pending.id and code.status is CodeStatus.ACTIVE
        assert len(env.simulator.sessions) == 1
        assert card.photo is not None and decode_qr(card.photo) == [code.qr_content]
        assert sum(is_card(m) for m in user.messages() if m.seq >= mark) == 1
        assert text("id", "error.generic") not in [m.text for m in user.messages()]
