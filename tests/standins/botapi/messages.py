"""What the bot sends, edits and deletes, checked and recorded as Telegram would take it.

Editing text or caption without ``reply_markup`` removes the inline keyboard, and an edit that
changes nothing is 400 "message is not modified"; a message a user posted via the bot is edited
by its ``inline_message_id`` (the answer is then ``true``). An album (sendMediaGroup, photos
only) is 2 to 10 photos and counts as one send against the flood limits. Markdown is not
checked; a sent message's text is kept as sent, tags included, with its parse_mode.
"""

from __future__ import annotations

import time

from tests.standins.botapi.chats import Chats, Shown
from tests.standins.botapi.errors import BLOCKED, BotApiError, bad_request
from tests.standins.botapi.files import FileStore
from tests.standins.botapi.flood import FloodControl
from tests.standins.botapi.html import check_caption, check_text
from tests.standins.botapi.inline import InlineMode
from tests.standins.botapi.params import (
    ApiRequest,
    chat_id,
    int_param,
    parse_mode,
    reply_markup,
    str_param,
)
from tests.standins.botapi.profile import BotProfile
from tests.standins.botapi.records import Edit, JSONDict, SentMessage

_ALBUM_SIZES = range(2, 11)
_MAX_DELETED = 100


class BotMessages:
    """The bot's messages and edits that Telegram accepted, and the chats that blocked it."""

    def __init__(
        self,
        bot: BotProfile,
        chats: Chats,
        files: FileStore,
        flood: FloodControl,
        inline: InlineMode,
    ) -> None:
        self.sent: list[SentMessage] = []
        self.edits: list[Edit] = []
        self.blocked: set[int] = set()
        self._bot = bot
        self._chats = chats
        self._files = files
        self._flood = flood
        self._inline = inline

    async def send_message(self, req: ApiRequest) -> object:
        """``sendMessage``."""
        chat = chat_id(req.params)
        text = str_param(req.params, "text", "message text is empty")
        mode = parse_mode(req.params)
        check_text(text, mode)
        content = _content(req, "text", text)
        self._admit(chat)
        message = self._chats.new_message(chat, self._bot.to_json(), content)
        return self._record_sent(req, "sendMessage", message, mode)

    async def send_photo(self, req: ApiRequest) -> object:
        """``sendPhoto``: an upload or a known file_id."""
        return self._send_media(req, "sendPhoto", "photo")

    async def send_document(self, req: ApiRequest) -> object:
        """``sendDocument``: an upload or a known file_id."""
        return self._send_media(req, "sendDocument", "document")

    async def send_media_group(self, req: ApiRequest) -> object:
        """``sendMediaGroup``: an album of photos, each an upload or a known file_id."""
        chat = chat_id(req.params)
        media = req.params.get("media")
        if not isinstance(media, list) or len(media) not in _ALBUM_SIZES:
            raise bad_request("wrong number of media items: an album takes 2 to 10")
        photos: list[bytes] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise bad_request("an album of the fake Bot API takes photos only")
            if item.get("caption") is not None:
                check_caption(str(item["caption"]), parse_mode(item))
            photos.append(self._files.resolve(req, "media", item.get("media"))[0])
        sizes = [self._files.photo_sizes(data) for data in photos]
        self._admit(chat)
        group = f"{req.seq}{chat}"
        messages = []
        for item, data, photo in zip(media, photos, sizes, strict=True):
            content: JSONDict = {"photo": photo, "media_group_id": group}
            if item.get("caption"):
                content["caption"] = str(item["caption"])
            message = self._chats.new_message(chat, self._bot.to_json(), content)
            messages.append(
                self._record_sent(req, "sendMediaGroup", message, parse_mode(item), data)
            )
        return messages

    async def send_chat_action(self, req: ApiRequest) -> object:
        """``sendChatAction``: accepted and forgotten."""
        chat = chat_id(req.params)
        str_param(req.params, "action", "action is empty")
        if chat in self.blocked:
            raise BotApiError(403, BLOCKED)
        return True

    async def edit_message_text(self, req: ApiRequest) -> object:
        """``editMessageText``."""
        return self._edit(req, "editMessageText", "text")

    async def edit_message_caption(self, req: ApiRequest) -> object:
        """``editMessageCaption``."""
        return self._edit(req, "editMessageCaption", "caption")

    async def edit_message_reply_markup(self, req: ApiRequest) -> object:
        """``editMessageReplyMarkup``."""
        return self._edit(req, "editMessageReplyMarkup", None)

    async def delete_message(self, req: ApiRequest) -> object:
        """``deleteMessage``."""
        chat = chat_id(req.params)
        message_id = int_param(req.params, "message_id", "message identifier is not specified")
        if not self._chats.delete(chat, message_id):
            raise bad_request("message to delete not found")
        return True

    async def delete_messages(self, req: ApiRequest) -> object:
        """``deleteMessages``: those of the messages that exist; the others are skipped."""
        chat = chat_id(req.params)
        message_ids = req.params.get("message_ids")
        if (
            not isinstance(message_ids, list)
            or not 1 <= len(message_ids) <= _MAX_DELETED
            or not all(isinstance(message_id, int) for message_id in message_ids)
        ):
            raise bad_request("message identifiers are not specified")
        for message_id in message_ids:
            self._chats.delete(chat, message_id)
        return True

    def _admit(self, chat: int) -> None:
        """403 for a blocked chat, 429 over the flood limits; else spend one send."""
        if chat in self.blocked:
            raise BotApiError(403, BLOCKED)
        self._flood.admit(chat)

    def _send_media(self, req: ApiRequest, method: str, kind: str) -> JSONDict:
        """Send a photo or document with an optional caption and keyboard."""
        chat = chat_id(req.params)
        caption = req.params.get("caption")
        mode = parse_mode(req.params)
        if caption is not None:
            check_caption(str(caption), mode)
        content = _content(req, "caption", None if caption is None else str(caption))
        data, file_name, mime_type = self._files.source(req, kind)
        media: object = (
            self._files.photo_sizes(data)
            if kind == "photo"
            else self._files.document(data, file_name, mime_type)
        )
        self._admit(chat)
        message = self._chats.new_message(chat, self._bot.to_json(), {kind: media, **content})
        return self._record_sent(req, method, message, mode, data)

    def _record_sent(
        self,
        req: ApiRequest,
        method: str,
        message: JSONDict,
        mode: str | None,
        data: bytes | None = None,
    ) -> JSONDict:
        """Remember a message the bot sent and answer it."""
        self._chats.show(message, mode)
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=message["chat"]["id"],
                message_id=message["message_id"],
                text=message.get("text", message.get("caption")),
                parse_mode=mode,
                reply_markup=reply_markup(req.params),
                photo=data if "photo" in message else None,
                document=data if "document" in message else None,
                params=req.params,
                seq=req.seq,
            )
        )
        return message

    def _edit(self, req: ApiRequest, method: str, field_name: str | None) -> object:
        """Edit a bot message's (or an inline message's) text, caption or keyboard."""
        if "inline_message_id" in req.params:
            inline_message_id = str(req.params["inline_message_id"])
            shown = self._inline.shown(inline_message_id)
            edited, text, mode = _edited(req, shown, field_name)
            posted = self._inline.show(inline_message_id, Shown(edited, mode))
            self._record_edit(req, method, posted.chat_id, posted.message_id, field_name, text)
            return True
        chat = chat_id(req.params)
        message_id = int_param(req.params, "message_id", "message identifier is not specified")
        shown_in_chat = self._chats.shown(chat, message_id)
        if shown_in_chat is None:
            raise bad_request("message to edit not found")
        if shown_in_chat.json["from"]["id"] != self._bot.id:
            raise bad_request("message can't be edited")
        edited, text, mode = _edited(req, shown_in_chat, field_name)
        self._admit(chat)
        self._chats.show(edited, mode)
        self._record_edit(req, method, chat, message_id, field_name, text)
        return edited

    def _record_edit(
        self,
        req: ApiRequest,
        method: str,
        chat: int,
        message_id: int,
        field_name: str | None,
        text: str | None,
    ) -> None:
        self.edits.append(
            Edit(
                method=method,
                chat_id=chat,
                message_id=message_id,
                text=text,
                parse_mode=parse_mode(req.params) if field_name else None,
                reply_markup=reply_markup(req.params),
                seq=req.seq,
                inline_message_id=req.params.get("inline_message_id"),
            )
        )


