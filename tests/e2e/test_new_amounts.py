"""Every amount a seller may type, and every one the bot must refuse and ask again
(docs/money.md rule 15)."""

from __future__ import annotations

from pathlib import Path

from bot.texts import text
from tests.standins import SELLER, buttons, card_after, new_seller, running_bot, say, to_amount

FORMS = [
    ("25000", 25_000, "Rp 25.000"),
    ("25.000", 25_000, "Rp 25.000"),
    ("Rp 25.000", 25_000, "Rp 25.000"),
    ("Rp25.000", 25_000, "Rp 25.000"),
    ("25rb", 25_000, "Rp 25.000"),
    ("25k", 25_000, "Rp 25.000"),
    ("1,5jt", 1_500_000, "Rp 1.500.000"),
    ("1.5jt", 1_500_000, "Rp 1.500.000"),
    # A space before the unit: in one message, the unit is not the customer's first name.
    ("25 ribu", 25_000, "Rp 25.000"),
    ("25 rb", 25_000, "Rp 25.000"),
    ("1,5 juta", 1_500_000, "Rp 1.500.000"),
    ("50 rb", 50_000, "Rp 50.000"),
    ("25 k", 25_000, "Rp 25.000"),
    ("2 jt", 2_000_000, "Rp 2.000.000"),
]


async def test_every_amount_form_in_one_message_and_typed(bot_home: Path | str) -> None:
    # Two codes a form, more than one seller may make a day by default.
    async with running_bot(bot_home, seller_codes_per_day=2 * len(FORMS)) as env:
        user = await new_seller(env)
        for form, amount, shown in FORMS:
            mark = user.fake.mark()
            await say(user, f"/new qris {form} Bu Ani")
            card = await card_after(user, mark)
            code = (await env.codes_of(SELLER))[0]
            assert (code.amount, code.customer) == (amount, "Bu Ani"), form
            assert card.text is not None and shown in card.text

            await to_amount(user, "VA", "Pak Budi", "BCA")
            mark = user.fake.mark()
            await say(user, form)
            card = await card_after(user, mark)
            assert (await env.codes_of(SELLER))[0].amount == amount, form
            assert card.text is not None and f"<b>{shown}</b> (tetap)" in card.text


async def test_every_bad_amount_is_explained_and_asked_again(bot_home: Path | str) -> None:
    va_limits = {"kind": "VA BCA", "minimum": "Rp 10.000", "maximum": "Rp 9.999.999.999"}
    bad = [
        ("abc", text("id", "amount.format")),
        ("25.000.00", text("id", "amount.format")),
        ("Rp", text("id", "amount.empty")),
        ("0", text("id", "amount.zero")),
        ("-5000", text("id", "amount.negative")),
        ("25,50", text("id", "amount.fraction")),
        ("99999999999999999999", text("id", "amount.too_large")),
        ("5000", text("id", "amount.below_minimum", **va_limits)),
        ("10000jt", text("id", "amount.above_maximum", **va_limits)),
    ]
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        await to_amount(user, "VA", "Pak Budi", "BCA")
        for typed, problem in bad:
            reask = await say(user, typed)
            assert reask.text == f"{problem}\n\n{text('id', 'new.ask_amount.va')}", typed
            assert any("bebas" in label for label in buttons(reask))

        mark = user.fake.mark()
        await say(user, "25.000")
        await card_after(user, mark)
        [code] = await env.codes_of(SELLER)
        assert code.amount == 25_000


async def test_qris_limits_and_bad_amounts_in_one_message(bot_home: Path | str) -> None:
    qris_limits = {"kind": "QRIS", "minimum": "Rp 1.000", "maximum": "Rp 9.999.999"}
    cases = [
        ("/new qris 500 Bu Ani", text("id", "amount.below_minimum", **qris_limits)),
        ("/new qris 10jt Bu Ani", text("id", "amount.above_maximum", **qris_limits)),
        ("/new qris 0 Bu Ani", text("id", "amount.zero")),
        ("/new qris -1 Bu Ani", text("id", "amount.negative")),
        # Not Rp 25 for a customer called "ribuan Bu Ani": an amount that cannot be read.
        ("/new qris 25 ribuan Bu Ani", text("id", "amount.format")),
    ]
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        for command, problem in cases:
            reask = await say(user, command)
            assert reask.text == f"{problem}\n\n{text('id', 'new.ask_amount.qris')}", command

        mark = user.fake.mark()
        await say(user, "Rp 9.999.999")  # the last question still stands
        await card_after(user, mark)
        [code] = await env.codes_of(SELLER)
        assert (code.amount, code.customer) == (9_999_999, "Bu Ani")


async def test_a_va_in_one_message_with_a_space_before_the_unit(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        mark = user.fake.mark()
        await say(user, "/new va bca 25 rb Budi")
        card = await card_after(user, mark)
        [code] = await env.codes_of(SELLER)

    assert (code.bank, code.amount, code.customer) == ("BCA", 25_000, "Budi")
    assert card.text is not None and "<b>Rp 25.000</b> (tetap)" in card.text
