"""A newcomer's first start: ``cp .env.example .env``, fill in what is required, run."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import NO_OPERATORS
from tests.standins import (
    BOT_TOKEN,
    CALLBACK_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    REPOSITORY,
    BotEnv,
    BotProcess,
    free_port,
    running_bot,
    stand_ins,
    wait_for,
)

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


async def health_of(env: BotEnv) -> tuple[int, dict[str, Any]]:
    """``/healthz``: its status code and report."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{env.runtime.http_url}/healthz")
    return answer.status_code, answer.json()


async def pivot_health(env: BotEnv, expected: str) -> dict[str, Any]:
    """The health report once its ``pivot`` field says ``expected``."""
    reports: list[dict[str, Any]] = []

    async def settled() -> bool:
        reports.append((await health_of(env))[1])
        return reports[-1].get("pivot") == expected

    await wait_for(settled, timeout=10, interval=0.05, what=f"pivot: {expected}")
    return reports[-1]


async def test_wrong_pivot_credentials_are_reported_at_start_up_and_the_bot_runs_on(
    bot_home: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.pivot_check")
    async with running_bot(bot_home, pivot_client_secret="not-the-secret") as env:
        await pivot_health(env, "credentials refused")
        status, report = await health_of(env)

    # Callbacks are still recorded: refused credentials do not make the bot unready.
    assert (status, report["status"]) == (200, "ok")
    [warning] = [r for r in caplog.records if r.name == "bot.pivot_check"]
    assert warning.levelno == logging.WARNING
    assert "refused PIVOT_CLIENT_ID / PIVOT_CLIENT_SECRET" in warning.getMessage()
    assert "not-the-secret" not in caplog.text


async def test_right_pivot_credentials_are_reported_ok(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        report = await pivot_health(env, "ok")

    assert report["status"] == "ok"


async def test_an_unreachable_pivot_is_reported_and_the_bot_runs_on(bot_home: Path | str) -> None:
    async with running_bot(bot_home, pivot_base_url=f"http://127.0.0.1:{free_port()}") as env:
        await pivot_health(env, "unreachable")
        status, report = await health_of(env)

    assert (status, report["status"]) == (200, "ok")
