"""A fake Telegram Bot API server for end-to-end tests, faithful enough for python-telegram-bot 22.

Serve ``FakeTelegram().app`` on loopback with ``tests.helpers.servers.serving`` and point the bot
at it with ``base_url(f"{url}/bot")`` and ``base_file_url(f"{url}/file/bot")``. Tests act as users
through ``fake.user(...)`` and assert on what the bot did (``sent_messages``, ``edits``,
``wait_for_message``, ``calls``...).

Modelled as Telegram does it:

- requests as JSON, form-urlencoded or multipart (PTB sends forms whose values are all strings,
  nested objects as JSON text) on ``GET|POST /bot{token}/{method}``; answers
  ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``;
- long polling (``offset`` confirms, ``timeout`` waits and wakes at once on a new update,
  ``limit``, ``allowed_updates``; a newer getUpdates ends a waiting one with 409) and webhook
  pushes (secret header, a few retries on failure, 409 for getUpdates while a webhook is set);
- HTML parse mode checked the way Telegram's parser does (unsupported, unclosed or unmatched
  tags are 400); text at most 4096 and captions 1024 characters after parsing; callback_data at
  most 64 bytes;
- editing text or caption without ``reply_markup`` removes the inline keyboard, and an edit that
  changes nothing is 400 "message is not modified";
- flood control (``FloodLimits``): a token bucket per chat (1 message a second, bursts of 3) and
  one for the whole bot (30 a second, bursts of 30) over sends and edits; over it, 429 with a
  whole-second ``retry_after`` of at least 1. Group chats' 20 a minute is not modelled.

Simplified: a chat the fake has not seen is a private chat named after its id; photos are not
resized (every PhotoSize of an upload serves the uploaded bytes); Markdown is not checked; the
text of a sent message is returned as sent, tags included, and its parse_mode is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import random
import re
import struct
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "TELEGRAM_LIMITS",
    "AnsweredCallback",
    "BotApiError",
    "Call",
    "Edit",
    "FakeTelegram",
    "FakeUser",
    "FloodLimits",
    "RandomFaults",
    "SentMessage",
    "StoredFile",
    "WebhookDelivery",
    "telegram_html_text",
]

JSONDict = dict[str, Any]
_T = TypeVar("_T")

DEFAULT_TOKEN = "123456:TEST-token-kodebayar-fake-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_CALLBACK_DATA = 64
_MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for bot uploads
_PHOTO_SIDES = (90, 320, 800, 1280)  # the PhotoSize variants Telegram makes, longest side
_BLOCKED = "Forbidden: bot was blocked by the user"
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_WEBHOOK_TIMEOUT = 10.0
_SENDS_AND_EDITS = frozenset(
    {"sendmessage", "sendphoto", "senddocument"}
    | {"editmessagetext", "editmessagecaption", "editmessagereplymarkup"}
)

# Without allowed_updates Telegram sends every update type except these.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"code", "pre", "blockquote", "tg-emoji", "tg-time"}
)
_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?(?=\s|$)")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")

# PTB sends every value as a string: numbers and flags as JSON, objects as JSON text.
_INT_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time"}
    | {"message_thread_id", "reply_to_message_id", "from_chat_id"}
)
_BOOL_PARAMS = frozenset(
    {"drop_pending_updates", "disable_notification", "protect_content", "show_alert"}
    | {"disable_web_page_preview", "allow_sending_without_reply", "has_spoiler"}
    | {"show_caption_above_media", "disable_content_type_detection", "allow_paid_broadcast"}
)
_JSON_PARAMS = frozenset(
    {"reply_markup", "entities", "caption_entities", "allowed_updates", "commands", "scope"}
    | {"menu_button", "link_preview_options", "reply_parameters"}
)


# ----------------------------------------------------------------------------- records


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
        return _inline_buttons(self.reply_markup)


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


@dataclass(frozen=True)
class FloodLimits:
    """Token buckets for sends and edits: per chat and for the whole bot (Telegram's numbers)."""

    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    global_per_second: float = 30.0
    global_burst: int = 30


TELEGRAM_LIMITS = FloodLimits()


@dataclass
class RandomFaults:
    """Telegram failing at random on sends and edits, the same way for the same ``seed``.

    Each request draws once: a 429 (``retry_after`` 1), a 500 or 502, or a time-out (the request
    hangs ``hang`` seconds, longer than a client waits, and is never carried out).
    """

    seed: int
    too_many_requests: float = 0.0
    server_error: float = 0.0
    timeout: float = 0.0
    hang: float = 6.0
    drawn: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> tuple[BotApiError, float] | None:
        """The fault for the next request, with how long it hangs first; or None."""
        roll = self._rng.random()
        for name, rate in (
            ("429", self.too_many_requests),
            ("5xx", self.server_error),
            ("timeout", self.timeout),
        ):
            if roll < rate:
                self.drawn[name] = self.drawn.get(name, 0) + 1
                if name == "429":
                    return _too_many_requests(1), 0.0
                if name == "5xx":
                    return _injected_error(self._rng.choice((500, 502)), None), 0.0
                return _injected_error(504, None), self.hang
            roll -= rate
        return None


class BotApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSONDict:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(reason: str) -> BotApiError:
    """A 400 with Telegram's ``Bad Request: `` prefix."""
    return BotApiError(400, f"Bad Request: {reason}")


def _too_many_requests(retry_after: int) -> BotApiError:
    """A 429 carrying ``retry_after`` as Telegram sends it."""
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def _injected_error(status: int, retry_after: int | None) -> BotApiError:
    """The error ``fail_next`` answers with, worded as Telegram words that status."""
    if status == 429:
        return _too_many_requests(retry_after or 1)
    descriptions = {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: _BLOCKED,
        404: "Not Found",
        409: "Conflict: injected failure",
    }
    return BotApiError(status, descriptions.get(status) or HTTPStatus(status).phrase, retry_after)


# ----------------------------------------------------------------------------- parsing


def telegram_html_text(text: str) -> str:
    """The text Telegram shows for ``text`` in HTML parse mode; ValueError where Telegram says 400.

    Follows Telegram's parser: only its tags, ``&lt; &gt; &amp; &quot;`` and numeric entities are
    understood; an unknown ``&name;`` stays literal text, a stray ``<`` is an unsupported tag.
    """
    shown: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&":
            decoded, i = _html_entity(text, i)
            shown.append(decoded)
        elif text[i] != "<":
            shown.append(text[i])
            i += 1
        elif text.startswith("</", i):
            i = _end_tag(text, i, open_tags)
        else:
            i = _start_tag(text, i, open_tags)
    if open_tags:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(shown)


def _tag_name_end(text: str, start: int) -> int:
    """Where a tag name starting at ``start`` ends (at a space or ``>``)."""
    end = start
    while end < len(text) and not text[end].isspace() and text[end] != ">":
        end += 1
    return end


def _start_tag(text: str, start: int, open_tags: list[str]) -> int:
    """Check the start tag at ``start``, push its name; where the text goes on after it."""
    offset = len(text[:start].encode())
    name_end = _tag_name_end(text, start + 1)
    if name_end >= len(text):
        raise ValueError(f"Unclosed start tag at byte offset {offset}")
    name = text[start + 1 : name_end].lower()
    if name not in _HTML_TAGS:
        raise ValueError(f'Unsupported start tag "{name}" at byte offset {offset}')
    tag_end = _tag_end(text, name_end)
    if tag_end is None:
        raise ValueError(f"Unclosed start tag at byte offset {offset}")
    open_tags.append(name)
    return tag_end + 1


def _end_tag(text: str, start: int, open_tags: list[str]) -> int:
    """Check the end tag at ``start`` against the open tags, pop one; where the text goes on."""
    offset = len(text[:start].encode())
    if not open_tags:
        raise ValueError(f"Unexpected end tag at byte offset {offset}")
    name_end = _tag_name_end(text, start + 2)
    name = text[start + 2 : name_end].lower()
    if name and name != open_tags[-1]:
        raise ValueError(
            f'Unmatched end tag at byte offset {offset}, expected "</{open_tags[-1]}>", '
            f'found "</{name}>"'
        )
    close = name_end
    while close < len(text) and text[close].isspace():
        close += 1
    if close >= len(text) or text[close] != ">":
        raise ValueError(f"Unclosed end tag at byte offset {offset}")
    open_tags.pop()
    return close + 1


def _html_entity(text: str, start: int) -> tuple[str, int]:
    """The character an entity at ``start`` stands for and where it ends; a bare ``&`` is text."""
    match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);", text[start:])
    if match:
        name = match.group(1)
        if name.startswith("#"):
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            if code <= 0x10FFFF:
                return chr(code), start + match.end()
        elif name in _HTML_ENTITIES:
            return _HTML_ENTITIES[name], start + match.end()
    return "&", start + 1


