"""What every handler gets: python-telegram-bot's context plus the bot's services and the seller.

The services live in ``bot_data`` under one key, set once by ``bot.app`` before the first
update; handlers reach them as ``context.services`` rather than through globals. The seller
behind an update is read once, by the access gate (``bot.handlers.access.gate``), and carried
on the context: python-telegram-bot builds one context per update and hands the same one to
every handler group, so the handlers after the gate read ``context.seller`` instead of the
database (python-telegram-bot's custom-context pattern, ``examples/contexttypesbot.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.texts import DEFAULT_LANGUAGE

if TYPE_CHECKING:
    from bot.services import Services
    from storage import Seller

__all__ = ["CONTEXT_TYPES", "SERVICES_KEY", "Context"]

SERVICES_KEY = "services"

_T = TypeVar("_T")


class Context(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, with typed access to the services and the update's seller."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._seller: Seller | None = None

    @property
    def services(self) -> Services:
        """The database, the Pivot client and the rest, as wired by ``bot.app``."""
        return cast("Services", self.bot_data[SERVICES_KEY])

    @property
    def seller(self) -> Seller:
        """The seller behind the update, as the gate found or registered them."""
        if self._seller is None:
            raise LookupError("an update passed the gate without a seller")
        return self._seller

    @property
    def known(self) -> bool:
        """Whether the update comes from a seller (a stranger may be opening an invitation)."""
        return self._seller is not None

    @property
    def language(self) -> str:
        """The seller's language, or the default for a stranger."""
        return DEFAULT_LANGUAGE if self._seller is None else self._seller.language

    def recalled(self, key: str, kind: type[_T]) -> _T | None:
        """What a question kept under ``key`` for this person (``user_data``), if a ``kind``."""
        value = self.user_data.get(key) if self.user_data is not None else None
        return value if isinstance(value, kind) else None

    def forget(self, key: str) -> None:
        """Drop what was kept under ``key`` for this person."""
        if self.user_data is not None:
            self.user_data.pop(key, None)

    def admit(self, seller: Seller) -> None:
        """Carry ``seller`` for the handlers after the gate (called by the gate only)."""
        self._seller = seller


CONTEXT_TYPES = ContextTypes(context=Context)
