"""Inline mode: a user types ``@bot words`` in any chat, the bot answers with answerInlineQuery,
the user picks a result, and the user's app posts it in that chat "via @bot".

As on Telegram:

- queries come only while the bot's inline mode is on (BotFather's ``/setinline``; getMe's
  ``supports_inline_queries``); each is answered once;
- an answer is checked: at most 50 results, ids of 1 to 64 bytes and unique, ``next_offset``
  at most 64 bytes, the result types the fake knows with their required fields (an article
  with a title and a message; a cached photo whose file id the bot uploaded), texts and
  captions as the HTML parser checks them, inline keyboards as on messages;
- a chosen result is posted from the answer the user was shown, whatever the bot thinks of it
  by then: the bot learns of it afterwards, from a ``chosen_inline_result`` update that comes
  only while inline feedback is on (BotFather's ``/setinlinefeedback``), and that carries an
  ``inline_message_id`` only when the message has an inline keyboard. With that id the bot may
  edit the message (``messages``); it can never delete it.

Only articles with a text message and cached photos are known; the chats messages are posted
in are a user's private chats, apart from the bot's own chats.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from tests.standins.botapi.chats import Shown
from tests.standins.botapi.errors import bad_request
from tests.standins.botapi.files import FileStore
from tests.standins.botapi.html import check_caption, check_text
from tests.standins.botapi.params import ApiRequest, parse_mode, reply_markup
from tests.standins.botapi.profile import BotProfile
from tests.standins.botapi.records import InlineAnswer, JSONDict, ViaBotMessage
from tests.standins.botapi.updates import UpdateQueue

_MAX_RESULTS = 50
_MAX_ID_BYTES = 64
_CHAT_TYPES = frozenset({"sender", "private", "group", "supergroup", "channel"})
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


@dataclass
class _Posted:
    """A message posted via the bot: the chat shows ``shown``; edits replace it."""

    shown: Shown
    result_id: str
    inline_message_id: str | None
    photo: bytes | None
    edited: bool = False

    def record(self) -> ViaBotMessage:
        message = self.shown.json
        return ViaBotMessage(
            chat_id=message["chat"]["id"],
            message_id=message["message_id"],
            sender_id=message["from"]["id"],
            result_id=self.result_id,
            inline_message_id=self.inline_message_id,
            text=message.get("text", message.get("caption")),
            parse_mode=self.shown.parse_mode,
            photo=self.photo,
            reply_markup=message.get("reply_markup"),
            edited=self.edited,
        )


class InlineMode:
    """Open queries, the bot's answers, and the messages users posted from them."""

    def __init__(self, bot: BotProfile, files: FileStore, queue: UpdateQueue) -> None:
        self.answers: list[InlineAnswer] = []
        self.feedback = True  # BotFather's /setinlinefeedback
        self._bot = bot
        self._files = files
        self._queue = queue
        self._open: dict[str, JSONDict] = {}  # query id -> the query, until answered
        self._posted: list[_Posted] = []
        self._by_inline_id: dict[str, _Posted] = {}
        self._last_message_id: dict[int, int] = {}
        self._query_ids = itertools.count(800_000_000_000_000_001)
        self._inline_ids = itertools.count(1)

    def ask(self, sender: JSONDict, query: str, offset: str, chat_type: str) -> str:
        """Queue the inline query of ``sender`` typing ``@bot query`` in a ``chat_type`` chat
        (``offset``: the answer's ``next_offset`` when scrolling on); the query id."""
        if not self._bot.supports_inline_queries:
            raise LookupError(f"inline mode is off for @{self._bot.username}: no query is sent")
        if chat_type not in _CHAT_TYPES:
            raise ValueError(f"no chat type {chat_type!r}")
        query_id = str(next(self._query_ids))
        inline_query = {
            "id": query_id,
            "from": sender,
            "query": query[:256],  # Telegram cuts a query at 256 characters
            "offset": offset,
            "chat_type": chat_type,
        }
        self._open[query_id] = inline_query
        self._queue.inject({"inline_query": inline_query})
        return query_id

    async def answer_inline_query(self, req: ApiRequest) -> object:
        """``answerInlineQuery``: once per open query, its results checked."""
        query_id = str(req.params.get("inline_query_id") or "")
        query = self._open.get(query_id)
        if query is None:
            raise bad_request(_QUERY_INVALID)
        results = req.params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse results JSON object")
        if len(results) > _MAX_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        ids: set[str] = set()
        for result in results:
            result_id = self._check(result)
            if result_id in ids:
                raise bad_request("RESULT_ID_DUPLICATE")
            ids.add(result_id)
        next_offset = str(req.params.get("next_offset") or "")
        if len(next_offset.encode()) > _MAX_ID_BYTES:
            raise bad_request("NEXT_OFFSET_INVALID")
        cache_time = req.params.get("cache_time", 300)
        if isinstance(cache_time, bool) or not isinstance(cache_time, int) or cache_time < 0:
            raise bad_request("CACHE_TIME_INVALID")
        del self._open[query_id]
        self.answers.append(
            InlineAnswer(
                inline_query_id=query_id,
                query=query["query"],
                offset=query["offset"],
                results=results,
                cache_time=cache_time,
                is_personal=bool(req.params.get("is_personal", False)),
                next_offset=next_offset,
                seq=req.seq,
            )
        )
        return True

    def choose(
        self, sender: JSONDict, answer: InlineAnswer, result_id: str, chat: JSONDict
    ) -> ViaBotMessage:
        """``sender`` picks result ``result_id`` of ``answer`` in ``chat``: posted there as
        answered, then the bot told (with inline feedback on)."""
        result = answer.result(result_id)
        content: JSONDict
        photo: bytes | None = None
        if result["type"] == "photo":
            stored = self._files.get(result["photo_file_id"])
            assert stored is not None  # checked when the bot answered
            photo = stored.data
            content = {"photo": self._files.photo_sizes(photo)}
            text, mode = result.get("caption"), parse_mode(result)
            if text:
                content["caption"] = text
        else:
            message = result["input_message_content"]
            content = {"text": message["message_text"]}
            mode = parse_mode(message)
        markup = reply_markup(result)
        inline_message_id = None
        if markup is not None:
            content["reply_markup"] = markup
            inline_message_id = f"AQAAA{next(self._inline_ids):08d}-{self._bot.id}"
        chat_id = chat["id"]
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        json: JSONDict = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            "via_bot": self._bot.to_json(),
            **content,
        }
        posted = _Posted(Shown(json, mode), result_id, inline_message_id, photo)
        self._posted.append(posted)
        if inline_message_id is not None:
            self._by_inline_id[inline_message_id] = posted
        if self.feedback:
            chosen: JSONDict = {"result_id": result_id, "from": sender, "query": answer.query}
            if inline_message_id is not None:
                chosen["inline_message_id"] = inline_message_id
            self._queue.inject({"chosen_inline_result": chosen})
        return posted.record()

    def posted(self, chat_id: int | None = None) -> list[ViaBotMessage]:
        """Messages posted via the bot, in order, in ``chat_id`` or anywhere, as shown now."""
        records = [posted.record() for posted in self._posted]
        return [record for record in records if chat_id is None or record.chat_id == chat_id]

    def shown(self, inline_message_id: str) -> Shown:
        """An inline message as shown now, for an edit; 400 as Telegram answers if unknown."""
        posted = self._by_inline_id.get(inline_message_id)
        if posted is None:
            raise bad_request("MESSAGE_ID_INVALID")
        return posted.shown

    def show(self, inline_message_id: str, shown: Shown) -> ViaBotMessage:
        """Show an edit of an inline message in place of what it showed."""
        posted = self._by_inline_id[inline_message_id]
        posted.shown, posted.edited = shown, True
        return posted.record()

    def _check(self, result: object) -> str:
        """A result's id once its fields are as Telegram requires; 400 otherwise."""
        if not isinstance(result, dict):
            raise bad_request("can't parse results JSON object")
        result_id = result.get("id")
        if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= _MAX_ID_BYTES:
            raise bad_request("RESULT_ID_INVALID")
        kind = result.get("type")
        if kind == "article":
            if not result.get("title"):
                raise bad_request("RESULT_TITLE_EMPTY")
            message = result.get("input_message_content")
            if not isinstance(message, dict) or "message_text" not in message:
                raise bad_request("SEND_MESSAGE_MEDIA_INVALID")
            text = str(message["message_text"] or "")
            if not text.strip():
                raise bad_request("MESSAGE_EMPTY")
            check_text(text, parse_mode(message))
        elif kind == "photo":
            file_id = result.get("photo_file_id")
            if not isinstance(file_id, str) or self._files.get(file_id) is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if "input_message_content" in result:
                raise bad_request("input_message_content on a photo: not known to the fake")
            check_caption(str(result.get("caption") or ""), parse_mode(result))
        else:
            raise bad_request(f"RESULT_TYPE_INVALID: the fake knows no {kind!r} results")
        reply_markup(result)
        return result_id
