"""A newcomer's first start: ``cp .env.example .env``, fill in what is required, run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.app import NO_OPERATORS
from tests.e2e.harness import (
    BOT_TOKEN,
    CALLBACK_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    free_port,
    stand_ins,
)
from tests.e2e.process import REPOSITORY, BotProcess

NEWCOMER = 4242


def fill_in(dotenv: Path, **values: str) -> None:
    """Set ``NAME=value`` on the lines of ``dotenv`` that name those variables."""
    body = dotenv.read_text()
    for name, value in values.items():
        body, found = re.subn(rf"(?m)^{name}=.*$", f"{name}={value}", body)
        assert found == 1, name
    dotenv.write_text(body)


async def test_the_shipped_example_with_the_required_values_starts_a_healthy_bot(
    tmp_path: Path,
) -> None:
    port = free_port()
    dotenv = tmp_path / ".env"
    shutil.copy(REPOSITORY / ".env.example", dotenv)
    async with stand_ins(port) as (telegram, telegram_url, _simulator, pivot_url):
        fill_in(
            dotenv,
            TELEGRAM_BOT_TOKEN=BOT_TOKEN,
            PIVOT_CLIENT_ID=CLIENT_ID,
            PIVOT_CLIENT_SECRET=CLIENT_SECRET,
            PIVOT_CALLBACK_API_KEY=CALLBACK_KEY,
            # Where an operator's values would point at Telegram, Pivot and a data folder.
            TELEGRAM_API_URL=telegram_url,
            PIVOT_BASE_URL=pivot_url,
            DATABASE_PATH=str(tmp_path / "data" / "kodebayar.db"),
            HTTP_PORT=str(port),
        )
        process = BotProcess({}, tmp_path)  # no variable but PATH: everything from .env
        try:
            await process.start()
            await process.wait_ready(f"http://127.0.0.1:{port}")
            # ADMIN_TELEGRAM_IDS is still empty: the would-be operator learns their id.
            newcomer = telegram.user(NEWCOMER, first_name="Operator")
            mark = telegram.mark()
            await newcomer.send("/start")
            refusal = await newcomer.next_message(after=mark)
        finally:
            await process.aclose()

    assert "configuration error" not in process.output
    assert (tmp_path / "data" / "kodebayar.db").is_file()
    assert process.output.count(NO_OPERATORS) == 1
    assert f"ID Telegram Anda: {NEWCOMER}." in (refusal.text or "")
