"""``FakeTelegram``: the fake Bot API's state and app, what tests control and what they read."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from starlette.applications import Starlette

from tests.standins.botapi.callbacks import CallbackQueries
from tests.standins.botapi.chats import Chats
from tests.standins.botapi.faults import Faults, RandomFaults
from tests.standins.botapi.files import FileStore
from tests.standins.botapi.flood import TELEGRAM_LIMITS, FloodControl, FloodLimits
from tests.standins.botapi.inline import InlineMode
from tests.standins.botapi.messages import BotMessages
from tests.standins.botapi.polling import LongPolling
from tests.standins.botapi.profile import BotProfile
from tests.standins.botapi.records import (
    AnsweredCallback,
    Call,
    Edit,
    InlineAnswer,
    JSONDict,
    SentMessage,
    ViaBotMessage,
    WebhookDelivery,
)
from tests.standins.botapi.routes import BotApiRoutes, Handler
from tests.standins.botapi.updates import UpdateQueue
from tests.standins.botapi.users import FakeUser
from tests.standins.botapi.waiting import first_record
from tests.standins.botapi.webhook import Webhook

DEFAULT_TOKEN = "123456:TEST-token-kodebayar-fake-0123456789"

_R = TypeVar("_R", Call, SentMessage, Edit, InlineAnswer)


class FakeTelegram:
    """State and Starlette app of a fake Bot API for one bot; see the package docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "kodebayar_test_bot",
        *,
        bot_first_name: str = "Kodebayar Test",
        flood: FloodLimits | None = TELEGRAM_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        webhook_attempts: int = 3,
        webhook_retry_delay: float = 0.1,
    ) -> None:
        self.url: str | None = None  # set by tests that need links to the fake
        self._profile = BotProfile(token, bot_username, bot_first_name)
        self._flood = FloodControl(flood, clock)
        self._faults = Faults()
        self._files = FileStore()
        self._chats = Chats(self._profile.id)
        self._queue = UpdateQueue()
        self._webhook = Webhook(self._queue, webhook_attempts, webhook_retry_delay)
        self._polling = LongPolling(self._queue, lambda: self._webhook.is_set)
        self._inline = InlineMode(self._profile, self._files, self._queue)
        self._messages = BotMessages(
            self._profile, self._chats, self._files, self._flood, self._inline
        )
        self._callbacks = CallbackQueries(self._chats, self._queue)
        profile, messages = self._profile, self._messages
        methods: dict[str, Handler] = {
            "getMe": profile.get_me,
            "getUpdates": self._polling.get_updates,
            "setWebhook": self._webhook.set_webhook,
            "deleteWebhook": self._webhook.delete_webhook,
            "getWebhookInfo": self._webhook.get_webhook_info,
            "sendMessage": messages.send_message,
            "sendPhoto": messages.send_photo,
            "sendDocument": messages.send_document,
            "sendMediaGroup": messages.send_media_group,
            "sendChatAction": messages.send_chat_action,
            "editMessageText": messages.edit_message_text,
            "editMessageCaption": messages.edit_message_caption,
            "editMessageReplyMarkup": messages.edit_message_reply_markup,
            "deleteMessage": messages.delete_message,
            "deleteMessages": messages.delete_messages,
            "answerCallbackQuery": self._callbacks.answer_callback_query,
            "answerInlineQuery": self._inline.answer_inline_query,
            "setMyCommands": profile.set_my_commands,
            "getMyCommands": profile.get_my_commands,
            "deleteMyCommands": profile.delete_my_commands,
            "setChatMenuButton": profile.set_chat_menu_button,
            "getChatMenuButton": profile.get_chat_menu_button,
            "getFile": self._files.get_file,
            "close": profile.say_yes,
            "logOut": profile.say_yes,
        }
        self._routes = BotApiRoutes(
            token,
            methods,
            files=self._files,
            faults=self._faults,
            webhook=self._webhook,
            clock=clock,
        )

    # ------------------------------------------------------------------ the bot and its app

    @property
    def app(self) -> Starlette:
        """The ASGI app to serve (``tests.standins.serving``)."""
        return self._routes.app

    @property
    def token(self) -> str:
        """The bot's token, in the paths it calls."""
        return self._profile.token

    @property
    def bot_username(self) -> str:
        """The bot's @username."""
        return self._profile.username

    @property
    def bot_id(self) -> int:
        """The bot's user id, the token's first part."""
        return self._profile.id

    @property
    def bot_first_name(self) -> str:
        """The bot's name."""
        return self._profile.first_name

    # ------------------------------------------------------------------ test-side controls

    @property
    def flood(self) -> FloodLimits | None:
        """The flood limits in force; None turns flood control off."""
        return self._flood.limits

    @flood.setter
    def flood(self, limits: FloodLimits | None) -> None:
        self._flood.limits = limits

    @property
    def inline_mode(self) -> bool:
        """Whether the bot's inline mode is on (BotFather's /setinline): getMe says so, and
        users' inline queries reach the bot only then. On unless turned off."""
        return self._profile.supports_inline_queries

    @inline_mode.setter
    def inline_mode(self, on: bool) -> None:
        self._profile.supports_inline_queries = on

    @property
    def inline_feedback(self) -> bool:
        """Whether the bot is told which inline result a user chose (/setinlinefeedback)."""
        return self._inline.feedback

    @inline_feedback.setter
    def inline_feedback(self, on: bool) -> None:
        self._inline.feedback = on

    @property
    def random_faults(self) -> RandomFaults | None:
        """Random failures of sends and edits; None (the default) for none."""
        return self._faults.random

    @random_faults.setter
    def random_faults(self, faults: RandomFaults | None) -> None:
        self._faults.random = faults

    def fail_next(
        self, method: str, count: int = 1, status: int = 500, retry_after: int | None = None
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with ``status`` and Telegram's wording."""
        self._faults.fail_next(method, count, status, retry_after)

    def block_chat(self, chat_id: int) -> None:
        """Make sends and edits to ``chat_id`` fail with 403, as after the user blocked the bot."""
        self._messages.blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undo ``block_chat``."""
        self._messages.blocked.discard(chat_id)

    def user(
        self,
        user_id: int,
        first_name: str = "Sari",
        username: str | None = None,
        language_code: str = "id",
    ) -> FakeUser:
        """A user in a private chat with the bot (the chat id is the user id)."""
        self._chats.open_private(user_id, first_name, username)
        return FakeUser(self, user_id, first_name, username, language_code)

    def inject(self, update: JSONDict) -> int:
        """Queue an update for getUpdates or the webhook; its new ``update_id``."""
        return self._queue.inject(update)

    async def aclose(self) -> None:
        """Stop pushing to the webhook and close the pusher's HTTP client."""
        await self._webhook.aclose()

    # ------------------------------------------------------------------ what the bot did

    @property
    def calls(self) -> list[Call]:
        """Every request the bot made, in order of completion."""
        return self._routes.calls

    @property
    def updates(self) -> list[JSONDict]:
        """Every update injected, in order."""
        return self._queue.updates

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        """The bot's accepted answerCallbackQuery calls, in order."""
        return self._callbacks.answered

    @property
    def inline_answers(self) -> list[InlineAnswer]:
        """The bot's accepted answerInlineQuery calls, in order."""
        return self._inline.answers

    def via_bot_messages(self, chat_id: int | None = None) -> list[ViaBotMessage]:
        """Messages users posted by choosing the bot's inline results, in ``chat_id`` or
        anywhere, in order, as their chats show them now."""
        return self._inline.posted(chat_id)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every try at pushing an update to the webhook, in order."""
        return self._webhook.deliveries

    @property
    def menu_buttons(self) -> dict[int | None, JSONDict]:
        """setChatMenuButton by chat id; None for the default menu button."""
        return self._profile.menu_buttons

    @property
    def flood_429_count(self) -> int:
        """How many sends and edits flood control refused."""
        return self._flood.refused

    def mark(self) -> int:
        """A position in the call order: pass it as ``after=`` to see only what comes next."""
        return self._routes.next_seq

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of ``method``, successful or not, in order of completion."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent successfully, in order, to ``chat_id`` or anywhere."""
        return [m for m in self._messages.sent if chat_id is None or m.chat_id == chat_id]

    def last_message(self, chat_id: int) -> SentMessage:
        """The last message the bot sent to ``chat_id``; LookupError if there is none."""
        sent = self.sent_messages(chat_id)
        if not sent:
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def edits(self, chat_id: int | None = None) -> list[Edit]:
        """Successful edits, in order, in ``chat_id`` or anywhere."""
        return [e for e in self._messages.edits if chat_id is None or e.chat_id == chat_id]

    def message_json(self, chat_id: int, message_id: int) -> JSONDict:
        """A message as the chat shows it now (after edits), as Bot API JSON."""
        return self._chats.message_json(chat_id, message_id)

    @property
    def commands(self) -> dict[str, list[JSONDict]]:
        """setMyCommands for the default scope, by language_code ("" for all languages)."""
        return self._profile.commands

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands set for ``scope`` (default scope if None) and ``language_code``."""
        return self._profile.commands_for(scope, language_code)

    @property
    def unconfirmed_updates(self) -> int:
        """Updates injected that the bot has not yet confirmed having fetched."""
        return self._queue.unconfirmed

    @property
    def long_polls_waiting(self) -> int:
        """How many getUpdates requests are waiting for an update right now."""
        return self._polling.waiting

    async def wait_for_message(
        self,
        chat_id: int | None = None,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> SentMessage:
        """The first message sent after ``after`` (default: now) to ``chat_id`` that matches."""
        return await self._first(
            lambda: self.sent_messages(chat_id),
            predicate,
            timeout,
            after,
            f"a message to chat {chat_id}",
        )

    async def wait_for_edit(
        self,
        chat_id: int | None = None,
        predicate: Callable[[Edit], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Edit:
        """The first edit after ``after`` (default: now) in ``chat_id`` that matches."""
        return await self._first(
            lambda: self.edits(chat_id), predicate, timeout, after, f"an edit in chat {chat_id}"
        )

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Call:
        """The first call of ``method`` that arrived after ``after`` (default: now) and matches."""
        return await self._first(
            lambda: self.calls_to(method), predicate, timeout, after, f"a {method} call"
        )

    async def wait_for_inline_answer(
        self, inline_query_id: str, *, timeout: float = 5.0
    ) -> InlineAnswer:
        """The bot's answer to the inline query ``inline_query_id``."""
        return await self._first(
            lambda: self._inline.answers,
            lambda answer: answer.inline_query_id == inline_query_id,
            timeout,
            0,
            f"the answer to inline query {inline_query_id}",
        )

    async def _first(
        self,
        records: Callable[[], Iterable[_R]],
        predicate: Callable[[_R], bool] | None,
        timeout: float,
        after: int | None,
        what: str,
    ) -> _R:
        """The first of ``records`` from ``after`` (default: now) on that matches, checked again
        whenever a call completes."""
        return await first_record(
            self._routes.calls_changed,
            records,
            predicate,
            after=self.mark() if after is None else after,
            timeout=timeout,
            what=what,
            context=self._recent_messages,
        )

    def _recent_messages(self) -> str:
        """The last messages sent, for a wait that timed out."""
        return f"last messages sent: {[(m.chat_id, m.text) for m in self._messages.sent[-5:]]}"