def _edited(
    req: ApiRequest, shown: Shown, field_name: str | None
) -> tuple[JSONDict, str | None, str | None]:
    """The message ``shown`` after the edit, its new text or caption, and their parse mode;
    400 as Telegram answers an edit it refuses."""
    kept = {
        key: value
        for key, value in shown.json.items()
        if key not in ("reply_markup", "entities", "caption", "caption_entities")
    }
    mode = shown.parse_mode
    text: str | None = None
    if field_name == "text":
        if "text" not in shown.json:
            raise bad_request("there is no text in the message to edit")
        text = str_param(req.params, "text", "message text is empty")
        mode = parse_mode(req.params)
        check_text(text, mode)
    elif field_name == "caption":
        if "text" in shown.json:
            raise bad_request("there is no caption in the message to edit")
        text = str(req.params.get("caption") or "")
        mode = parse_mode(req.params)
        check_caption(text, mode)
    else:
        # Only the keyboard changes: keep the text or caption with its entities.
        kept = {key: value for key, value in shown.json.items() if key != "reply_markup"}
    # Without reply_markup an edit removes the inline keyboard, as on Telegram.
    edited = {**kept, **_content(req, field_name or "text", text)}
    if _without_edit_date(edited) == _without_edit_date(shown.json) and (mode == shown.parse_mode):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    edited["edit_date"] = int(time.time())
    return edited, text, mode


def _content(req: ApiRequest, text_key: str, text: str | None) -> JSONDict:
    """The text or caption, its entities and an inline keyboard, as a Message carries them."""
    content: JSONDict = {}
    if text:
        content[text_key] = text
        entities_key = "entities" if text_key == "text" else "caption_entities"
        if req.params.get(entities_key) is not None:
            content[entities_key] = req.params[entities_key]
    markup = reply_markup(req.params)
    # A Message carries reply_markup only for inline keyboards.
    if markup is not None and "inline_keyboard" in markup:
        content["reply_markup"] = markup
    return content


def _without_edit_date(message: JSONDict) -> JSONDict:
    """A message without ``edit_date``, to compare contents."""
    return {key: value for key, value in message.items() if key != "edit_date"}
