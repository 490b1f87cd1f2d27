"""Whether the bot's inline mode is on, as Telegram says at start-up (getMe).

Sellers share a code into a buyer's chat by typing ``@bot`` there (``bot.handlers.inline``);
Telegram sends the bot those queries only while BotFather's ``/setinline`` is on. Off is no
reason not to start, since everything else works: the log says how to turn it on, and
``/healthz`` says ``inline: off`` until the bot is restarted with it on.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from telegram import Bot

__all__ = ["INLINE_OFF", "InlineStatus", "inline_status"]

logger = logging.getLogger(__name__)

INLINE_OFF = (
    "inline mode is off for @{bot}: sellers cannot share a code into a buyer's chat by typing "
    "@{bot} there. Turn it on in @BotFather: /setinline (any placeholder), and "
    "/setinlinefeedback (Enabled), so that a card shared just after its code was deactivated "
    "is replaced; then restart the bot"
)


class InlineStatus(StrEnum):
    """The ``inline`` field of ``/healthz``."""

    UNKNOWN = "unknown"  # Telegram not reached yet
    ON = "on"
    OFF = "off"


def inline_status(bot: Bot) -> InlineStatus:
    """Whether ``bot`` (initialised: its getMe answered) takes inline queries; a warning when
    it does not."""
    if bot.supports_inline_queries:
        return InlineStatus.ON
    logger.warning(INLINE_OFF.format(bot=bot.username))
    return InlineStatus.OFF
