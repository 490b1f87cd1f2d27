"""``kodebayar copy-to-postgres`` as an operator runs it: a real process copies the SQLite
database into PostgreSQL, and the bot then started on PostgreSQL tells a seller of a payment
into a code handed out before the move."""

from __future__ import annotations

import signal
from pathlib import Path

from storage import Database
from tests.standins import (
    BotProcess,
    add_code,
    add_seller,
    bot_environment,
    free_port,
    qris_session,
    stand_ins,
)
from tests.standins.postgres import PASSWORD as DATABASE_PASSWORD

SELLER = 2000
NO_SERVER = "postgresql://kodebayar:secret@127.0.0.1:9/kodebayar"  # never reached
NOWHERE = "http://127.0.0.1:9"


def _environment(
    postgres_url: str, sqlite: Path, telegram_url: str, pivot_url: str, port: int
) -> dict[str, str]:
    """The operator's settings: the SQLite file they ran on, and the new PostgreSQL database."""
    return bot_environment(
        database=postgres_url,
        telegram_url=telegram_url,
        pivot_url=pivot_url,
        http_port=port,
        DATABASE_PATH=str(sqlite),
    )


async def test_a_code_handed_out_on_sqlite_is_paid_after_the_move_to_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite = tmp_path / "data" / "kodebayar.db"
    port = free_port()
    async with stand_ins(port) as (telegram, telegram_url, simulator, pivot_url):
        async with await Database.open(sqlite) as db:
            await add_seller(db, SELLER, language="en")
            session = await qris_session(pivot_url, "kbmoved1")
            await add_code(db, SELLER, session_id=session, client_reference_id="kbmoved1")
        variables = _environment(postgres_url, sqlite, telegram_url, pivot_url, port)

        copy = BotProcess(variables, tmp_path, command="copy-to-postgres")
        assert await copy.run_to_end() == 0, copy.output

        bot = BotProcess(variables, tmp_path)
        try:
            await bot.start()
            await bot.wait_ready(f"http://127.0.0.1:{port}")
            simulator.record_charge(session, 20_000)
            message = await telegram.wait_for_message(SELLER, timeout=20, after=0)
            await bot.signal(signal.SIGTERM)
            assert await bot.wait() == 0
        finally:
            await bot.aclose()

    assert "Rp 20.000" in (message.text or "")
    lines = copy.output.splitlines()
    assert any(line.split()[:2] == ["sellers", "1"] for line in lines), copy.output
    assert any(line.split()[:2] == ["codes", "1"] for line in lines), copy.output
    assert "start the bot" in copy.output
    assert DATABASE_PASSWORD not in copy.output
    assert "PostgreSQL" in bot.output


async def test_a_second_copy_is_refused_in_one_line_and_changes_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite = tmp_path / "kodebayar.db"
    async with await Database.open(sqlite) as db:
        await add_seller(db, SELLER)
    variables = _environment(postgres_url, sqlite, NOWHERE, NOWHERE, 9)
    first = BotProcess(variables, tmp_path, command="copy-to-postgres")
    assert await first.run_to_end() == 0, first.output
    async with await Database.open(sqlite) as db:
        await add_seller(db, SELLER + 1)

    second = BotProcess(variables, tmp_path, command="copy-to-postgres")

    assert await second.run_to_end() == 1
    last = second.output.strip().splitlines()[-1]
    assert last.startswith("kodebayar: DATABASE_URL: the PostgreSQL database already holds")
    async with await Database.open(postgres_url) as db:
        assert await db.sellers.count() == 1


async def test_without_database_url_it_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    sqlite = tmp_path / "kodebayar.db"
    variables = _environment(NO_SERVER, sqlite, NOWHERE, NOWHERE, 9)
    del variables["DATABASE_URL"]

    process = BotProcess(variables, tmp_path, command="copy-to-postgres")

    assert await process.run_to_end() == 2
    lines = process.output.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL is not set" in lines[0], process.output
    assert not sqlite.exists()


async def test_without_a_sqlite_database_it_says_so_in_one_line_and_exits_2(
    tmp_path: Path,
) -> None:
    sqlite = tmp_path / "nowhere" / "kodebayar.db"
    variables = _environment(NO_SERVER, sqlite, NOWHERE, NOWHERE, 9)

    process = BotProcess(variables, tmp_path, command="copy-to-postgres")

    assert await process.run_to_end() == 2
    lines = process.output.strip().splitlines()
    assert lines == [f"kodebayar: DATABASE_PATH: there is no SQLite database at {sqlite}"]
    assert not sqlite.parent.exists()
