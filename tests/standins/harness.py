"""Run the whole bot the way ``kodebayar run`` does, against the simulator and a fake Bot API.

Everything talks over real loopback HTTP: Telegram updates come from ``FakeTelegram``'s
long polling (or its webhook push), Pivot calls go to the simulator, the simulator posts its
callbacks to the bot's own ``/pivot/callback``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import Runtime
from bot.confirm import CONFIRM_GRACE
from bot.ledger import CONFIRM_WITHIN
from bot.sending import Sender
from bot.services import Services
from bot.settings import Settings
from pivot_client import PivotClient
from pivot_client.simulator import Simulator, SimulatorConfig, create_app
from storage import Code, Database
from tests.standins.botapi.fake import FakeTelegram
from tests.standins.botapi.flood import TELEGRAM_LIMITS
from tests.standins.botapi.users import FakeUser
from tests.standins.records import add_code
from tests.standins.servers import free_port, serving

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
CLIENT_ID = "e2e-client-id"
CLIENT_SECRET = "e2e-client-secret-value"
CALLBACK_KEY = "e2e-callback-key-value"
WEBHOOK_SECRET = "e2e-webhook-secret-value"
ADMIN_ID = 1000
SECRETS = (BOT_TOKEN, CLIENT_SECRET, CALLBACK_KEY, WEBHOOK_SECRET)


def unpaced_sender() -> Sender:
    """The production sending path, paced no tighter than the fake with flood control off."""
    return Sender(chat_rate=1e4, chat_burst=10_000, global_rate=1e5, global_burst=10_000)


_INVITE_LINK = re.compile(r"https://t\.me/\S+\?start=([A-Za-z0-9_-]+)")


async def qris_session(pivot_url: str, reference: str) -> str:
    """The id of a static QRIS session the simulator at ``pivot_url`` makes for ``reference``."""
    async with PivotClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=pivot_url
    ) as client:
        session = await client.create_static_payment(client_reference_id=reference, method="QR")
    return session.id


async def simulator_codes(
    db: Database, seller: int, pivot_url: str, *, count: int, prefix: str
) -> list[str]:
    """``count`` QRIS codes of ``seller`` (who must exist) made at the simulator, so that
    Pivot lists their payments and the bot, which confirms each payment with Pivot's API
    before announcing it, tells them; their session ids."""
    sessions = []
    for number in range(count):
        reference = f"{prefix}{number}"
        session = await qris_session(pivot_url, reference)
        await add_code(db, seller, session_id=session, client_reference_id=reference)
        sessions.append(session)
    return sessions


@dataclass
class BotEnv:
    """A running bot and the stand-ins around it."""

    telegram: FakeTelegram
    simulator: Simulator
    simulator_url: str
    runtime: Runtime
    settings: Settings
    users: dict[int, FakeUser] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        """The bot's services (its database, Pivot client...)."""
        return self.runtime.services

    @property
    def callback_url(self) -> str:
        """The bot's ``/pivot/callback``."""
        return f"{self.runtime.http_url}/pivot/callback"

    @property
    def admin(self) -> FakeUser:
        """The operator of ``ADMIN_TELEGRAM_IDS``."""
        return self.user(ADMIN_ID, first_name="Operator")

    def user(self, user_id: int, first_name: str = "Sari") -> FakeUser:
        """A Telegram user talking to the bot."""
        if user_id not in self.users:
            self.users[user_id] = self.telegram.user(user_id, first_name=first_name)
        return self.users[user_id]

    async def invite_seller(self, user_id: int, first_name: str = "Sari") -> FakeUser:
        """Have the operator invite ``user_id`` and the person accept: a seller."""
        mark = self.telegram.mark()
        await self.admin.send("/invite")
        link = await self.telegram.wait_for_message(
            ADMIN_ID,
            lambda message: _INVITE_LINK.search(message.text or "") is not None,
            after=mark,
        )
        match = _INVITE_LINK.search(link.text or "")
        assert match is not None
        seller = self.user(user_id, first_name)
        mark = self.telegram.mark()
        await seller.send(f"/start {match.group(1)}")
        # The welcome is the last thing joining does: a test's next wait starts after it.
        await self.telegram.wait_for_message(user_id, after=mark)
        return seller

    async def pay(self, code: Code, amount: int, *, deliver: bool = True) -> str:
        """A buyer pays ``amount`` into ``code``; Pivot's charge id."""
        assert code.pivot_session_id is not None
        charge = self.simulator.record_charge(code.pivot_session_id, amount, deliver=deliver)
        return charge.id

    async def codes_of(self, seller_id: int) -> list[Code]:
        """The seller's codes, newest first."""
        summaries = await self.services.db.codes.list_for_seller(seller_id, offset=0, limit=100)
        return [summary.code for summary in summaries]