def _tag_end(text: str, start: int) -> int | None:
    """Index of the ``>`` ending a tag whose attributes start at ``start``, skipping quotes."""
    quote: str | None = None
    for index in range(start, len(text)):
        char = text[index]
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ">":
            return index
    return None


def _shown_text(text: str, parse_mode: str | None) -> str:
    """What the chat shows for ``text``; 400 "can't parse entities" for HTML Telegram rejects."""
    if parse_mode is None or parse_mode.lower() != "html":
        return text
    try:
        return telegram_html_text(text)
    except ValueError as error:
        raise _bad_request(f"can't parse entities: {error}") from None


def _decode(name: str, value: object) -> object:
    """A parameter as Telegram reads it from a form, where every value is a string."""
    if not isinstance(value, str):
        return value
    if name in _INT_PARAMS:
        with contextlib.suppress(ValueError):
            return int(value)
        return value  # left for the method to reject, e.g. "@username" as chat_id
    if name in _BOOL_PARAMS:
        return value.strip().lower() in ("true", "1")
    if name in _JSON_PARAMS:
        try:
            decoded: object = json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
        return decoded
    return value


@dataclass(frozen=True)
class _Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Req:
    """A decoded Bot API request."""

    http: Request
    params: JSONDict
    uploads: dict[str, _Upload]
    seq: int


async def _read_params(request: Request) -> tuple[JSONDict, dict[str, _Upload]]:
    """Parameters from the query string and a JSON, form-urlencoded or multipart body."""
    raw: dict[str, object] = dict(request.query_params)
    uploads: dict[str, _Upload] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise _bad_request("can't parse JSON request body") from None
            if not isinstance(data, dict):
                raise _bad_request("request body must be a JSON object")
            raw.update(data)
    elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        async with request.form(max_part_size=_MAX_UPLOAD) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    uploads[name] = _Upload(
                        value.filename or name,
                        value.content_type or "application/octet-stream",
                        await value.read(),
                    )
                else:
                    raw[name] = value
    return {name: _decode(name, value) for name, value in raw.items()}, uploads


