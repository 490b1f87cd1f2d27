"""Pivot's documented rules that the simulator once taught wrong (issue 11 §6), end to end."""

from __future__ import annotations

from pathlib import Path

from bot.texts import text
from pivot_client import parse_va_rule_overrides
from storage import CodeStatus
from tests.e2e.chat import SELLER, card_after, new_seller, say
from tests.e2e.harness import ADMIN_ID, running_bot
from tests.helpers.qr import decode_qr
from tests.pivot_client.fakes import FakeClock

# Pivot's fixed top-level message of every 400 api_validation_error.
GENERIC_400 = "The request was invalid, or an error occurred in downstream provider"


async def test_the_qris_card_names_the_merchant_as_the_payers_app_shows_it(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as env:
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


async def test_a_400_reaches_the_operators_with_its_specific_reason(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as env:
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
    tmp_path: Path,
) -> None:
    pivot_ranges = parse_va_rule_overrides("BNI=0005-0009")
    async with running_bot(
        tmp_path, simulator_config={"va_rules": pivot_ranges}, pivot_va_ranges="BNI=0000-0009"
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
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with running_bot(tmp_path, simulator_config={"clock": clock}) as env:
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
