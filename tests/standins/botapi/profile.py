"""The bot itself as Telegram knows it: getMe, its command lists and its menu buttons."""

from __future__ import annotations

import json
import re

from tests.standins.botapi.errors import bad_request
from tests.standins.botapi.params import ApiRequest, chat_id
from tests.standins.botapi.records import JSONDict

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class BotProfile:
    """The bot's identity, its commands per scope and language, and its menu buttons."""

    def __init__(self, token: str, username: str, first_name: str) -> None:
        self.token = token
        self.username = username
        self.id = int(token.split(":", 1)[0])
        self.first_name = first_name
        self.supports_inline_queries = True  # BotFather's /setinline
        self.menu_buttons: dict[int | None, JSONDict] = {}  # None: the default menu button
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}

    def to_json(self) -> JSONDict:
        """The bot as a Bot API User object."""
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    @property
    def commands(self) -> dict[str, list[JSONDict]]:
        """setMyCommands for the default scope, by language_code ("" for all languages)."""
        default = json.dumps({"type": "default"}, sort_keys=True)
        return {lang: cmds for (scope, lang), cmds in self._commands.items() if scope == default}

    def commands_for(self, scope: object, language_code: object) -> list[JSONDict]:
        """The commands set for ``scope`` (default scope if None) and ``language_code``."""
        return self._commands.get(_command_key(scope, language_code), [])

    async def get_me(self, req: ApiRequest) -> object:
        """``getMe``: the bot."""
        return {
            **self.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def set_my_commands(self, req: ApiRequest) -> object:
        """``setMyCommands``, kept per scope and language_code."""
        commands = req.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = _command_key(req.params.get("scope"), req.params.get("language_code"))
        self._commands[key] = commands
        return True

    async def get_my_commands(self, req: ApiRequest) -> object:
        """``getMyCommands`` for a scope and language_code."""
        return self.commands_for(req.params.get("scope"), req.params.get("language_code"))

    async def delete_my_commands(self, req: ApiRequest) -> object:
        """``deleteMyCommands`` for a scope and language_code."""
        key = _command_key(req.params.get("scope"), req.params.get("language_code"))
        self._commands.pop(key, None)
        return True

    async def set_chat_menu_button(self, req: ApiRequest) -> object:
        """``setChatMenuButton`` for a chat or the default."""
        chat = chat_id(req.params) if "chat_id" in req.params else None
        button = req.params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict):
            raise bad_request("can't parse menu_button JSON object")
        self.menu_buttons[chat] = button
        return True

    async def get_chat_menu_button(self, req: ApiRequest) -> object:
        """``getChatMenuButton`` for a chat or the default."""
        chat = chat_id(req.params) if "chat_id" in req.params else None
        return self.menu_buttons.get(chat) or self.menu_buttons.get(None) or {"type": "default"}

    async def say_yes(self, req: ApiRequest) -> object:
        """``close`` and ``logOut``: nothing to do but say yes."""
        return True


def _command_key(scope: object, language_code: object) -> tuple[str, str]:
    """Where setMyCommands keeps a scope and language's commands."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")
