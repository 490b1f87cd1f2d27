"""Steps a seller takes in the chat, each waiting for what the bot does in answer."""

from __future__ import annotations

import asyncio

from bot.texts import CATALOGUES, text
from tests.standins.botapi.records import Edit, SentMessage
from tests.standins.botapi.users import FakeUser
from tests.standins.harness import BotEnv
from tests.standins.servers import wait_for

SELLER = 2001


async def new_seller(env: BotEnv, user_id: int = SELLER, name: str = "Sari") -> FakeUser:
    """An invited seller, once the bot has welcomed them (nothing else is left to arrive)."""
    mark = env.telegram.mark()
    user = await env.invite_seller(user_id, name)
    welcome = text("id", "start.joined", name=name)
    await user.next_message(lambda m: (m.text or "").startswith(welcome), after=mark)
    return user


async def say(user: FakeUser, words: str) -> SentMessage:
    """Send ``words``; the bot's next message in the chat."""
    mark = user.fake.mark()
    await user.send(words)
    return await user.next_message(after=mark)


async def press(user: FakeUser, message: SentMessage | Edit, button: str) -> Edit:
    """Press the button whose text contains ``button``; the bot's edit of that message."""
    mark = user.fake.mark()
    await user.press_button(message.message_id, button)
    return await user.fake.wait_for_edit(
        user.chat_id, lambda edit: edit.message_id == message.message_id, after=mark
    )


def is_card(message: SentMessage) -> bool:
    """Whether ``message`` is a code's card: it ends saying it can be paid many times, or (a
    closed VA) until when it is valid."""
    endings = [text(lang, "card.reusable") for lang in ("id", "en")]
    endings += [CATALOGUES[lang]["card.valid_until"].split("{")[0] for lang in ("id", "en")]
    return any(ending in (message.text or "") for ending in endings)


async def card_after(user: FakeUser, mark: int) -> SentMessage:
    """The card the bot sends after ``mark``, once it said the code is ready."""
    await user.fake.wait_for_edit(
        user.chat_id, lambda edit: edit.text == text("id", "new.done"), after=mark
    )
    return await user.next_message(is_card, after=mark)


def buttons(message: SentMessage | Edit) -> list[str]:
    """The texts of a message's inline buttons."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def to_amount(
    user: FakeUser, kind: str, customer: str, bank: str | None = None
) -> SentMessage:
    """Walk /new up to the amount question."""
    prompt = await say(user, "/new")
    edited = await press(user, prompt, kind)
    if bank is not None:
        edited = await press(user, edited, bank)
    assert edited.text == text("id", "new.ask_name")
    return await say(user, customer)


async def settle(env: BotEnv) -> None:
    """Wait until the bot has fetched and handled every update sent so far."""
    await wait_for(
        lambda: env.telegram.unconfirmed_updates == 0, timeout=10, what="updates fetched"
    )
    await asyncio.wait_for(env.runtime.updates_handled(), 10)
