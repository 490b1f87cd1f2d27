"""The stand-ins tests, benchmarks and docs run the bot against; import them from here.

- the fake Telegram Bot API and its users (``botapi``: ``FakeTelegram``, ``FakeUser``...);
- the bot running in-process against it and the Pivot simulator (``harness``), or as a child
  process (``process``), and a seller's steps in the chat (``chat``);
- records to start from the money: database rows and Pivot's callbacks (``records``);
- a leader lease granted and lost by hand (``lease``);
- QR codes read back from the bot's PNGs (``qr``); Telegram taking QR photos (``photos``); a
  clock moved by hand and a pace check (``clock``);
- apps served on loopback, and waiting for a condition with a deadline (``servers``);
- a throwaway PostgreSQL server in a temporary folder (``postgres``), and another process
  holding the write lock on either engine (``writers``);
- the real nginx running the shipped ``deploy/nginx.conf`` in front of them (``proxy``), and
  bot processes on one PostgreSQL behind it, their leader killed mid-burst (``cluster``).

What ``__all__`` names is the stable surface; the modules behind it may move.
"""

from __future__ import annotations

from tests.standins.botapi.fake import FakeTelegram
from tests.standins.botapi.faults import RandomFaults
from tests.standins.botapi.flood import TELEGRAM_LIMITS, FloodLimits
from tests.standins.botapi.html import telegram_html_text
from tests.standins.botapi.records import (
    AnsweredCallback,
    Call,
    Edit,
    InlineAnswer,
    SentMessage,
    ViaBotMessage,
    WebhookDelivery,
)
from tests.standins.botapi.users import FakeUser
from tests.standins.botapi.webhook import SECRET_HEADER
from tests.standins.chat import (
    SELLER,
    buttons,
    card_after,
    is_card,
    new_seller,
    press,
    say,
    settle,
    to_amount,
)
from tests.standins.clock import FakeClock, assert_paced
from tests.standins.cluster import Cluster, Kill, payment_amounts, running_cluster
from tests.standins.harness import (
    ADMIN_ID,
    BOT_TOKEN,
    CALLBACK_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    SECRETS,
    BotEnv,
    qris_session,
    running_bot,
    simulator_codes,
    stand_ins,
)
from tests.standins.lease import FakeLease
from tests.standins.photos import FakePhotos
from tests.standins.postgres import PostgresError, PostgresServer, find_binaries
from tests.standins.process import REPOSITORY, BotProcess, bot_environment
from tests.standins.proxy import (
    NginxProxy,
    loopback_config,
    nginx_binary,
    replicas,
    running_proxy,
)
from tests.standins.qr import decode_qr, greyscale_pixels, ink_bands, png_size
from tests.standins.records import (
    NOW,
    add_code,
    add_seller,
    buyer_opens,
    charge_row,
    charge_success_body,
    code_row,
    new_charge,
    record_charge,
    unrecorded_charge,
)
from tests.standins.servers import LoopbackServer, free_port, serving, wait_for
from tests.standins.writers import another_process_writing

__all__ = [
    "ADMIN_ID",
    "BOT_TOKEN",
    "CALLBACK_KEY",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "NOW",
    "REPOSITORY",
    "SECRETS",
    "SECRET_HEADER",
    "SELLER",
    "TELEGRAM_LIMITS",
    "AnsweredCallback",
    "BotEnv",
    "BotProcess",
    "Call",
    "Cluster",
    "Edit",
    "FakeClock",
    "FakeLease",
    "FakePhotos",
    "FakeTelegram",
    "FakeUser",
    "FloodLimits",
    "InlineAnswer",
    "Kill",
    "LoopbackServer",
    "NginxProxy",
    "PostgresError",
    "PostgresServer",
    "RandomFaults",
    "SentMessage",
    "ViaBotMessage",
    "WebhookDelivery",
    "add_code",
    "add_seller",
    "another_process_writing",
    "assert_paced",
    "bot_environment",
    "buttons",
    "buyer_opens",
    "card_after",
    "charge_row",
    "charge_success_body",
    "code_row",
    "decode_qr",
    "find_binaries",
    "free_port",
    "greyscale_pixels",
    "ink_bands",
    "is_card",
    "loopback_config",
    "new_charge",
    "new_seller",
    "nginx_binary",
    "payment_amounts",
    "png_size",
    "press",
    "qris_session",
    "record_charge",
    "replicas",
    "running_bot",
    "running_cluster",
    "running_proxy",
    "say",
    "serving",
    "settle",
    "simulator_codes",
    "stand_ins",
    "telegram_html_text",
    "to_amount",
    "unrecorded_charge",
    "wait_for",
]
