"""Pivot's documented rules that the simulator once taught wrong (issue 11 §6), end to end."""

from __future__ import annotations

from pathlib import Path

from bot.texts import text
from tests.e2e.chat import card_after, new_seller, say
from tests.e2e.harness import running_bot


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
