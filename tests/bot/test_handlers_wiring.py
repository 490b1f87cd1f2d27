from __future__ import annotations

import re

from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
)

from bot.context import CONTEXT_TYPES
from bot.handlers import GATE_GROUP, PROMPT_GROUP, USER_DATA, menu, register
from bot.handlers.access import gate
from bot.handlers.errors import on_error
from bot.persistence import DatabasePersistence
from storage import Database


async def test_the_gate_runs_first_and_the_new_conversation_before_every_other_handler(
    db: Database,
) -> None:
    application = (
        ApplicationBuilder()
        .token("123:abc")
        .context_types(CONTEXT_TYPES)
        .persistence(DatabasePersistence(db, USER_DATA))
        .build()
    )
    register(application)
    assert sorted(application.handlers) == [GATE_GROUP, PROMPT_GROUP, 0]
    [gatekeeper] = application.handlers[GATE_GROUP]
    assert isinstance(gatekeeper, TypeHandler) and gatekeeper.callback is gate
    # Between the gate and the rest: the question whose typed answer must win over /new's.
    [prompt] = application.handlers[PROMPT_GROUP]
    assert isinstance(prompt, ConversationHandler)
    handlers = application.handlers[0]
    assert isinstance(handlers[0], ConversationHandler)
    # The catch-alls come last so they only see what nobody else wanted.
    assert isinstance(handlers[-2], MessageHandler)
    assert isinstance(handlers[-1], CallbackQueryHandler) and handlers[-1].pattern is None
    assert on_error in application.error_handlers
    # Both questions go on after a restart, or on another process.
    assert (prompt.name, prompt.persistent) == ("rename", True)
    assert (handlers[0].name, handlers[0].persistent) == ("new", True)


def test_the_menu_has_the_same_valid_commands_in_both_languages() -> None:
    indonesian, english = menu("id"), menu("en")
    assert [c.command for c in indonesian] == [c.command for c in english]
    assert {"new", "codes", "today", "help", "lang", "cancel"} <= {c.command for c in english}
    for command in (*indonesian, *english):
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
        assert 1 <= len(command.description) <= 256
