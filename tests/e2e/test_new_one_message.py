"""/new in one message: complete, partial (the rest is asked), redelivered, refused."""

from __future__ import annotations

from pathlib import Path

from bot.cards import qr_label, render_qr_photo
from bot.texts import text
from storage import CodeKind, CodeStatus
from tests.standins import (
    ADMIN_ID,
    SELLER,
    buttons,
    card_after,
    decode_qr,
    new_seller,
    press,
    running_bot,
    say,
)

BANKS = "BCA, BRI, MANDIRI, BNI, BSI, CIMB, PERMATA, BNC"  # the simulator's, in its order


async def test_complete_commands_make_the_code_at_once(bot_home: Path | str) -> None:
    cases = [
        ("/new qris Budi", CodeKind.QRIS, None, None, "Budi"),
        ("/new qris 25000 Bu Ani", CodeKind.QRIS, None, 25_000, "Bu Ani"),
        ("/new va bca 25000 Budi", CodeKind.VA, "BCA", 25_000, "Budi"),
        ("/new va bri bebas Budi", CodeKind.VA, "BRI", None, "Budi"),
        ("/new VA bni open Pak Budi Santoso", CodeKind.VA, "BNI", None, "Pak Budi Santoso"),
        ("/new va permata Rp 50.000 Budi", CodeKind.VA, "PERMATA", 50_000, "Budi"),
    ]
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        for command, kind, bank, amount, customer in cases:
            mark = user.fake.mark()
            working = await say(user, command)
            assert working.text == text("id", "new.working")
            card = await card_after(user, mark)

            code = (await env.codes_of(SELLER))[0]
            assert (code.kind, code.bank, code.amount, code.customer) == (
                kind,
                bank,
                amount,
                customer,
            )
            assert code.status is CodeStatus.ACTIVE
            assert code.request_key == f"{SELLER}:{working.message_id - 1}"  # the command's id
            assert card.text is not None and customer in card.text
            if kind is CodeKind.QRIS:
                assert card.photo is not None and decode_qr(card.photo) == [code.qr_content]
                # Labelled: the simulator's code says whose, how much, and that it is simulated.
                assert card.photo == render_qr_photo(code, "id")
                label = qr_label(code, "id")
                assert label.title == f"Untuk: {customer}" and label.banner == "SIMULASI"
                assert label.lines[0] == (
                    "Nominal bebas" if amount is None else "Nominal: Rp 25.000"
                )
            else:
                assert f"<code>{code.va_number}</code>" in card.text
        assert len(env.simulator.sessions) == len(cases)


async def test_partial_commands_ask_for_what_is_missing(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)

        banks = await say(user, "/new va")
        assert banks.text == text("id", "new.choose_bank")
        assert ", ".join(buttons(banks)[:-1]) == BANKS
        await say(user, "/cancel")

        assert (await say(user, "/new va bca")).text == text("id", "new.ask_name")
        assert (await say(user, "Budi")).text == text("id", "new.ask_amount.va")
        await say(user, "/cancel")

        # QRIS with its amount but no name: only the name is asked.
        assert (await say(user, "/new qris 25rb")).text == text("id", "new.ask_name")
        mark = user.fake.mark()
        await say(user, "Bu Ani")
        await card_after(user, mark)
        assert (await env.codes_of(SELLER))[0].amount == 25_000

        question = await say(user, "/new va bca Budi")
        assert question.text == text("id", "new.ask_amount.va")
        mark = user.fake.mark()
        await press(user, question, "bebas")
        await card_after(user, mark)
        assert (await env.codes_of(SELLER))[0].amount is None

        kinds = await say(user, "/new xyz Budi")
        assert kinds.text == "\n\n".join(
            [text("id", "new.unknown_kind"), text("id", "new.choose_kind")]
        )
        assert (await press(user, kinds, "QRIS")).text == text("id", "new.ask_name")

        unknown_bank = await say(user, "/new va xyz 25000 Budi")
        assert unknown_bank.text == "\n\n".join(
            [
                text("id", "new.unknown_bank", bank="xyz", banks=BANKS),
                text("id", "new.choose_bank"),
            ]
        )
        assert len(await env.codes_of(SELLER)) == 2


async def test_a_redelivered_command_makes_no_second_code(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        mark = user.fake.mark()
        await user.send("/new qris Budi")
        command = env.telegram.updates[-1]["message"]
        first = await card_after(user, mark)

        mark = user.fake.mark()
        env.telegram.inject({"message": command})  # Telegram sends the same message again
        again = await card_after(user, mark)

        [code] = await env.codes_of(SELLER)
        assert len(env.simulator.sessions) == 1
        assert first.photo == again.photo and decode_qr(again.photo or b"") == [code.qr_content]


async def test_an_exhausted_va_range_is_explained_and_reported(bot_home: Path | str) -> None:
    async with running_bot(bot_home, pivot_va_ranges="BNI=0000-0000") as env:
        user = await new_seller(env)
        mark = user.fake.mark()
        await say(user, "/new va bni bebas Budi")
        await card_after(user, mark)

        mark = user.fake.mark()
        await say(user, "/new va bni bebas Ani")
        refused = text("id", "error.va_exhausted", bank="BNI", capacity=1)
        await env.telegram.wait_for_edit(SELLER, lambda edit: edit.text == refused, after=mark)
        alert = text("id", "alert.va_exhausted", bank="BNI", capacity=1)
        await env.telegram.wait_for_message(ADMIN_ID, lambda m: m.text == alert, after=mark)

        assert len(await env.codes_of(SELLER)) == 1


async def test_pivots_refusal_reaches_the_seller_in_their_words_and_the_operator_in_pivots(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        env.simulator.fail_next("POST", "/v2/payments", status=422)
        mark = user.fake.mark()
        await say(user, "/new qris Bu Ani")

        refused = await env.telegram.wait_for_edit(
            SELLER, lambda edit: edit.text == text("id", "error.pivot_rejected"), after=mark
        )
        alert = await env.telegram.wait_for_message(
            ADMIN_ID, lambda m: "Failure injected by the simulator" in (m.text or ""), after=mark
        )

    assert refused.text is not None and "diberi tahu" in refused.text
    assert "422" in (alert.text or "")
    shown = [m.text or "" for m in user.messages()] + [
        e.text or "" for e in env.telegram.edits(SELLER)
    ]
    assert not any("Failure injected" in body for body in shown)
