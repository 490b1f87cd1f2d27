"""Button presses: the callback queries users make and the bot's answers to them."""

from __future__ import annotations

import itertools

from tests.standins.botapi.chats import Chats
from tests.standins.botapi.errors import bad_request
from tests.standins.botapi.params import ApiRequest
from tests.standins.botapi.records import AnsweredCallback, JSONDict, inline_buttons
from tests.standins.botapi.updates import UpdateQueue

_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


class CallbackQueries:
    """Queries not answered yet, and the answers the bot gave."""

    def __init__(self, chats: Chats, queue: UpdateQueue) -> None:
        self.answered: list[AnsweredCallback] = []
        self._chats = chats
        self._queue = queue
        self._open: set[str] = set()
        self._ids = itertools.count(700_000_000_000_000_001)

    def press(
        self, chat_id: int, sender: JSONDict, message_id: int, data: str, *, forged: bool = False
    ) -> str:
        """Queue a press on a button the message shows now; LookupError if it has none.

        ``forged`` skips that check: a modified client can send any data on any message.
        """
        message = self._chats.bot_message(chat_id, message_id)
        buttons = inline_buttons(message.get("reply_markup"))
        if not forged and not any(button.get("callback_data") == data for button in buttons):
            raise LookupError(
                f"message {message_id} has no button with callback_data {data!r}; "
                f"its buttons: {buttons}"
            )
        query_id = str(next(self._ids))
        self._open.add(query_id)
        query = {
            "id": query_id,
            "from": sender,
            "message": message,
            "chat_instance": str(10**18 + chat_id),
            "data": data,
        }
        self._queue.inject({"callback_query": query})
        return query_id

    async def answer_callback_query(self, req: ApiRequest) -> object:
        """``answerCallbackQuery``: once per open query."""
        query_id = str(req.params.get("callback_query_id") or "")
        if query_id not in self._open:
            raise bad_request(_QUERY_INVALID)
        self._open.discard(query_id)
        text = req.params.get("text")
        url = req.params.get("url")
        self.answered.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=None if text is None else str(text),
                show_alert=bool(req.params.get("show_alert", False)),
                url=None if url is None else str(url),
                seq=req.seq,
            )
        )
        return True
