"""Logging for the bot: one line per event, and no secret in any of them.

The bot token sits in every Bot API URL (``/bot<token>/sendMessage``) and libraries put URLs
and headers into log messages and exception texts, so masking happens on the handler, after
formatting, for the message, the traceback and the stack alike. The masking itself is
``pivot_client``'s; the bot adds the shapes of Telegram's credentials and of its deep-link
tokens (``?start=<token>``, ``/start <token>``), which PTB's DEBUG lines carry in every update
and message text: an invitation token admits whoever holds it.

aiosqlite logs every statement with its parameters at DEBUG (invitation tokens, callback
bodies, customer names): it never logs below INFO here, whatever ``LOG_LEVEL`` says.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

import pivot_client

__all__ = ["MASK", "RedactingFilter", "configure_logging", "redact"]

MASK = pivot_client.MASK
TELEGRAM_PATTERNS = (
    # Bot API tokens: "<bot id>:<35 characters>", in URLs or anywhere else.
    re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"),
    re.compile(r"(?i)(x-telegram-bot-api-secret-token[\"']?\s*[:=,]\s*[\"']?)[^\s\"',}\])]+"),
    # Invitation (and deep-link) tokens, in links and in the /start command they become.
    re.compile(r"(\?start=|/start\s+)[A-Za-z0-9_-]+"),
)


def redact(message: str, secrets: Iterable[str] = ()) -> str:
    """``message`` with every known secret and anything shaped like a credential masked."""
    return pivot_client.redact(message, secrets, TELEGRAM_PATTERNS)


class RedactingFilter(pivot_client.RedactingFilter):
    """``pivot_client``'s filter, also masking Telegram's credentials; install it on handlers."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(secrets, TELEGRAM_PATTERNS)


def configure_logging(level: int, secrets: Iterable[str] = ()) -> None:
    """One line per event on stderr, with secrets masked; chatty HTTP loggers kept quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # Its DEBUG lines are every SQL statement with its parameters.
    logging.getLogger("aiosqlite").setLevel(max(level, logging.INFO))
