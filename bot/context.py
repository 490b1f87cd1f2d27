"""What every handler gets: python-telegram-bot's context plus the bot's services.

The services live in ``bot_data`` under one key, set once by ``bot.app`` before the first
update; handlers reach them as ``context.services`` rather than through globals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from telegram.ext import CallbackContext, ContextTypes, ExtBot

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["CONTEXT_TYPES", "SERVICES_KEY", "Context"]

SERVICES_KEY = "services"


class Context(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, with typed access to the services."""

    @property
    def services(self) -> Services:
        """The database, the Pivot client and the rest, as wired by ``bot.app``."""
        return cast("Services", self.bot_data[SERVICES_KEY])


CONTEXT_TYPES = ContextTypes(context=Context)
