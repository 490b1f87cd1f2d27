"""The chats the bot is in and their messages as they show now, the users' and the bot's.

A chat the fake has not seen is made up: a private chat named after a positive id, a group for a
negative one. Users and the bot share a chat's message ids, as on Telegram.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from tests.standins.botapi.records import JSONDict, inline_buttons

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?(?=\s|$)")


@dataclass(frozen=True)
class Shown:
    """A message as the chat shows it now, with the parse mode of its text."""

    json: JSONDict
    parse_mode: str | None = None


class Chats:
    """Chats by id and every message in them, after edits and deletions."""

    def __init__(self, bot_id: int) -> None:
        self._bot_id = bot_id
        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], Shown] = {}
        self._last_message_id: dict[int, int] = {}

    def open_private(self, user_id: int, first_name: str, username: str | None) -> None:
        """The private chat of a user with the bot (its id is the user's)."""
        chat: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        if username is not None:
            chat["username"] = username
        self._chats[user_id] = chat

    def new_message(self, chat_id: int, sender: JSONDict, content: JSONDict) -> JSONDict:
        """A message in ``chat_id`` with the chat's next id."""
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return {
            "message_id": message_id,
            "from": sender,
            "chat": self._chat_json(chat_id),
            "date": int(time.time()),
            **content,
        }

    def user_message(self, chat_id: int, sender: JSONDict, text: str) -> JSONDict:
        """A text message from a user, shown in the chat; a leading /command gets its entity."""
        content: JSONDict = {"text": text}
        if command := _COMMAND.match(text):
            length = len(command.group().encode("utf-16-le")) // 2  # Telegram counts UTF-16
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self.new_message(chat_id, sender, content)
        self.show(message)
        return message

    def show(self, message: JSONDict, parse_mode: str | None = None) -> None:
        """Show ``message`` in its chat, in place of what it showed before."""
        self._messages[(message["chat"]["id"], message["message_id"])] = Shown(message, parse_mode)

    def shown(self, chat_id: int, message_id: int) -> Shown | None:
        """A message as shown now; None if there is none."""
        return self._messages.get((chat_id, message_id))

    def delete(self, chat_id: int, message_id: int) -> bool:
        """Remove a message; whether there was one."""
        return self._messages.pop((chat_id, message_id), None) is not None

    def message_json(self, chat_id: int, message_id: int) -> JSONDict:
        """A message as the chat shows it now (after edits), as Bot API JSON."""
        shown = self.shown(chat_id, message_id)
        if shown is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return shown.json

    def bot_message(self, chat_id: int, message_id: int) -> JSONDict:
        """A message the bot sent to ``chat_id``; LookupError otherwise."""
        shown = self.shown(chat_id, message_id)
        if shown is None or shown.json["from"]["id"] != self._bot_id:
            raise LookupError(f"the bot sent no message {message_id} to chat {chat_id}")
        return shown.json

    def buttons(self, chat_id: int, message_id: int) -> list[JSONDict]:
        """The inline buttons a bot message shows now."""
        return inline_buttons(self.bot_message(chat_id, message_id).get("reply_markup"))

    def _chat_json(self, chat_id: int) -> JSONDict:
        """The Chat object for ``chat_id``, made up for a chat not seen before."""
        if chat_id not in self._chats:
            self._chats[chat_id] = (
                {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
                if chat_id > 0
                else {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
            )
        return self._chats[chat_id]
