"""The bot as an operator runs it: a child process, killed, restarted, stopped, and its output."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest

from storage import Database
from tests.standins import (
    ADMIN_ID,
    BOT_TOKEN,
    CALLBACK_KEY,
    CLIENT_SECRET,
    SECRETS,
    BotProcess,
    FakeTelegram,
    PostgresServer,
    add_code,
    add_seller,
    bot_environment,
    free_port,
    qris_session,
    serving,
    stand_ins,
    wait_for,
)
from tests.standins.postgres import PASSWORD as DATABASE_PASSWORD

SELLER = 2000


async def test_a_missing_token_stops_start_up_with_one_line_and_exit_code_2(
    tmp_path: Path,
) -> None:
    variables = bot_environment(
        database=tmp_path / "kb.db",
        telegram_url="http://127.0.0.1:9",
        pivot_url="http://127.0.0.1:9",
        http_port=free_port(),
    )
    del variables["TELEGRAM_BOT_TOKEN"]
    process = BotProcess(variables, tmp_path)

    code = await process.run_to_end()

    assert code == 2
    lines = process.output.strip().splitlines()
    assert len(lines) == 1, process.output
    assert "TELEGRAM_BOT_TOKEN" in lines[0]
    assert CLIENT_SECRET not in process.output
    assert CALLBACK_KEY not in process.output


async def _refused_start(tmp_path: Path, database: Path | str) -> tuple[BotProcess, str]:
    """Start the bot on a database it cannot use: it must exit 2 with one last line, no
    traceback; the process and that line."""
    variables = bot_environment(
        database=database,
        telegram_url="http://127.0.0.1:9",
        pivot_url="http://127.0.0.1:9",
        http_port=free_port(),
    )
    process = BotProcess(variables, tmp_path)
    code = await process.run_to_end()
    assert code == 2, process.output
    assert "Traceback" not in process.output
    return process, process.output.strip().splitlines()[-1]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("folder", "it is a folder; name a file in it"),
        ("file/kodebayar.db", "is a file, not a folder"),
        ("notes.txt", "file is not a database"),
    ],
)
async def test_a_database_path_that_cannot_be_used_stops_start_up_with_one_line_and_exit_code_2(
    tmp_path: Path, where: str, reason: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    (tmp_path / "notes.txt").write_text("not a database, only text " * 40)
    _, last = await _refused_start(tmp_path, tmp_path / where)
    assert last.startswith(f"kodebayar: DATABASE_PATH: cannot open {tmp_path / where}: ")
    assert reason in last


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("no database", "names no database"),
        ("wrong password", 'password authentication failed for user "kodebayar"'),
    ],
)
async def test_a_database_url_that_cannot_be_used_stops_start_up_with_one_line_and_exit_code_2(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str, fault: str, reason: str
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    wrong = "not-the-password"
    url = (
        postgres_server.url("")
        if fault == "no database"
        else postgres_server.url(database, password=wrong)
    )
    process, last = await _refused_start(tmp_path, url)
    assert last.startswith("kodebayar: DATABASE_URL: "), last
    assert reason in last
    assert DATABASE_PASSWORD not in process.output and wrong not in process.output


async def test_killed_after_the_200_and_before_the_message_it_arrives_after_a_restart(
    tmp_path: Path, database_target: Path | str
) -> None:
    port = free_port()
    database = database_target
    async with stand_ins(port) as (down_telegram, down_url, simulator, pivot_url):
        # Telegram is failing when the payment comes in, so the message cannot go out.
        down_telegram.fail_next("sendMessage", count=10_000, status=502)
        first = BotProcess(
            bot_environment(
                database=database,
                telegram_url=down_url,
                pivot_url=pivot_url,
                http_port=port,
            ),
            tmp_path,
        )
        try:
            await first.start()
            await first.wait_ready(f"http://127.0.0.1:{port}")
            async with await Database.open(database) as db:
                await add_seller(db, SELLER, language="en")
                session = await qris_session(pivot_url, "kbcrash1")
                code = await add_code(
                    db, SELLER, session_id=session, client_reference_id="kbcrash1"
                )
            charge = simulator.record_charge(code.pivot_session_id or "", 20_000)
            await wait_for(
                lambda: any(a.status_code == 200 for a in simulator.deliveries),
                timeout=10,
                what="the callback answered 200",
            )
            await first.signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
        finally:
            await first.aclose()
        assert down_telegram.sent_messages(SELLER) == []

        telegram = FakeTelegram(token=BOT_TOKEN, flood=None)
        async with serving(telegram.app) as telegram_server:
            second = BotProcess(
                bot_environment(
                    database=database,
                    telegram_url=telegram_server.url,
                    pivot_url=pivot_url,
                    http_port=port,
                ),
                tmp_path,
            )
            try:
                await second.start()
                message = await telegram.wait_for_message(SELLER, timeout=20, after=0)
                await second.signal(signal.SIGTERM)
                assert await second.wait() == 0
            finally:
                await second.aclose()
                await telegram.aclose()

    assert "Rp 20.000" in (message.text or "")
    assert len(telegram.sent_messages(SELLER)) == 1
    assert charge.id


_INVITE = re.compile(r"\?start=([A-Za-z0-9_-]+)")


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_full_flow_logs_no_secret_and_sigterm_stops_cleanly(
    tmp_path: Path, database_target: Path | str, webhook: bool
) -> None:
    port = free_port()
    extra = {"LOG_LEVEL": "DEBUG"}
    if webhook:
        extra["TELEGRAM_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/telegram/webhook"
        extra["TELEGRAM_WEBHOOK_SECRET"] = SECRETS[-1]
    async with stand_ins(port) as (telegram, telegram_url, simulator, pivot_url):
        process = BotProcess(
            bot_environment(
                database=database_target,
                telegram_url=telegram_url,
                pivot_url=pivot_url,
                http_port=port,
                **extra,
            ),
            tmp_path,
        )
        try:
            await process.start()
            await process.wait_ready(f"http://127.0.0.1:{port}")
            admin = telegram.user(ADMIN_ID, first_name="Operator")
            mark = telegram.mark()
            await admin.send("/invite")
            invite = await telegram.wait_for_message(
                ADMIN_ID, lambda m: _INVITE.search(m.text or "") is not None, after=mark
            )
            token = _INVITE.search(invite.text or "")
            assert token is not None
            seller = telegram.user(SELLER)
            await seller.send(f"/start {token.group(1)}")
            await telegram.wait_for_message(SELLER, after=mark)
            mark = telegram.mark()
            await seller.send("/new qris 25000 Bu Ani")
            card = await telegram.wait_for_message(
                SELLER, lambda m: m.photo is not None, after=mark, timeout=10
            )
            [session] = simulator.sessions.values()
            mark = telegram.mark()
            charge = simulator.record_charge(session.id, 25_000)
            paid = await telegram.wait_for_message(
                SELLER, lambda m: "25.000" in (m.text or ""), after=mark, timeout=10
            )
            await seller.send("/codes")
            await telegram.wait_for_message(SELLER, after=paid.seq + 1)

            await process.signal(signal.SIGTERM)
            code = await process.wait(timeout=12)
        finally:
            await process.aclose()

    assert card.photo
    assert code == 0
    assert "Kodebayar stopped" in process.output
    assert "Traceback" not in process.output
    for secret in SECRETS:
        assert secret not in process.output
    assert BOT_TOKEN.split(":")[1] not in process.output
    assert DATABASE_PASSWORD not in process.output  # DATABASE_URL's, on PostgreSQL
    # At DEBUG too: no SQL parameters, so no invitation token and no callback body.
    assert " aiosqlite: " not in process.output
    assert token.group(1) not in process.output
    assert "?start=" in process.output  # PTB's DEBUG lines did carry the link, masked
    body = json.loads(simulator.callback_body(charge.id))
    assert body["event"] == "CHARGE.SUCCESS"
    assert body["event"] not in process.output  # in any dump of the body, however quoted