def make_settings(
    *,
    home: Path | str,
    telegram_url: str,
    pivot_url: str,
    http_port: int,
    admins: tuple[int, ...] = (ADMIN_ID,),
    webhook_url: str | None = None,
    **overrides: Any,
) -> Settings:
    """Settings as an operator would write them in ``.env``, for the stand-ins; the database
    in the folder ``home`` (SQLite), or at the PostgreSQL URL ``home``."""
    values: dict[str, Any] = {
        "telegram_bot_token": BOT_TOKEN,
        "telegram_api_url": telegram_url,
        "pivot_base_url": pivot_url,
        "pivot_client_id": CLIENT_ID,
        "pivot_client_secret": CLIENT_SECRET,
        "pivot_callback_api_key": CALLBACK_KEY,
        **(
            {"database_url": home}
            if isinstance(home, str)
            else {"database_path": home / "data" / "kodebayar.db"}
        ),
        "admin_telegram_ids": ",".join(str(admin) for admin in admins),
        "http_host": "127.0.0.1",
        "http_port": http_port,
        "log_level": "DEBUG",
    }
    if webhook_url is not None:
        values["telegram_webhook_url"] = webhook_url
        values["telegram_webhook_secret"] = WEBHOOK_SECRET
    values.update(overrides)
    return Settings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def stand_ins(
    http_port: int,
    *,
    flood_control: bool = False,
    inline_mode: bool = True,
    simulator_config: Mapping[str, Any] | None = None,
) -> AsyncIterator[tuple[FakeTelegram, str, Simulator, str]]:
    """The fake Bot API and the Pivot simulator (callbacks to ``http_port``), served.

    ``inline_mode`` is the bot's BotFather setting; ``simulator_config`` overrides
    ``SimulatorConfig`` fields (a QRIS quota, VA ranges...).
    """
    telegram = FakeTelegram(token=BOT_TOKEN, flood=TELEGRAM_LIMITS if flood_control else None)
    telegram.inline_mode = inline_mode
    simulator_app = create_app(
        SimulatorConfig(
            callback_url=f"http://127.0.0.1:{http_port}/pivot/callback",
            callback_key=CALLBACK_KEY,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            **{"callback_retry_delays": (0.2, 0.5, 1.0, 2.0), **(simulator_config or {})},
        )
    )
    async with serving(telegram.app) as tg_server, serving(simulator_app) as pivot_server:
        try:
            yield telegram, tg_server.url, simulator_app.state.simulator, pivot_server.url
        finally:
            await telegram.aclose()


@contextlib.asynccontextmanager
async def running_bot(
    home: Path | str,
    *,
    admins: tuple[int, ...] = (ADMIN_ID,),
    webhook: bool = False,
    flood_control: bool = False,
    inline_mode: bool = True,
    simulator_config: Mapping[str, Any] | None = None,
    confirm_within: float = CONFIRM_WITHIN,
    confirm_grace: float = CONFIRM_GRACE,
    **overrides: Any,
) -> AsyncIterator[BotEnv]:
    """The bot started like ``kodebayar run`` against fresh stand-ins; stopped afterwards.

    ``home`` is where it keeps its data: a folder (SQLite's file in ``data/`` there) or a
    PostgreSQL URL (a test's ``bot_home`` is either, by engine).

    ``inline_mode`` is the bot's BotFather setting; ``simulator_config`` overrides the
    simulator's configuration, ``overrides`` the bot's settings; ``confirm_within`` and
    ``confirm_grace`` shorten the confirmation's waits (``Runtime``).
    """
    port = free_port()
    async with stand_ins(
        port,
        flood_control=flood_control,
        inline_mode=inline_mode,
        simulator_config=simulator_config,
    ) as (
        telegram,
        telegram_url,
        simulator,
        simulator_url,
    ):
        settings = make_settings(
            home=home,
            telegram_url=telegram_url,
            pivot_url=simulator_url,
            http_port=port,
            admins=admins,
            webhook_url=f"http://127.0.0.1:{port}/telegram/webhook" if webhook else None,
            **overrides,
        )
        # Paced as Telegram is, or, with the fake's flood control off, as freely as the fake.
        runtime = Runtime(
            settings,
            sender=None if flood_control else unpaced_sender(),
            confirm_within=confirm_within,
            confirm_grace=confirm_grace,
        )
        try:
            await runtime.start()
            await runtime.leading()  # at once: the only process on its database
            yield BotEnv(telegram, simulator, simulator_url, runtime, settings)
        finally:
            await runtime.stop()
