"""What the fake Bot API keeps of the bot's requests, for tests to read back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One Bot API request as the fake read it, and the HTTP status it answered."""

    method: str
    params: JSONDict
    files: dict[str, bytes]
    status: int
    at: float  # the fake's clock when the request arrived
    seq: int  # arrival order; ``mark()`` and ``after=`` count in it


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent successfully (sendMessage/sendPhoto/sendDocument), as sent."""

    method: str
    chat_id: int
    message_id: int
    text: str | None  # the text, or the caption of a photo or document
    parse_mode: str | None
    reply_markup: JSONDict | None
    photo: bytes | None
    document: bytes | None
    params: JSONDict
    seq: int

    def buttons(self) -> list[JSONDict]:
        """The inline keyboard's buttons as sent, row by row."""
        return inline_buttons(self.reply_markup)


@dataclass(frozen=True)
class Edit:
    """A successful editMessageText, editMessageCaption or editMessageReplyMarkup."""

    method: str
    chat_id: int
    message_id: int
    text: str | None  # the new text or caption; None for a reply markup edit
    parse_mode: str | None
    reply_markup: JSONDict | None
    seq: int
    inline_message_id: str | None = None  # set for a message a user posted via the bot


@dataclass(frozen=True)
class InlineAnswer:
    """An accepted answerInlineQuery, with the query it answered."""

    inline_query_id: str
    query: str
    offset: str
    results: list[JSONDict]
    cache_time: int
    is_personal: bool
    next_offset: str
    seq: int

    def result(self, result_id: str) -> JSONDict:
        """The result with ``result_id``; LookupError if the answer has none."""
        for result in self.results:
            if result["id"] == result_id:
                return result
        raise LookupError(f"no result {result_id!r} in {[r['id'] for r in self.results]}")


@dataclass(frozen=True)
class ViaBotMessage:
    """A message a user posted by choosing an inline result, as its chat shows it now."""

    chat_id: int  # the chat it was posted in, as the poster sees it (a user's private chat)
    message_id: int
    sender_id: int
    result_id: str
    inline_message_id: str | None  # only with an inline keyboard, as Telegram gives it
    text: str | None  # the text, or the caption of a photo
    parse_mode: str | None
    photo: bytes | None
    reply_markup: JSONDict | None
    edited: bool

    def buttons(self) -> list[JSONDict]:
        """The inline keyboard's buttons, row by row."""
        return inline_buttons(self.reply_markup)


@dataclass(frozen=True)
class AnsweredCallback:
    """An accepted answerCallbackQuery."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    seq: int


@dataclass(frozen=True)
class WebhookDelivery:
    """One try at pushing an update to the webhook."""

    update_id: int
    attempt: int
    status: int | None  # None when no HTTP answer came back
    error: str | None  # None when the webhook answered 2xx


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file as getFile and the file route serve it."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


def inline_buttons(markup: JSONDict | None) -> list[JSONDict]:
    """The buttons of an inline keyboard, row by row."""
    rows: list[list[JSONDict]] = (markup or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]