def _chat_id(params: JSONDict) -> int:
    """The chat_id parameter; 400 as Telegram answers when it is missing or unknown."""
    value = params.get("chat_id")
    if value is None or value == "":
        raise _bad_request("chat_id is empty")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_request("chat not found")
    return value


def _int_param(params: JSONDict, name: str, missing: str) -> int:
    """A required integer parameter; 400 when missing or not a number."""
    value = params.get(name)
    if value is None:
        raise _bad_request(missing)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_request(f"invalid {name} specified")
    return value


def _optional_int(params: JSONDict, name: str, default: int) -> int:
    """An integer parameter, or ``default`` when absent."""
    return default if params.get(name) is None else _int_param(params, name, "")


def _str_param(params: JSONDict, name: str, missing: str) -> str:
    """A required non-empty string parameter; 400 with ``missing`` otherwise."""
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise _bad_request(missing)
    return value


def _parse_mode(params: JSONDict) -> str | None:
    """The parse_mode as sent, or None; 400 for one Telegram does not know."""
    value = params.get("parse_mode")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.lower() not in _PARSE_MODES:
        raise _bad_request(f"unsupported parse_mode {value!r}")
    return value


def _reply_markup(params: JSONDict) -> JSONDict | None:
    """The reply_markup as sent, after Telegram's checks on inline buttons."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    keyboard = markup.get("inline_keyboard", []) if isinstance(markup, dict) else None
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for button in (button for row in keyboard for button in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise _bad_request("text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= _MAX_CALLBACK_DATA:
            raise _bad_request("BUTTON_DATA_INVALID")
    return dict(markup)


def _inline_buttons(markup: JSONDict | None) -> list[JSONDict]:
    """The buttons of an inline keyboard, row by row."""
    rows: list[list[JSONDict]] = (markup or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    """Extension, width and height of a PNG or JPEG; None for what Telegram cannot read."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", int(width), int(height)
    if not data.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 9 <= len(data) and data[index] == 0xFF:
        marker = data[index + 1]
        # SOF0..SOF15 carry the frame size; C4, C8 and CC are other segments in that range.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return "jpg", int(width), int(height)
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        index += 2 + int(length)
    return None


def _update_type(update: JSONDict) -> str:
    """The kind of an update, e.g. ``message`` or ``callback_query``."""
    return next(key for key in update if key != "update_id")


def _without_edit_date(message: JSONDict) -> JSONDict:
    """A message without ``edit_date``, to compare contents."""
    return {key: value for key, value in message.items() if key != "edit_date"}


# ----------------------------------------------------------------------------- machinery


