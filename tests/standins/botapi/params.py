"""A Bot API request decoded as Telegram reads it, and its parameters checked as Telegram does.

Requests come as a query string, JSON, form-urlencoded or multipart; PTB sends forms whose values
are all strings, numbers and flags as JSON, nested objects as JSON text.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request

from tests.standins.botapi.errors import bad_request
from tests.standins.botapi.records import JSONDict

_MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for bot uploads
_MAX_CALLBACK_DATA = 64
_MAX_COPY_TEXT = 256
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
_INT_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time"}
    | {"message_thread_id", "reply_to_message_id", "from_chat_id"}
)
_BOOL_PARAMS = frozenset(
    {"drop_pending_updates", "disable_notification", "protect_content", "show_alert"}
    | {"disable_web_page_preview", "allow_sending_without_reply", "has_spoiler"}
    | {"show_caption_above_media", "disable_content_type_detection", "allow_paid_broadcast"}
    | {"is_personal"}
)
_JSON_PARAMS = frozenset(
    {"reply_markup", "entities", "caption_entities", "allowed_updates", "commands", "scope"}
    | {"menu_button", "link_preview_options", "reply_parameters"}
    | {"results", "button", "media", "message_ids"}
)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ApiRequest:
    """A decoded Bot API request."""

    http: Request
    params: JSONDict
    uploads: dict[str, Upload]
    seq: int


async def read_params(request: Request) -> tuple[JSONDict, dict[str, Upload]]:
    """Parameters from the query string and a JSON, form-urlencoded or multipart body."""
    raw: dict[str, object] = dict(request.query_params)
    uploads: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(data, dict):
                raise bad_request("request body must be a JSON object")
            raw.update(data)
    elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        async with request.form(max_part_size=_MAX_UPLOAD) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    uploads[name] = Upload(
                        value.filename or name,
                        value.content_type or "application/octet-stream",
                        await value.read(),
                    )
                else:
                    raw[name] = value
    return {name: _decode(name, value) for name, value in raw.items()}, uploads


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
            raise bad_request(f"can't parse {name} JSON object") from None
        return decoded
    return value


def chat_id(params: JSONDict) -> int:
    """The chat_id parameter; 400 as Telegram answers when it is missing or unknown."""
    value = params.get("chat_id")
    if value is None or value == "":
        raise bad_request("chat_id is empty")
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("chat not found")
    return value


def int_param(params: JSONDict, name: str, missing: str) -> int:
    """A required integer parameter; 400 when missing or not a number."""
    value = params.get(name)
    if value is None:
        raise bad_request(missing)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"invalid {name} specified")
    return value


def optional_int(params: JSONDict, name: str, default: int) -> int:
    """An integer parameter, or ``default`` when absent."""
    return default if params.get(name) is None else int_param(params, name, "")


def str_param(params: JSONDict, name: str, missing: str) -> str:
    """A required non-empty string parameter; 400 with ``missing`` otherwise."""
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(missing)
    return value


def parse_mode(params: JSONDict) -> str | None:
    """The parse_mode as sent, or None; 400 for one Telegram does not know."""
    value = params.get("parse_mode")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.lower() not in _PARSE_MODES:
        raise bad_request(f"unsupported parse_mode {value!r}")
    return value


def reply_markup(params: JSONDict) -> JSONDict | None:
    """The reply_markup as sent, after Telegram's checks on inline buttons."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    keyboard = markup.get("inline_keyboard", []) if isinstance(markup, dict) else None
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for button in (button for row in keyboard for button in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= _MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
        copy = button.get("copy_text")
        if copy is not None and not (
            isinstance(copy, dict) and 1 <= len(str(copy.get("text") or "")) <= _MAX_COPY_TEXT
        ):
            raise bad_request("BUTTON_COPY_TEXT_INVALID")
    return dict(markup)
