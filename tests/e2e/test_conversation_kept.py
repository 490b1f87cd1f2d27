"""A half-finished guided /new survives the bot's process: killed between two answers, the
next process takes the conversation up where the seller left it (bot.persistence)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from bot.texts import text
from storage import CodeKind, CodeStatus, Database
from tests.standins import (
    SELLER,
    BotProcess,
    FakeTelegram,
    add_seller,
    bot_environment,
    card_after,
    free_port,
    say,
    stand_ins,
    to_amount,
    wait_for,
)


async def _asking_amount(db: Database) -> bool:
    """Whether the database has the seller's /new at the amount, with the answers so far."""
    conversation = await db.bot_state.of_kind("conversation:new")
    people = await db.bot_state.of_kind("user_data")
    state = conversation.get(f"[{SELLER},{SELLER}]")
    person = people.get(str(SELLER))
    return (
        state is not None
        and state.data == '"amount"'
        and person is not None
        and "Bu Ani" in person.data
    )


async def test_a_guided_new_killed_before_the_amount_goes_on_after_a_restart(
    tmp_path: Path, database_target: Path | str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with stand_ins(port) as (telegram, telegram_url, _, pivot_url):
        variables = bot_environment(
            database=database_target,
            telegram_url=telegram_url,
            pivot_url=pivot_url,
            http_port=port,
        )
        first = BotProcess(variables, tmp_path)
        try:
            await first.start()
            await first.wait_ready(url)
            async with await Database.open(database_target) as db:
                await add_seller(db, SELLER)
                seller = telegram.user(SELLER)
                asked = await to_amount(seller, "VA", "Bu Ani", "BCA")
                answered = time.monotonic()
                await wait_for(
                    lambda: _asking_amount(db), timeout=5, what="the state in the database"
                )
                persisted_within = time.monotonic() - answered
            await _all_fetched(telegram)
            await first.signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
        finally:
            await first.aclose()

        second = BotProcess(variables, tmp_path)
        try:
            await second.start()
            await second.wait_ready(url)
            mark = telegram.mark()
            working = await say(seller, "25rb")
            card = await card_after(seller, mark)
            await second.signal(signal.SIGTERM)
            assert await second.wait() == 0
        finally:
            await second.aclose()

    print(f"the state was in the database {persisted_within * 1000:.0f} ms after the answer")
    assert asked.text == text("id", "new.ask_amount.va")
    assert persisted_within < 1.0
    assert working.text == text("id", "new.working")
    assert "Bu Ani" in (card.text or "")
    async with await Database.open(database_target) as db:
        [summary] = await db.codes.list_for_seller(SELLER, offset=0, limit=10)
    code = summary.code
    assert (code.kind, code.bank, code.customer, code.amount, code.status) == (
        CodeKind.VA,
        "BCA",
        "Bu Ani",
        25_000,
        CodeStatus.ACTIVE,
    )
    assert "Traceback" not in first.output + second.output


async def _all_fetched(telegram: FakeTelegram) -> None:
    """Every update was taken by the bot (none is handed to the next process again)."""
    await wait_for(lambda: telegram.unconfirmed_updates == 0, timeout=5, what="updates fetched")
