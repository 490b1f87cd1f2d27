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
