"""``FakeUser``: a person in a private chat with the bot, driven by the test."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.standins.botapi.records import InlineAnswer, JSONDict, SentMessage, ViaBotMessage

if TYPE_CHECKING:
    from tests.standins.botapi.fake import FakeTelegram


class FakeUser:
    """A user in a private chat with the bot, driven by the test."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str = "Sari",
        username: str | None = None,
        language_code: str = "id",
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def chat_id(self) -> int:
        """A private chat's id is the user's id."""
        return self.id

    def to_json(self) -> JSONDict:
        """The user as a Bot API User object."""
        user: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username is not None:
            user["username"] = self.username
        user["language_code"] = self.language_code
        return user

    async def send(self, text: str) -> int:
        """Send ``text`` to the bot (a leading /command gets its bot_command entity); update id."""
        message = self.fake._chats.user_message(self.chat_id, self.to_json(), text)
        return self.fake.inject({"message": message})

    async def press(self, message_id: int, callback_data: str) -> str:
        """Press the button with ``callback_data`` on a bot message; the callback query id."""
        return self.fake._callbacks.press(self.chat_id, self.to_json(), message_id, callback_data)

    async def forge_press(self, message_id: int, callback_data: str) -> str:
        """Send ``callback_data`` from a bot message that has no such button (a forged press)."""
        return self.fake._callbacks.press(
            self.chat_id, self.to_json(), message_id, callback_data, forged=True
        )

    async def press_button(self, message_id: int, text_contains: str) -> str:
        """Press the one button whose text contains ``text_contains`` (any case)."""
        buttons = self.fake._chats.buttons(self.chat_id, message_id)
        matches = [b for b in buttons if text_contains.casefold() in str(b["text"]).casefold()]
        if len(matches) != 1 or "callback_data" not in matches[0]:
            raise LookupError(
                f"expected one callback button containing {text_contains!r} on message "
                f"{message_id}, found {matches}; its buttons: {buttons}"
            )
        return await self.press(message_id, matches[0]["callback_data"])

    async def inline_query(
        self, query: str = "", *, offset: str = "", chat_type: str = "private"
    ) -> str:
        """Type ``@bot query`` in a chat of ``chat_type`` (``offset``: an answer's
        ``next_offset``, as the app asks for more when the user scrolls); the query id."""
        return self.fake._inline.ask(self.to_json(), query, offset, chat_type)

    async def choose(
        self, answer: InlineAnswer, result_id: str, chat_with: FakeUser
    ) -> ViaBotMessage:
        """Pick the result ``result_id`` of ``answer`` in this user's private chat with
        ``chat_with``: the message as posted there via the bot."""
        chat = {"id": chat_with.id, "type": "private", "first_name": chat_with.first_name}
        return self.fake._inline.choose(self.to_json(), answer, result_id, chat)

    def messages(self) -> list[SentMessage]:
        """Messages the bot sent to this user's chat, in order."""
        return self.fake.sent_messages(self.chat_id)

    async def next_message(
        self,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> SentMessage:
        """``wait_for_message`` for this user's chat."""
        return await self.fake.wait_for_message(
            self.chat_id, predicate, timeout=timeout, after=after
        )