class _Signal:
    """Wakes every waiter on each notify; take ``waiter()`` before checking state."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def waiter(self) -> asyncio.Event:
        """The event the next ``notify`` sets."""
        return self._event

    def notify(self) -> None:
        """Wake everyone waiting now."""
        self._event.set()
        self._event = asyncio.Event()


class _Bucket:
    """A token bucket: ``capacity`` sends at once, refilled at ``rate`` a second."""

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self._rate = rate
        self._capacity = float(capacity)
        self._tokens = float(capacity)
        self._updated = now

    def wait(self, now: float) -> float:
        """Seconds until one more send is allowed; 0 when it is allowed now."""
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._rate

    def take(self) -> None:
        """Spend one send."""
        self._tokens -= 1


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class _Shown:
    """A message as the chat shows it now, with the parse mode of its text."""

    json: JSONDict
    parse_mode: str | None = None


_Handler = Callable[[_Req], Awaitable[object]]


# ----------------------------------------------------------------------------- the fake


class FakeTelegram:
    """State and Starlette app of a fake Bot API for one bot; see the module docstring."""

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
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_first_name = bot_first_name
        self.url: str | None = None  # set by tests that need links to the fake
        self.calls: list[Call] = []
        self.updates: list[JSONDict] = []  # every update injected, in order
        self.answered_callbacks: list[AnsweredCallback] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.menu_buttons: dict[int | None, JSONDict] = {}  # None: the default menu button
        self.flood_429_count = 0
        self.random_faults: RandomFaults | None = None
        self._clock = clock
        self._flood = flood
        self._buckets: dict[int | None, _Bucket] = {}  # None: the whole bot
        self._webhook_attempts = webhook_attempts
        self._webhook_retry_delay = webhook_retry_delay
        self._next_seq = 0
        self._sent: list[SentMessage] = []
        self._edits: list[Edit] = []
        self._messages: dict[tuple[int, int], _Shown] = {}
        self._last_message_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._queue: list[JSONDict] = []  # injected and not yet confirmed
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default
        self._poll_generation = 0
        self._waiting_polls = 0
        self._webhook: _Webhook | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._faults: dict[str, deque[BotApiError]] = {}
        self._blocked: set[int] = set()
        self._open_queries: set[str] = set()
        self._query_ids = itertools.count(700_000_000_000_000_001)
        self._updates_changed = _Signal()
        self._calls_changed = _Signal()
        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getFile": self._get_file,
            "close": self._true,
            "logOut": self._true,
        }
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file_endpoint, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    # ------------------------------------------------------------------ test-side controls

    @property
    def flood(self) -> FloodLimits | None:
        """The flood limits in force; None turns flood control off."""
        return self._flood

    @flood.setter
    def flood(self, limits: FloodLimits | None) -> None:
        self._flood = limits
        self._buckets.clear()

    def fail_next(
        self, method: str, count: int = 1, status: int = 500, retry_after: int | None = None
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with ``status`` and Telegram's wording."""
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(_injected_error(status, retry_after) for _ in range(count))

    def block_chat(self, chat_id: int) -> None:
        """Make sends and edits to ``chat_id`` fail with 403, as after the user blocked the bot."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undo ``block_chat``."""
        self._blocked.discard(chat_id)

    def user(
        self,
        user_id: int,
        first_name: str = "Sari",
        username: str | None = None,
        language_code: str = "id",
    ) -> FakeUser:
        """A user in a private chat with the bot (the chat id is the user id)."""
        user = FakeUser(self, user_id, first_name, username, language_code)
        chat: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        if username is not None:
            chat["username"] = username
        self._chats[user_id] = chat
        return user

    def inject(self, update: JSONDict) -> int:
        """Queue an update for getUpdates or the webhook; its new ``update_id``."""
        update_id = self._next_update_id
        self._next_update_id += 1
        full = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        self.updates.append(full)
        self._queue.append(full)
        self._updates_changed.notify()
        return update_id

    async def aclose(self) -> None:
        """Stop pushing to the webhook and close the pusher's HTTP client."""
        await self._stop_pusher()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ------------------------------------------------------------------ what the bot did

    def mark(self) -> int:
        """A position in the call order: pass it as ``after=`` to see only what comes next."""
        return self._next_seq

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of ``method``, successful or not, in order of completion."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent successfully, in order, to ``chat_id`` or anywhere."""
        return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def last_message(self, chat_id: int) -> SentMessage:
        """The last message the bot sent to ``chat_id``; LookupError if there is none."""
        sent = self.sent_messages(chat_id)
        if not sent:
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def edits(self, chat_id: int | None = None) -> list[Edit]:
        """Successful edits, in order, in ``chat_id`` or anywhere."""
        return [e for e in self._edits if chat_id is None or e.chat_id == chat_id]

    def message_json(self, chat_id: int, message_id: int) -> JSONDict:
        """A message as the chat shows it now (after edits), as Bot API JSON."""
        shown = self._messages.get((chat_id, message_id))
        if shown is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return shown.json

    @property
    def commands(self) -> dict[str, list[JSONDict]]:
        """setMyCommands for the default scope, by language_code ("" for all languages)."""
        default = json.dumps({"type": "default"}, sort_keys=True)
        return {lang: cmds for (scope, lang), cmds in self._commands.items() if scope == default}

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands set for ``scope`` (default scope if None) and ``language_code``."""
        return self._commands.get(_command_key(scope, language_code), [])

    @property
    def unconfirmed_updates(self) -> int:
        """Updates injected that the bot has not yet confirmed having fetched."""
        return len(self._queue)

    @property
    def long_polls_waiting(self) -> int:
        """How many getUpdates requests are waiting for an update right now."""
        return self._waiting_polls

    async def wait_for_message(
        self,
        chat_id: int | None = None,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> SentMessage:
        """The first message sent after ``after`` (default: now) to ``chat_id`` that matches."""
        start = self.mark() if after is None else after

        def find() -> SentMessage | None:
            for message in self.sent_messages(chat_id):
                if message.seq >= start and (predicate is None or predicate(message)):
                    return message
            return None

        return await self._wait_until(find, timeout, f"a message to chat {chat_id}")

    async def wait_for_edit(
        self,
        chat_id: int | None = None,
        predicate: Callable[[Edit], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Edit:
        """The first edit after ``after`` (default: now) in ``chat_id`` that matches."""
        start = self.mark() if after is None else after

        def find() -> Edit | None:
            for edit in self.edits(chat_id):
                if edit.seq >= start and (predicate is None or predicate(edit)):
                    return edit
            return None

        return await self._wait_until(find, timeout, f"an edit in chat {chat_id}")

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Call:
        """The first call of ``method`` that arrived after ``after`` (default: now) and matches."""
        start = self.mark() if after is None else after

        def find() -> Call | None:
            for call in self.calls_to(method):
                if call.seq >= start and (predicate is None or predicate(call)):
                    return call
            return None

        return await self._wait_until(find, timeout, f"a {method} call")

    async def _wait_until(self, find: Callable[[], _T | None], timeout: float, what: str) -> _T:
        """Re-check ``find`` whenever a call completes; AssertionError after ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    waiter = self._calls_changed.waiter()
                    found = find()
                    if found is not None:
                        return found
                    await waiter.wait()
        except TimeoutError:
            recent = [(m.chat_id, m.text) for m in self._sent[-5:]]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; last messages sent: {recent}"
            ) from None

    # ------------------------------------------------------------------ HTTP

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Resume webhook pushes when served; stop them and close the client at shutdown."""
        if self._webhook is not None:
            self._start_pusher()
        try:
            yield
        finally:
            await self.aclose()

    def _token_ok(self, request: Request) -> bool:
        """Whether the request's path carries this bot's token."""
        given: str = request.path_params["token"]
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def _endpoint(self, request: Request) -> Response:
        """``GET|POST /bot{token}/{method}``: decode, dispatch, record, answer."""
        seq = self._next_seq
        self._next_seq += 1
        at = self._clock()
        method: str = request.path_params["method"]
        handler: _Handler | None = None
        if known := self._methods.get(method.lower()):
            method, handler = known
        params: JSONDict = {}
        uploads: dict[str, _Upload] = {}
        try:
            if not self._token_ok(request):
                raise BotApiError(401, "Unauthorized")
            if handler is None:
                raise BotApiError(404, "Not Found: method not found")
            params, uploads = await _read_params(request)
            faults = self._faults.get(method.lower())
            if faults:
                raise faults.popleft()
            if self.random_faults is not None and method.lower() in _SENDS_AND_EDITS:
                drawn = self.random_faults.draw()
                if drawn is not None:
                    error, hang = drawn
                    await asyncio.sleep(hang)
                    raise error
            result = await handler(_Req(request, params, uploads, seq))
        except BotApiError as error:
            status, body = error.status, error.body()
        else:
            status, body = 200, {"ok": True, "result": result}
        files = {name: upload.data for name, upload in uploads.items()}
        self.calls.append(Call(method, params, files, status, at, seq))
        self._calls_changed.notify()
        return JSONResponse(body, status_code=status)

    async def _file_endpoint(self, request: Request) -> Response:
        """``GET /file/bot{token}/{path}``: the bytes of an uploaded file."""
        if not self._token_ok(request):
            return JSONResponse(BotApiError(401, "Unauthorized").body(), status_code=401)
        stored = self._file_paths.get(request.path_params["path"])
        if stored is None:
            return JSONResponse(BotApiError(404, "Not Found").body(), status_code=404)
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")

    # ------------------------------------------------------------------ chats and messages

    def _bot_json(self) -> JSONDict:
        """The bot as a Bot API User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _chat_json(self, chat_id: int) -> JSONDict:
        """The Chat object for ``chat_id``, made up for a chat not seen before."""
        if chat_id not in self._chats:
            self._chats[chat_id] = (
                {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
                if chat_id > 0
                else {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
            )
        return self._chats[chat_id]

    def _new_message(self, chat_id: int, sender: JSONDict, content: JSONDict) -> JSONDict:
        """A message in ``chat_id`` with the chat's next id (users and bot share the counter)."""
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return {
            "message_id": message_id,
            "from": sender,
            "chat": self._chat_json(chat_id),
            "date": int(time.time()),
            **content,
        }

    def _bot_message(self, chat_id: int, message_id: int) -> JSONDict:
        """A message the bot sent to ``chat_id``; LookupError otherwise."""
        shown = self._messages.get((chat_id, message_id))
        if shown is None or shown.json["from"]["id"] != self.bot_id:
            raise LookupError(f"the bot sent no message {message_id} to chat {chat_id}")
        return shown.json

    def _buttons(self, chat_id: int, message_id: int) -> list[JSONDict]:
        """The inline buttons a bot message shows now."""
        return _inline_buttons(self._bot_message(chat_id, message_id).get("reply_markup"))

    def _user_message(self, user: FakeUser, text: str) -> int:
        """Queue a text message from ``user``; a leading /command gets its entity."""
        content: JSONDict = {"text": text}
        if command := _COMMAND.match(text):
            length = len(command.group().encode("utf-16-le")) // 2  # Telegram counts UTF-16
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self._new_message(user.chat_id, user.to_json(), content)
        self._messages[(user.chat_id, message["message_id"])] = _Shown(message)
        return self.inject({"message": message})

    def _callback_query(
        self, user: FakeUser, message_id: int, data: str, *, forged: bool = False
    ) -> str:
        """Queue a press on a button the message shows now; LookupError if it has none.

        ``forged`` skips that check: a modified client can send any data on any message.
        """
        message = self._bot_message(user.chat_id, message_id)
        buttons = _inline_buttons(message.get("reply_markup"))
        if not forged and not any(button.get("callback_data") == data for button in buttons):
            raise LookupError(
                f"message {message_id} has no button with callback_data {data!r}; "
                f"its buttons: {buttons}"
            )
        query_id = str(next(self._query_ids))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": message,
            "chat_instance": str(10**18 + user.chat_id),
            "data": data,
        }
        self.inject({"callback_query": query})
        return query_id

    def _admit_send(self, chat_id: int) -> None:
        """403 for a blocked chat, 429 over the flood limits; else spend one send."""
        if chat_id in self._blocked:
            raise BotApiError(403, _BLOCKED)
        limits = self._flood
        if limits is None:
            return
        now = self._clock()
        if chat_id not in self._buckets:
            self._buckets[chat_id] = _Bucket(
                limits.per_chat_per_second, limits.per_chat_burst, now
            )
        if None not in self._buckets:
            self._buckets[None] = _Bucket(limits.global_per_second, limits.global_burst, now)
        buckets = (self._buckets[chat_id], self._buckets[None])
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            self.flood_429_count += 1
            raise _too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take()

    def _record_sent(
        self,
        req: _Req,
        method: str,
        message: JSONDict,
        parse_mode: str | None,
        data: bytes | None = None,
    ) -> JSONDict:
        """Remember a message the bot sent and answer it."""
        chat_id: int = message["chat"]["id"]
        self._messages[(chat_id, message["message_id"])] = _Shown(message, parse_mode)
        self._sent.append(
            SentMessage(
                method=method,
                chat_id=chat_id,
                message_id=message["message_id"],
                text=message.get("text", message.get("caption")),
                parse_mode=parse_mode,
                reply_markup=_reply_markup(req.params),
                photo=data if "photo" in message else None,
                document=data if "document" in message else None,
                params=req.params,
                seq=req.seq,
            )
        )
        return message

    @staticmethod
    def _content(req: _Req, text_key: str, text: str | None) -> JSONDict:
        """The text or caption, its entities and an inline keyboard, as a Message carries them."""
        content: JSONDict = {}
        if text:
            content[text_key] = text
            entities_key = "entities" if text_key == "text" else "caption_entities"
            if req.params.get(entities_key) is not None:
                content[entities_key] = req.params[entities_key]
        markup = _reply_markup(req.params)
        # A Message carries reply_markup only for inline keyboards.
        if markup is not None and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        return content

    # ------------------------------------------------------------------ files

    def _store(self, stored: StoredFile) -> StoredFile:
        """Keep a file for getFile and the file route."""
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _media_source(self, req: _Req, name: str) -> tuple[bytes, str | None, str | None]:
        """Bytes, file name and MIME type of an upload, an attach:// part or a known file_id."""
        value = req.params.get(name)
        part = name
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
        upload = req.uploads.get(part)
        if upload is not None:
            if not upload.data:
                raise _bad_request("file must be non-empty")
            return upload.data, upload.filename, upload.content_type
        if not value:
            raise _bad_request(f"there is no {name} in the request")
        stored = self._files.get(str(value))
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        return stored.data, stored.file_name, stored.mime_type

    def _photo_sizes(self, data: bytes) -> list[JSONDict]:
        """PhotoSizes for a photo, with file ids that depend only on its bytes."""
        size = _image_size(data)
        if size is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        extension, width, height = size
        if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
            raise _bad_request("PHOTO_INVALID_DIMENSIONS")
        digest = hashlib.sha256(data).hexdigest()
        longest = max(width, height, 1)
        sizes: list[JSONDict] = []
        for side in _PHOTO_SIDES:
            scale = min(1.0, side / longest)
            stored = self._store(
                StoredFile(
                    file_id=f"AgACAgIAAxkDAAI{digest[:32]}{side}",
                    file_unique_id=f"AQAD{digest[:12]}{side}",
                    file_path=f"photos/file_{digest[:16]}_{side}.{extension}",
                    data=data,
                    mime_type=f"image/{'png' if extension == 'png' else 'jpeg'}",
                )
            )
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": len(data),
                }
            )
            if longest <= side:
                break
        return sizes

    def _document(self, data: bytes, file_name: str | None, mime_type: str | None) -> JSONDict:
        """A Document object for uploaded bytes, with ids that depend only on them."""
        digest = hashlib.sha256(data).hexdigest()
        suffix = PurePosixPath(file_name or "").suffix
        stored = self._store(
            StoredFile(
                file_id=f"BQACAgIAAxkDAAI{digest[:32]}",
                file_unique_id=f"AgAD{digest[:12]}",
                file_path=f"documents/file_{digest[:16]}{suffix}",
                data=data,
                file_name=file_name,
                mime_type=mime_type,
            )
        )
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }
        if file_name:
            document["file_name"] = file_name
        if mime_type:
            document["mime_type"] = mime_type
        return document

    # ------------------------------------------------------------------ updates

    def _is_allowed(self, update: JSONDict) -> bool:
        """Whether allowed_updates lets ``update`` through."""
        kind = _update_type(update)
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _pending(self, limit: int) -> list[JSONDict]:
        """Up to ``limit`` unconfirmed updates that allowed_updates lets through."""
        return [update for update in self._queue if self._is_allowed(update)][:limit]

    def _confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [update for update in self._queue if update["update_id"] >= offset]

    def _set_allowed_updates(self, params: JSONDict) -> None:
        """Apply allowed_updates if given; Telegram keeps the previous setting otherwise."""
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise _bad_request("can't parse allowed_updates JSON object")
            self._allowed_updates = frozenset(map(str, allowed)) or None

    def _start_pusher(self) -> None:
        """Start the webhook pusher unless it is running."""
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_updates(), name="fake Telegram webhook")

    async def _stop_pusher(self) -> None:
        """Cancel the webhook pusher and wait for it to end."""
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher

    async def _push_updates(self) -> None:
        """Push pending updates to the webhook one at a time, in order, while one is set."""
        while self._webhook is not None:
            waiter = self._updates_changed.waiter()
            pending = self._pending(1)
            if not pending:
                await waiter.wait()
                continue
            update_id = pending[0]["update_id"]
            if await self._push(pending[0]) or self._webhook is not None:
                # Delivered, or given up after the last retry: either way it is not sent again.
                self._confirm(update_id + 1)

    async def _push(self, update: JSONDict) -> bool:
        """POST one update to the webhook, retrying with doubling delays; whether it got 2xx."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=_WEBHOOK_TIMEOUT, trust_env=False)
        for attempt in range(1, self._webhook_attempts + 1):
            webhook = self._webhook
            if webhook is None:
                return False
            headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
            status: int | None = None
            try:
                response = await self._http.post(webhook.url, json=update, headers=headers)
            except httpx.HTTPError as exc:
                error: str | None = f"Connection failed: {type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                error = None
                if not response.is_success:
                    error = f"Wrong response from the webhook: {status} {response.reason_phrase}"
            self.webhook_deliveries.append(
                WebhookDelivery(update["update_id"], attempt, status, error)
            )
            if error is None:
                return True
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            if attempt < self._webhook_attempts:
                # Simulated backoff between Telegram's retries, not a test waiting for state.
                await asyncio.sleep(self._webhook_retry_delay * 2 ** (attempt - 1))
        return False

    # ------------------------------------------------------------------ methods

    async def _true(self, req: _Req) -> object:
        """``close`` and ``logOut``: nothing to do but say yes."""
        return True

    async def _get_me(self, req: _Req) -> object:
        """``getMe``: the bot."""
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, req: _Req) -> object:
        """``getUpdates``: long polling, as Telegram does it."""
        conflict = BotApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
        if self._webhook is not None:
            raise conflict
        limit = min(100, max(1, _optional_int(req.params, "limit", 100)))
        timeout = max(0, _optional_int(req.params, "timeout", 0))
        self._set_allowed_updates(req.params)
        self._confirm(_optional_int(req.params, "offset", 0))
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_changed.notify()  # an older poll still waiting now answers 409
        deadline = asyncio.get_running_loop().time() + timeout
        gone = asyncio.ensure_future(_client_gone(req.http))
        try:
            while True:
                waiter = self._updates_changed.waiter()
                if generation != self._poll_generation:
                    raise BotApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._webhook is not None:
                    raise conflict
                pending = self._pending(limit)
                remaining = deadline - asyncio.get_running_loop().time()
                if pending or remaining <= 0:
                    return pending
                woken = asyncio.ensure_future(waiter.wait())
                self._waiting_polls += 1
                try:
                    await asyncio.wait(
                        {woken, gone}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    self._waiting_polls -= 1
                    woken.cancel()
                if gone.done():
                    return []  # nobody is listening for the answer any more
        finally:
            gone.cancel()

    async def _set_webhook(self, req: _Req) -> object:
        """``setWebhook``: push updates to ``url`` from now on (empty url: stop)."""
        url = req.params.get("url") or ""
        if not url:
            return await self._delete_webhook(req)
        if not isinstance(url, str) or not re.match(r"https?://", url):
            # Telegram wants https; the fake also takes http for loopback receivers.
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = req.params.get("secret_token") or None
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        self._set_allowed_updates(req.params)
        if req.params.get("drop_pending_updates"):
            self._queue.clear()
        self._webhook = _Webhook(url, secret, req.params.get("max_connections") or 40)
        self._updates_changed.notify()
        self._start_pusher()
        return True

    async def _delete_webhook(self, req: _Req) -> object:
        """``deleteWebhook``: back to getUpdates."""
        if req.params.get("drop_pending_updates"):
            self._queue.clear()
        self._webhook = None
        await self._stop_pusher()
        self._updates_changed.notify()
        return True

    async def _get_webhook_info(self, req: _Req) -> object:
        """``getWebhookInfo``: the webhook, pending updates and the last error."""
        webhook = self._webhook
        info: JSONDict = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending(len(self._queue))),
        }
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            if webhook.last_error_date is not None:
                info["last_error_date"] = webhook.last_error_date
                info["last_error_message"] = webhook.last_error_message
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _send_message(self, req: _Req) -> object:
        """``sendMessage``."""
        chat_id = _chat_id(req.params)
        text = _str_param(req.params, "text", "message text is empty")
        parse_mode = _parse_mode(req.params)
        _check_text(text, parse_mode)
        content = self._content(req, "text", text)
        self._admit_send(chat_id)
        message = self._new_message(chat_id, self._bot_json(), content)
        return self._record_sent(req, "sendMessage", message, parse_mode)

    async def _send_photo(self, req: _Req) -> object:
        """``sendPhoto``: an upload or a known file_id."""
        return self._send_media(req, "sendPhoto", "photo")

    async def _send_document(self, req: _Req) -> object:
        """``sendDocument``: an upload or a known file_id."""
        return self._send_media(req, "sendDocument", "document")

    def _send_media(self, req: _Req, method: str, kind: str) -> JSONDict:
        """Send a photo or document with an optional caption and keyboard."""
        chat_id = _chat_id(req.params)
        caption = req.params.get("caption")
        parse_mode = _parse_mode(req.params)
        if caption is not None:
            _check_caption(str(caption), parse_mode)
        content = self._content(req, "caption", None if caption is None else str(caption))
        data, file_name, mime_type = self._media_source(req, kind)
        media: object = (
            self._photo_sizes(data)
            if kind == "photo"
            else self._document(data, file_name, mime_type)
        )
        self._admit_send(chat_id)
        message = self._new_message(chat_id, self._bot_json(), {kind: media, **content})
        return self._record_sent(req, method, message, parse_mode, data)

    async def _send_chat_action(self, req: _Req) -> object:
        """``sendChatAction``: accepted and forgotten."""
        chat_id = _chat_id(req.params)
        _str_param(req.params, "action", "action is empty")
        if chat_id in self._blocked:
            raise BotApiError(403, _BLOCKED)
        return True

    async def _edit_message_text(self, req: _Req) -> object:
        """``editMessageText``."""
        return self._edit(req, "editMessageText", "text")

    async def _edit_message_caption(self, req: _Req) -> object:
        """``editMessageCaption``."""
        return self._edit(req, "editMessageCaption", "caption")

    async def _edit_message_reply_markup(self, req: _Req) -> object:
        """``editMessageReplyMarkup``."""
        return self._edit(req, "editMessageReplyMarkup", None)

    def _edit(self, req: _Req, method: str, field_name: str | None) -> JSONDict:
        """Edit a bot message's text, caption or keyboard as Telegram does."""
        if "inline_message_id" in req.params:
            raise _bad_request("inline messages are not supported by the fake Bot API")
        chat_id = _chat_id(req.params)
        message_id = _int_param(req.params, "message_id", "message identifier is not specified")
        shown = self._messages.get((chat_id, message_id))
        if shown is None:
            raise _bad_request("message to edit not found")
        if shown.json["from"]["id"] != self.bot_id:
            raise _bad_request("message can't be edited")
        kept = {
            key: value
            for key, value in shown.json.items()
            if key not in ("reply_markup", "entities", "caption", "caption_entities")
        }
        parse_mode = shown.parse_mode
        text: str | None = None
        if field_name == "text":
            if "text" not in shown.json:
                raise _bad_request("there is no text in the message to edit")
            text = _str_param(req.params, "text", "message text is empty")
            parse_mode = _parse_mode(req.params)
            _check_text(text, parse_mode)
        elif field_name == "caption":
            if "text" in shown.json:
                raise _bad_request("there is no caption in the message to edit")
            text = str(req.params.get("caption") or "")
            parse_mode = _parse_mode(req.params)
            _check_caption(text, parse_mode)
        else:
            # Only the keyboard changes: keep the text or caption with its entities.
            kept = {key: value for key, value in shown.json.items() if key != "reply_markup"}
        # Without reply_markup an edit removes the inline keyboard, as on Telegram.
        edited = {**kept, **self._content(req, field_name or "text", text)}
        if _without_edit_date(edited) == _without_edit_date(shown.json) and (
            parse_mode == shown.parse_mode
        ):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._admit_send(chat_id)
        edited["edit_date"] = int(time.time())
        self._messages[(chat_id, message_id)] = _Shown(edited, parse_mode)
        self._edits.append(
            Edit(
                method=method,
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                parse_mode=parse_mode if field_name else None,
                reply_markup=_reply_markup(req.params),
                seq=req.seq,
            )
        )
        return edited

    async def _delete_message(self, req: _Req) -> object:
        """``deleteMessage``."""
        chat_id = _chat_id(req.params)
        message_id = _int_param(req.params, "message_id", "message identifier is not specified")
        if self._messages.pop((chat_id, message_id), None) is None:
            raise _bad_request("message to delete not found")
        return True

    async def _answer_callback_query(self, req: _Req) -> object:
        """``answerCallbackQuery``: once per open query."""
        query_id = str(req.params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise _bad_request(_QUERY_INVALID)
        self._open_queries.discard(query_id)
        text = req.params.get("text")
        url = req.params.get("url")
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=None if text is None else str(text),
                show_alert=bool(req.params.get("show_alert", False)),
                url=None if url is None else str(url),
                seq=req.seq,
            )
        )
        return True

    async def _set_my_commands(self, req: _Req) -> object:
        """``setMyCommands``, kept per scope and language_code."""
        commands = req.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = _command_key(req.params.get("scope"), req.params.get("language_code") or "")
        self._commands[key] = commands
        return True

    async def _get_my_commands(self, req: _Req) -> object:
        """``getMyCommands`` for a scope and language_code."""
        return self.commands_for(req.params.get("scope"), req.params.get("language_code") or "")

    async def _delete_my_commands(self, req: _Req) -> object:
        """``deleteMyCommands`` for a scope and language_code."""
        key = _command_key(req.params.get("scope"), req.params.get("language_code") or "")
        self._commands.pop(key, None)
        return True

    async def _set_chat_menu_button(self, req: _Req) -> object:
        """``setChatMenuButton`` for a chat or the default."""
        chat_id = _chat_id(req.params) if "chat_id" in req.params else None
        button = req.params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict):
            raise _bad_request("can't parse menu_button JSON object")
        self.menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, req: _Req) -> object:
        """``getChatMenuButton`` for a chat or the default."""
        chat_id = _chat_id(req.params) if "chat_id" in req.params else None
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}

    async def _get_file(self, req: _Req) -> object:
        """``getFile``: where to download an uploaded file."""
        stored = self._files.get(str(req.params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def _check_text(text: str, parse_mode: str | None) -> None:
    """400 for message text that is empty or too long once parsed."""
    shown = _shown_text(text, parse_mode)
    if not shown.strip():
        raise _bad_request("message text is empty")
    if len(shown) > _MAX_TEXT:
        raise _bad_request("message is too long")


def _check_caption(caption: str, parse_mode: str | None) -> None:
    """400 for a caption that is too long once parsed."""
    if len(_shown_text(caption, parse_mode)) > _MAX_CAPTION:
        raise _bad_request("message caption is too long")


def _command_key(scope: object, language_code: object) -> tuple[str, str]:
    """Where setMyCommands keeps a scope and language's commands."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")


async def _client_gone(request: Request) -> None:
    """Return once the client has closed the connection (the body is already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


# ----------------------------------------------------------------------------- users


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
        return self.fake._user_message(self, text)

    async def press(self, message_id: int, callback_data: str) -> str:
        """Press the button with ``callback_data`` on a bot message; the callback query id."""
        return self.fake._callback_query(self, message_id, callback_data)

    async def forge_press(self, message_id: int, callback_data: str) -> str:
        """Send ``callback_data`` from a bot message that has no such button (a forged press)."""
        return self.fake._callback_query(self, message_id, callback_data, forged=True)

    async def press_button(self, message_id: int, text_contains: str) -> str:
        """Press the one button whose text contains ``text_contains`` (any case)."""
        buttons = self.fake._buttons(self.chat_id, message_id)
        matches = [b for b in buttons if text_contains.casefold() in str(b["text"]).casefold()]
        if len(matches) != 1 or "callback_data" not in matches[0]:
            raise LookupError(
                f"expected one callback button containing {text_contains!r} on message "
                f"{message_id}, found {matches}; its buttons: {buttons}"
            )
        return await self.press(message_id, matches[0]["callback_data"])

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
