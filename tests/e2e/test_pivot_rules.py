"""Pivot's documented rules that the simulator once taught wrong (issue 11 §6), end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.texts import text
from pivot_client import parse_va_rule_overrides
from pivot_client.simulator import SimulatorConfig
from storage import CodeKind, CodeStatus
from tests.standins import (
    ADMIN_ID,
    SELLER,
    FakeClock,
    buttons,
    card_after,
    decode_qr,
    is_card,
    new_seller,
    press,
    running_bot,
    say,
)

# Pivot's fixed top-level message of every 400 api_validation_error.
GENERIC_400 = "The request was invalid, or an error occurred in downstream provider"


async def test_the_qris_card_names_the_merchant_as_the_payers_app_shows_it(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        mark = user.fake.mark()
        await say(user, "/new qris Budi")
        card = await card_after(user, mark)

        [session] = env.simulator.sessions.values()
        qr = session.method_details
    # Tag 59 of the QR is what a payer's app shows; Pivot's merchantName is another name.
    assert qr["merchantName"] == "SIMULASI PIVOT"
    assert text("id", "card.qris.merchant", merchant="SIMULASI KODEBAYAR") in (card.text or "")
    assert "SIMULASI PIVOT" not in (card.text or "")


async def test_a_400_reaches_the_operators_with_its_specific_reason(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        env.simulator.fail_next("POST", "/v2/payments", status=400)
        mark = user.fake.mark()
        await say(user, "/new qris Bu Ani")

        await env.telegram.wait_for_edit(
            SELLER, lambda edit: edit.text == text("id", "error.pivot_rejected"), after=mark
        )
        alert = await env.telegram.wait_for_message(
            ADMIN_ID, lambda m: "(traceId" in (m.text or ""), after=mark
        )

    # The answer's top-level message is Pivot's generic sentence; the details say what failed.
    assert "Failure injected by the simulator (400)" in (alert.text or "")
    assert GENERIC_400 not in (alert.text or "")


async def test_a_va_suffix_outside_pivots_range_is_recognised_from_the_details(
    bot_home: Path | str,
) -> None:
    pivot_ranges = parse_va_rule_overrides("BNI=0005-0009")
    async with running_bot(
        bot_home, simulator_config={"va_rules": pivot_ranges}, pivot_va_ranges="BNI=0000-0009"
    ) as env:
        user = await new_seller(env)
        mark = user.fake.mark()
        await say(user, "/new va bni bebas Budi")

        refused = text("id", "error.va_range", bank="BNI")
        await env.telegram.wait_for_edit(SELLER, lambda edit: edit.text == refused, after=mark)
        alert = await env.telegram.wait_for_message(ADMIN_ID, after=mark)

    assert alert.text == text(
        "id", "alert.va_range", bank="BNI", suffix="0000", trace_id=alert_trace(alert.text)
    )


def alert_trace(body: str | None) -> str:
    """The trace id an alert quotes."""
    return (body or "").rsplit("traceId ", 1)[-1].split(")", 1)[0]


async def test_a_code_whose_answer_was_lost_is_found_by_its_reference_a_day_later(
    bot_home: Path | str,
) -> None:
    clock = FakeClock()
    async with running_bot(bot_home, simulator_config={"clock": clock}) as env:
        user = await new_seller(env)
        # Pivot makes the session but every answer is lost, retries included.
        env.simulator.fail_next("POST", "/v2/payments", count=3, status=503, processed=True)
        mark = user.fake.mark()
        await say(user, "/new qris Bu Ani")
        down = await env.telegram.wait_for_edit(
            SELLER, lambda edit: edit.text == text("id", "error.pivot_down"), after=mark
        )
        # A day later Pivot no longer knows the X-REQUEST-ID, and refuses the reference.
        clock.advance(24 * 3600 + 1)

        mark = user.fake.mark()
        await user.press_button(down.message_id, "Coba lagi")
        card = await card_after(user, mark)

        [code] = await env.codes_of(SELLER)
        [session] = env.simulator.sessions.values()
    assert code.status is CodeStatus.ACTIVE and code.pivot_session_id == session.id
    assert card.photo is not None and decode_qr(card.photo) == [code.qr_content]


async def test_with_pivots_qris_quota_reached_the_seller_gets_a_va_or_one_of_their_qris(
    bot_home: Path | str,
) -> None:
    # Pivot may allow a merchant as few as its stores + 1 ACTIVE static QRIS codes.
    async with running_bot(bot_home, simulator_config={"qris_limit": 2}) as env:
        user = await new_seller(env)
        for command in ("/new qris Budi", "/new qris 25rb Ani"):
            mark = user.fake.mark()
            await say(user, command)
            await card_after(user, mark)
        ani, budi = await env.codes_of(SELLER)

        mark = user.fake.mark()
        await say(user, "/new qris Citra")
        refusal = await env.telegram.wait_for_edit(
            SELLER, lambda edit: bool(edit.reply_markup), after=mark
        )
        alert = await env.telegram.wait_for_message(
            ADMIN_ID, lambda m: "QRIS" in (m.text or ""), after=mark
        )
        assert refusal.text == "\n\n".join(
            [
                text("id", "error.qris_limit", customer="Citra"),
                text("id", "error.qris_limit.instead_va", customer="Citra"),
                text("id", "error.qris_limit.instead_reuse"),
            ]
        )
        assert buttons(refusal) == [
            "🏦 Buat VA untuk Citra",
            "🧾 Kirim QRIS Ani",
            "🧾 Kirim QRIS Budi",
        ]
        trace = alert_trace(alert.text)
        assert alert.text == text(
            "id", "alert.qris_limit", trace_id=trace, active=2, deactivated=0
        )

        # One of her QRIS codes, for Citra to pay.
        mark = user.fake.mark()
        await user.press_button(refusal.message_id, "Kirim QRIS Budi")
        resent = await user.next_message(is_card, after=mark)
        assert resent.photo is not None and decode_qr(resent.photo) == [budi.qr_content]

        # Or a VA for Citra: the same customer, open like the QRIS she asked for.
        banks = await press(user, refusal, "Buat VA")
        assert banks.text == text("id", "new.choose_bank")
        mark = user.fake.mark()
        await user.press_button(refusal.message_id, "BCA")
        card = await card_after(user, mark)
        va = (await env.codes_of(SELLER))[0]
        assert (va.kind, va.bank, va.customer, va.amount) == (CodeKind.VA, "BCA", "Citra", None)
        assert va.va_number is not None and va.va_number in (card.text or "")

        # Another seller, with no QRIS of their own, is offered the VA only.
        other = await new_seller(env, SELLER + 1, "Joko")
        mark = other.fake.mark()
        await say(other, "/new qris Dewi")
        refused = await env.telegram.wait_for_edit(
            SELLER + 1, lambda edit: bool(edit.reply_markup), after=mark
        )
        assert buttons(refused) == ["🏦 Buat VA untuk Dewi"]

        # Pivot counts ACTIVE codes only: once one is inactive there, a QRIS can be made.
        assert ani.pivot_session_id is not None
        env.simulator.simulate(
            {
                "paymentSessionId": ani.pivot_session_id,
                "chargeStatus": "EXPIRED",
                "amount": {"value": 10_000, "currency": "IDR"},
            }
        )
        mark = other.fake.mark()
        await say(other, "/new qris Dewi")
        await card_after(other, mark)


async def test_open_and_closed_vas_get_numbers_from_their_own_ranges(
    bot_home: Path | str,
) -> None:
    # Pivot's dashboard keeps open and closed static VA ranges apart; so does PIVOT_VA_RANGES.
    split = "BNI:open=0000-0049,BNI:closed=0050-0099"
    async with running_bot(
        bot_home,
        simulator_config={"va_rules": parse_va_rule_overrides(split)},
        pivot_va_ranges=split,
    ) as env:
        user = await new_seller(env)
        for command in ("/new va bni bebas Budi", "/new va bni 25000 Ani"):
            mark = user.fake.mark()
            await say(user, command)
            await card_after(user, mark)

        closed, opened = await env.codes_of(SELLER)
    assert (opened.amount, opened.va_suffix) == (None, 0)
    assert (closed.amount, closed.va_suffix) == (25_000, 50)
    assert closed.va_number is not None and closed.va_number.endswith("0050")


def _configs_with(channel: str) -> dict[str, Any]:
    """Pivot's payment-method configs with ``channel`` enabled beside the simulator's banks."""
    configs = SimulatorConfig(callback_url=None, callback_key="-").method_configs()
    configs["virtualAccount"]["acceptedChannels"].append(channel)
    return configs


async def test_danamon_is_offered_once_its_range_is_configured(
    new_bot_home: Callable[[], Path | str],
) -> None:
    # Pivot's limitation table is cut off at DANAMON's row: its suffix length is unknown.
    configs = _configs_with("DANAMON")
    async with running_bot(
        new_bot_home(), simulator_config={"payment_method_configs": configs}
    ) as env:
        user = await new_seller(env)
        mark = user.fake.mark()
        banks = await say(user, "/new va")
        alert = await env.telegram.wait_for_message(
            ADMIN_ID, lambda m: "DANAMON" in (m.text or ""), after=mark
        )
    assert "DANAMON" not in buttons(banks)
    assert alert.text == text("id", "alert.va_no_rule", bank="DANAMON")

    ranges = parse_va_rule_overrides("DANAMON=000000-000099")
    async with running_bot(
        new_bot_home(),
        simulator_config={"payment_method_configs": configs, "va_rules": ranges},
        pivot_va_ranges="DANAMON=000000-000099",
    ) as env:
        user = await new_seller(env)
        mark = user.fake.mark()
        await say(user, "/new va danamon bebas Budi")
        card = await card_after(user, mark)
        [code] = await env.codes_of(SELLER)
    assert code.bank == "DANAMON" and code.va_number in (card.text or "")
