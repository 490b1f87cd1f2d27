"""The fake Bot API, driven by a real python-telegram-bot 22 over loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import png
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InlineQueryResultGif,
    InputMediaPhoto,
    InputTextMessageContent,
    MenuButtonCommands,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.standins import (
    SECRET_HEADER,
    FakeTelegram,
    FloodLimits,
    serving,
    telegram_html_text,
    wait_for,
)

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Bayar QRIS", callback_data="kind:qris")],
        [InlineKeyboardButton("VA", callback_data="kind:va")],
    ]
)


def make_png(width: int, height: int) -> bytes:
    """A grey PNG of the given size."""
    buffer = io.BytesIO()
    png.Writer(width, height, greyscale=True).write(buffer, [[128] * width] * height)
    return buffer.getvalue()


def make_jpeg_header(width: int, height: int) -> bytes:
    """The start of a JPEG up to its frame size, which is all the fake reads."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes(9)
    return b"\xff\xd8" + app0 + sof0


@asynccontextmanager
async def connected(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A PTB Bot talking to ``fake`` served on loopback."""
    async with serving(fake.app) as server:
        fake.url = server.url
        async with bot_at(fake, server.url) as bot:
            yield bot


def bot_at(fake: FakeTelegram, url: str, token: str | None = None) -> Bot:
    return Bot(token or fake.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(flood=None)


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with connected(fake) as bot:
        yield bot


# ------------------------------------------------------------------- protocol basics


async def test_get_me_answers_as_the_configured_bot(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "kodebayar_test_bot", True)
    assert [call.method for call in fake.calls] == ["getMe", "getMe"]  # initialize() too
    assert all(call.status == 200 for call in fake.calls)


async def test_a_wrong_token_is_401_and_ptb_raises_invalid_token(fake: FakeTelegram) -> None:
    async with serving(fake.app) as server:
        with pytest.raises(InvalidToken):
            async with bot_at(fake, server.url, token="999:wrong"):
                pass
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.get("/bot999:wrong/getMe")
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert {call.status for call in fake.calls} == {401}


async def test_unknown_method_is_404(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    async with httpx.AsyncClient(base_url=fake.url or "") as client:
        answer = await client.post(f"/bot{fake.token}/fooBar")
    assert answer.status_code == 404
    assert answer.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_json_query_string_and_form_bodies_are_read_alike(
    fake: FakeTelegram, bot: Bot
) -> None:
    async with httpx.AsyncClient(base_url=f"{fake.url}/bot{fake.token}") as client:
        by_json = await client.post("/sendMessage", json={"chat_id": 7, "text": "json"})
        by_query = await client.get("/SENDMESSAGE", params={"chat_id": "7", "text": "query"})
        by_form = await client.post("/sendMessage", data={"chat_id": "7", "text": "form"})
    assert [answer.json()["result"]["text"] for answer in (by_json, by_query, by_form)] == [
        "json",
        "query",
        "form",
    ]
    assert [m.message_id for m in fake.sent_messages(7)] == [1, 2, 3]
    assert {call.method for call in fake.calls_to("sendmessage")} == {"sendMessage"}
    assert all(call.params["chat_id"] == 7 for call in fake.calls_to("sendMessage"))


# ------------------------------------------------------------------- sending and editing


async def test_send_message_round_trips_an_inline_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    text = "<b>Rp 25.000</b> &amp; <i>Bu Ani</i>"
    message = await bot.send_message(42, text, parse_mode="HTML", reply_markup=KEYBOARD)
    assert message.reply_markup == KEYBOARD
    assert (message.chat.id, message.chat.type, message.text) == (42, "private", text)
    assert message.from_user is not None and message.from_user.id == fake.bot_id
    sent = fake.last_message(42)
    assert (sent.method, sent.message_id, sent.text, sent.parse_mode) == (
        "sendMessage",
        message.message_id,
        text,
        "HTML",
    )
    assert sent.reply_markup == KEYBOARD.to_dict()
    assert [button["text"] for button in sent.buttons()] == ["Bayar QRIS", "VA"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Rp <25 ribu", 'Unsupported start tag "25" at byte offset 3'),
        ("💰 <br>", 'Unsupported start tag "br" at byte offset 5'),
        ("<b>Budi", 'Can\'t find end tag corresponding to start tag "b"'),
        ("Budi</b>", "Unexpected end tag at byte offset 4"),
        ("<b>Budi</i>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y', "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
    ],
)
def test_html_that_telegram_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + reason.replace("(", r"\(") + "$"):
        telegram_html_text(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<b>Rp 25.000</b> &amp; <I>x</I>", "Rp 25.000 & x"),
        ("a &lt; b &gt; c &quot;&#33;&#x21;", 'a < b > c "!!'),
        ("AT&T &copy; 3 > 2", "AT&T &copy; 3 > 2"),
        ('<a href="https://t.me/x?a=1&b=>">link</a>', "link"),
        ('<span class="tg-spoiler">s</span><pre><code class="language-py">c</code></pre>', "sc"),
    ],
)
def test_html_that_telegram_accepts(text: str, shown: str) -> None:
    assert telegram_html_text(text) == shown


async def test_bad_html_and_limits_are_400(fake: FakeTelegram, bot: Bot) -> None:
    # PTB lower-cases all but the first letter of the description, hence (?i) in matches.
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(1, "Rp <25 ribu", parse_mode="HTML")
    await bot.send_message(1, "Rp <25")  # fine without a parse mode
    await bot.send_message(1, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(1, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(1, make_png(4, 4), caption="x" * 1025)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(1, "hi", reply_markup=too_long)
    assert [m.text for m in fake.sent_messages(1)] == ["Rp <25", "<b>" + "x" * 4096 + "</b>"]
    assert [call.status for call in fake.calls_to("sendMessage")] == [400, 200, 200, 400, 400, 400]


async def test_send_photo_stores_the_upload_and_serves_it(fake: FakeTelegram, bot: Bot) -> None:
    data = make_png(400, 300)
    message = await bot.send_photo(5, data, caption="<b>QRIS</b>", parse_mode="HTML")
    assert [(size.width, size.height) for size in message.photo] == [
        (90, 68),
        (320, 240),
        (400, 300),
    ]
    assert message.caption == "<b>QRIS</b>"
    sent = fake.last_message(5)
    assert (sent.method, sent.photo, sent.text, sent.parse_mode) == (
        "sendPhoto",
        data,
        "<b>QRIS</b>",
        "HTML",
    )
    assert fake.calls_to("sendPhoto")[0].files == {"photo": data}

    file = await bot.get_file(message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == data

    again = await bot.send_photo(6, message.photo[-1].file_id)
    uploaded_again = await bot.send_photo(6, data)
    assert again.photo[-1].file_unique_id == message.photo[-1].file_unique_id
    assert uploaded_again.photo[-1].file_id == message.photo[-1].file_id
    assert [m.photo for m in fake.sent_messages(6)] == [data, data]


async def test_send_photo_reads_jpeg_and_rejects_what_is_no_image(
    fake: FakeTelegram, bot: Bot
) -> None:
    jpeg = await bot.send_photo(5, make_jpeg_header(60, 40))
    assert [(size.width, size.height) for size in jpeg.photo] == [(60, 40)]
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(5, b"not an image", filename="x.png")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(5, "AgACunknown")
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("AgACunknown")


async def test_send_document_keeps_name_and_bytes(fake: FakeTelegram, bot: Bot) -> None:
    data = b"%PDF-1.4 struk"
    message = await bot.send_document(8, data, filename="struk.pdf", caption="Struk")
    assert message.document is not None
    assert (message.document.file_name, message.document.file_size) == ("struk.pdf", len(data))
    sent = fake.last_message(8)
    assert (sent.method, sent.document, sent.photo, sent.text) == (
        "sendDocument",
        data,
        None,
        "Struk",
    )
    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data


async def test_edits_follow_telegram(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(3, "Pilih", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Pilih", 3, message.message_id, reply_markup=KEYBOARD)
    only_va = InlineKeyboardMarkup([[InlineKeyboardButton("VA", callback_data="kind:va")]])
    await bot.edit_message_reply_markup(3, message.message_id, reply_markup=only_va)
    assert fake.message_json(3, message.message_id)["text"] == "Pilih"
    edited = await bot.edit_message_text("<b>Baru</b>", 3, message.message_id, parse_mode="HTML")
    assert isinstance(edited, type(message)) and edited.reply_markup is None
    assert "reply_markup" not in fake.message_json(3, message.message_id)
    assert [(e.method, e.text, e.parse_mode, e.reply_markup) for e in fake.edits(3)] == [
        ("editMessageReplyMarkup", None, None, only_va.to_dict()),
        ("editMessageText", "<b>Baru</b>", "HTML", None),
    ]
    with pytest.raises(BadRequest, match=r"(?i)there is no caption in the message to edit"):
        await bot.edit_message_caption(3, message.message_id, caption="x")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", 3, 999)

    photo = await bot.send_photo(3, make_png(4, 4), caption="lama", reply_markup=KEYBOARD)
    await bot.edit_message_caption(3, photo.message_id, caption="baru")
    assert fake.message_json(3, photo.message_id)["caption"] == "baru"
    assert "reply_markup" not in fake.message_json(3, photo.message_id)
    assert fake.sent_messages(3)[0].text == "Pilih"  # the record keeps what was sent


async def test_commands_menu_button_and_small_methods(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("new", "Buat kode")], language_code="id")
    await bot.set_my_commands([BotCommand("new", "Make a code")])
    await bot.set_my_commands(
        [BotCommand("codes", "Kode")], scope=BotCommandScopeAllPrivateChats()
    )
    assert fake.commands == {
        "id": [{"command": "new", "description": "Buat kode"}],
        "": [{"command": "new", "description": "Make a code"}],
    }
    assert fake.commands_for({"type": "all_private_chats"}) == [
        {"command": "codes", "description": "Kode"}
    ]
    assert await bot.get_my_commands(language_code="id") == (BotCommand("new", "Buat kode"),)
    await bot.delete_my_commands(language_code="id")
    assert set(fake.commands) == {""}
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("New!", "x")])

    await bot.set_chat_menu_button(9, MenuButtonCommands())
    assert fake.menu_buttons == {9: {"type": "commands"}}
    assert await bot.get_chat_menu_button(9) == MenuButtonCommands()
    assert await bot.send_chat_action(9, "typing")
    message = await bot.send_message(9, "hapus")
    assert await bot.delete_message(9, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(9, message.message_id)
    assert await bot.close()
    assert await bot.log_out()


# ------------------------------------------------------------------- failures


async def test_flood_control_per_chat_answers_429_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta
    now = [1000.0]
    fake = FakeTelegram(clock=lambda: now[0])
    async with connected(fake) as bot:
        for text in ("1", "2", "3"):
            await bot.send_message(1, text)  # a burst of three is tolerated
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(1, "4")
        assert raised.value.retry_after == dtm.timedelta(seconds=1)
        await bot.send_message(2, "another chat is not held back")
        now[0] += 1.0
        await bot.send_message(1, "4 again")
        with pytest.raises(RetryAfter):
            await bot.edit_message_text("edited", 1, 1)  # edits count too
    assert fake.flood_429_count == 2
    assert [m.text for m in fake.sent_messages(1)] == ["1", "2", "3", "4 again"]
    assert [call.status for call in fake.calls_to("sendMessage")] == [200, 200, 200, 429, 200, 200]


async def test_flood_control_rounds_retry_after_up_and_limits_the_whole_bot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    now = [0.0]
    limits = FloodLimits(per_chat_per_second=0.3, per_chat_burst=1, global_burst=2)
    fake = FakeTelegram(flood=limits, clock=lambda: now[0])
    async with connected(fake) as bot:
        await bot.send_message(1, "a")
        with pytest.raises(RetryAfter) as per_chat:
            await bot.send_message(1, "b")
        await bot.send_message(2, "c")
        with pytest.raises(RetryAfter) as overall:
            await bot.send_message(3, "d")
        fake.flood = None
        await bot.send_message(1, "no limits")
    assert per_chat.value.retry_after == dtm.timedelta(seconds=4)  # 1/0.3 s, rounded up
    assert overall.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.flood_429_count == 2


async def test_fail_next_answers_the_next_calls_with_that_error(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.fail_next("sendMessage", 2, status=500)
    for _ in range(2):
        with pytest.raises(NetworkError) as raised:
            await bot.send_message(1, "x")
        assert type(raised.value) is NetworkError
    await bot.send_message(1, "x")
    fake.fail_next("sendPhoto", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as retry:
        await bot.send_photo(1, make_png(2, 2))
    assert retry.value.retry_after == dtm.timedelta(seconds=7)
    assert [call.status for call in fake.calls_to("sendMessage")] == [500, 500, 200]
    assert len(fake.sent_messages(1)) == 1
    assert fake.flood_429_count == 0  # injected, not flood control


async def test_a_blocked_chat_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(11, "halo")
    fake.block_chat(11)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(11, "lagi")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("ubah", 11, message.message_id)
    await bot.send_message(12, "other chats still work")
    fake.unblock_chat(11)
    await bot.send_message(11, "lagi")
    assert [m.text for m in fake.sent_messages(11)] == ["halo", "lagi"]


# ------------------------------------------------------------------- long polling


async def test_get_updates_wakes_at_once_and_offset_confirms(fake: FakeTelegram, bot: Bot) -> None:
    sari = fake.user(501)
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_for(lambda: fake.long_polls_waiting == 1, what="the poll to wait")
    update_id = await sari.send("/new qris 25000 Bu Ani")
    (update,) = await asyncio.wait_for(poll, timeout=5)  # far sooner than the 30 s timeout
    assert update.update_id == update_id
    assert update.message is not None and update.message.text == "/new qris 25000 Bu Ani"
    assert update.message.entities[0].to_dict() == {
        "type": "bot_command",
        "offset": 0,
        "length": 4,
    }
    assert await bot.get_updates(timeout=0) == (update,)  # not confirmed yet
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    assert await bot.get_updates(timeout=0) == ()  # confirmed updates are gone


async def test_get_updates_limit_and_allowed_updates(fake: FakeTelegram, bot: Bot) -> None:
    sari = fake.user(502)
    for text in ("a", "b", "c"):
        await sari.send(text)
    first = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in first if u.message] == ["a", "b"]
    message = await bot.send_message(502, "Pilih", reply_markup=KEYBOARD)
    query_id = await sari.press(message.message_id, "kind:va")
    (query,) = await bot.get_updates(
        offset=first[-1].update_id + 1, allowed_updates=["callback_query"], timeout=0
    )
    assert query.callback_query is not None
    assert (query.callback_query.id, query.callback_query.data) == (query_id, "kind:va")
    assert query.callback_query.message is not None
    assert query.callback_query.message.message_id == message.message_id


async def test_injected_updates_default_allowed_updates_and_dropping(
    fake: FakeTelegram, bot: Bot
) -> None:
    bot_user = {"id": fake.bot_id, "is_bot": True, "first_name": "Kodebayar Test"}
    member_update = {
        "chat": {"id": 5, "type": "private", "first_name": "Ani"},
        "from": {"id": 5, "is_bot": False, "first_name": "Ani"},
        "date": 0,
        "old_chat_member": {"status": "member", "user": bot_user},
        "new_chat_member": {"status": "kicked", "user": bot_user, "until_date": 0},
    }
    blocked = fake.inject({"update_id": 999, "my_chat_member": member_update})
    fake.inject({"chat_member": member_update})  # Telegram sends these only on request
    (update,) = await bot.get_updates(timeout=0)
    assert update.update_id == blocked == 1
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    (opted_in,) = await bot.get_updates(allowed_updates=["chat_member"], timeout=0)
    assert opted_in.chat_member is not None

    await fake.user(5).send("lost")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(allowed_updates=[], timeout=0) == ()
    assert len(fake.updates) == 3


async def test_a_newer_poll_ends_a_waiting_one_with_409(fake: FakeTelegram, bot: Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_for(lambda: fake.long_polls_waiting == 1, what="the first poll to wait")
    async with bot_at(fake, fake.url or "") as second_instance:  # PTB polls on one connection
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await asyncio.wait_for(older, timeout=5)


async def test_a_poll_whose_client_left_stops_waiting(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_for(lambda: fake.long_polls_waiting == 1, what="the poll to wait")
    poll.cancel()
    await wait_for(lambda: fake.long_polls_waiting == 0, what="the fake to notice")
    with pytest.raises(asyncio.CancelledError):
        await poll


async def test_a_polling_application_gets_messages_and_button_presses(
    fake: FakeTelegram,
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"start {' '.join(context.args or [])}", reply_markup=KEYBOARD
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(update.effective_message.text)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"picked {query.data}")

    async with serving(fake.app) as server:
        app = (
            Application.builder()
            .token(fake.token)
            .base_url(f"{server.url}/bot")
            .base_file_url(f"{server.url}/file/bot")
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        app.add_handler(CallbackQueryHandler(pressed))
        sari = fake.user(777, first_name="Sari", username="sari_jualan")
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling()
            try:
                await sari.send("/start tok3n")
                card = await sari.next_message()
                assert card.text == "start tok3n"
                mark = fake.mark()
                query_id = await sari.press_button(card.message_id, "qris")
                edit = await fake.wait_for_edit(777, after=mark)
                assert (edit.message_id, edit.text) == (card.message_id, "picked kind:qris")
                answer = await fake.wait_for_call("answerCallbackQuery", after=mark)
                assert answer.params["callback_query_id"] == query_id
                with pytest.raises(LookupError):
                    await sari.press_button(card.message_id, "qris")  # the edit removed it
                await sari.send("halo")
                assert (await sari.next_message()).text == "halo"
            finally:
                await app.updater.stop()
                await app.stop()
    assert [a.text for a in fake.answered_callbacks] == ["ok"]
    assert [m.text for m in sari.messages()] == ["start tok3n", "halo"]
    assert fake.calls_to("deleteWebhook")  # PTB's bootstrap before polling


# ------------------------------------------------------------------- webhook


async def test_webhook_push_with_secret_and_retries() -> None:
    fake = FakeTelegram(flood=None, webhook_retry_delay=0.01)
    received: list[tuple[dict[str, object], str | None]] = []
    answers = [500]  # the first push fails, the retry succeeds

    async def hook(request: Request) -> Response:
        received.append((await request.json(), request.headers.get(SECRET_HEADER)))
        return Response(status_code=answers.pop() if answers else 200)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with connected(fake) as bot, serving(receiver) as hook_server:
        sari = fake.user(42)
        update_id = await sari.send("sebelum webhook")  # pending, pushed once a webhook is set
        await bot.set_webhook(f"{hook_server.url}/hook", secret_token="s3cret_TOKEN-1")
        await wait_for(lambda: len(received) == 2, what="a failed push and its retry")
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        await sari.send("sesudah")
        await wait_for(lambda: len(received) == 3, what="the second update")
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()  # delivered updates are confirmed
    bodies = [body for body, _ in received]
    assert [body["update_id"] for body in bodies] == [update_id, update_id, update_id + 1]
    assert {secret for _, secret in received} == {"s3cret_TOKEN-1"}
    assert [(d.attempt, d.status) for d in fake.webhook_deliveries] == [
        (1, 500),
        (2, 200),
        (1, 200),
    ]
    assert info.url == f"{hook_server.url}/hook"
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_webhook_gives_up_after_the_last_attempt() -> None:
    fake = FakeTelegram(flood=None, webhook_attempts=2, webhook_retry_delay=0.01)

    async def broken(request: Request) -> Response:
        return Response(status_code=503)

    receiver = Starlette(routes=[Route("/hook", broken, methods=["POST"])])
    async with connected(fake) as bot, serving(receiver) as hook_server:
        await bot.set_webhook(f"{hook_server.url}/hook")
        await fake.user(43).send("lost")
        await wait_for(lambda: len(fake.webhook_deliveries) == 2, what="two attempts")
        info = await bot.get_webhook_info()
    assert [d.status for d in fake.webhook_deliveries] == [503, 503]
    assert info.pending_update_count == 0


# ------------------------------------------------------------------- test-side helpers


async def test_waiting_sees_only_what_comes_after_the_mark(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(1, "old")
    mark = fake.mark()
    await bot.send_message(1, "new")
    assert (await fake.wait_for_message(1, after=mark)).text == "new"
    assert (await fake.wait_for_message(1, after=0)).text == "old"
    with pytest.raises(AssertionError, match=r"timed out after 0\.1s"):
        await fake.wait_for_message(1, timeout=0.1)  # nothing new since the call
    waiting = asyncio.create_task(fake.wait_for_message(1, lambda m: m.text == "later"))
    await bot.send_message(1, "not this")
    await bot.send_message(1, "later")
    assert (await asyncio.wait_for(waiting, timeout=5)).text == "later"


async def test_pressing_needs_a_real_button_on_a_bot_message(fake: FakeTelegram, bot: Bot) -> None:
    sari = fake.user(600)
    mine = await bot.send_message(600, "Pilih", reply_markup=KEYBOARD)
    await sari.send("dari Sari")
    with pytest.raises(LookupError, match="no button with callback_data 'kind:x'"):
        await sari.press(mine.message_id, "kind:x")
    with pytest.raises(LookupError, match="the bot sent no message 2"):
        await sari.press(2, "kind:qris")  # Sari's own message
    with pytest.raises(LookupError, match="found \\[\\]"):
        await sari.press_button(mine.message_id, "BNI")
    with pytest.raises(LookupError):
        await fake.user(601).press(mine.message_id, "kind:qris")  # another user's chat
    query_id = await sari.press_button(mine.message_id, "qris")
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query(query_id)
    assert [(a.callback_query_id, a.text) for a in fake.answered_callbacks] == [(query_id, "ok")]


# ------------------------------------------------------------------- albums and inline mode


async def test_an_album_is_two_to_ten_photos_and_deleting_many_skips_the_missing(
    fake: FakeTelegram, bot: Bot
) -> None:
    photos = [make_png(10 + n, 10) for n in range(3)]
    album = await bot.send_media_group(9, [InputMediaPhoto(p, filename="q.png") for p in photos])
    assert [len(m.photo) for m in album] == [1, 1, 1]
    assert len({m.media_group_id for m in album}) == 1
    assert [m.photo for m in fake.sent_messages(9)] == photos
    with pytest.raises(BadRequest, match="2 to 10"):
        await bot.send_media_group(9, [InputMediaPhoto(photos[0])])
    assert await bot.delete_messages(9, [album[0].message_id, album[2].message_id, 99])
    with pytest.raises(LookupError):
        fake.message_json(9, album[0].message_id)
    assert fake.message_json(9, album[1].message_id)["photo"]


def article(result_id: str, text: str = "<b>VA</b> 123", **extra: object) -> object:
    return InlineQueryResultArticle(
        result_id, "VA Budi", InputTextMessageContent(text, parse_mode="HTML"), **extra
    )


async def test_an_inline_query_is_answered_once_with_results_checked_as_telegram_does(
    fake: FakeTelegram, bot: Bot
) -> None:
    seller = fake.user(700)
    photo = (await bot.send_photo(700, make_png(30, 30))).photo[-1].file_id
    query_id = await seller.inline_query("bud", chat_type="private")
    (update,) = await bot.get_updates(timeout=0)
    assert update.inline_query is not None
    assert (update.inline_query.query, update.inline_query.offset) == ("bud", "")
    assert (update.inline_query.chat_type, update.inline_query.from_user.id) == ("private", 700)

    refused = {
        "RESULTS_TOO_MUCH": [article(str(n)) for n in range(51)],
        "RESULT_ID_DUPLICATE": [article("1"), article("1")],
        "RESULT_ID_INVALID": [article("x" * 65)],
        "wrong file identifier": [InlineQueryResultCachedPhoto("1", "AgACunknown")],
        "RESULT_TYPE_INVALID": [InlineQueryResultGif("1", "https://x/g.gif", "https://x/t")],
        "MESSAGE_EMPTY": [article("1", " ")],
        "Unsupported start tag": [article("1", "<br>")],
        "BUTTON_COPY_TEXT_INVALID": [
            article(
                "1",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Salin", copy_text=CopyTextButton("9" * 257))]]
                ),
            )
        ],
    }
    for reason, results in refused.items():
        with pytest.raises(BadRequest, match="(?i)" + reason):
            await bot.answer_inline_query(query_id, results)  # type: ignore[arg-type]
    copy = InlineKeyboardMarkup([[InlineKeyboardButton("Salin", copy_text=CopyTextButton("1"))]])
    results = [
        InlineQueryResultCachedPhoto("qr", photo, caption="<b>QRIS</b>", parse_mode="HTML"),
        article("va", reply_markup=copy),
    ]
    assert await bot.answer_inline_query(
        query_id, results, cache_time=0, is_personal=True, next_offset="20"
    )
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_inline_query(query_id, [])

    answer = await fake.wait_for_inline_answer(query_id)
    assert (answer.query, answer.cache_time, answer.is_personal, answer.next_offset) == (
        "bud",
        0,
        True,
        "20",
    )
    assert [result["id"] for result in answer.results] == ["qr", "va"]
    assert fake.inline_answers == [answer]


async def test_a_chosen_result_is_posted_via_the_bot_and_only_a_keyboard_lets_it_be_edited(
    fake: FakeTelegram, bot: Bot
) -> None:
    seller, buyer = fake.user(700), fake.user(701, first_name="Budi")
    data = make_png(30, 30)
    photo = (await bot.send_photo(700, data)).photo[-1].file_id
    copy = InlineKeyboardMarkup([[InlineKeyboardButton("Salin", copy_text=CopyTextButton("1"))]])
    query_id = await seller.inline_query()
    await bot.answer_inline_query(
        query_id,
        [
            InlineQueryResultCachedPhoto("qr", photo, caption="<b>QRIS</b>", parse_mode="HTML"),
            article("va", reply_markup=copy),
        ],
    )
    answer = await fake.wait_for_inline_answer(query_id)

    qr = await seller.choose(answer, "qr", buyer)
    va = await seller.choose(answer, "va", buyer)
    fake.inline_feedback = False
    await seller.choose(answer, "qr", buyer)  # posted all the same; the bot is not told

    assert (qr.chat_id, qr.message_id, qr.sender_id, qr.photo, qr.text) == (
        701,
        1,
        700,
        data,
        "<b>QRIS</b>",
    )
    assert (va.message_id, va.text, va.parse_mode, va.photo) == (2, "<b>VA</b> 123", "HTML", None)
    assert qr.inline_message_id is None and va.inline_message_id is not None
    assert [m.message_id for m in fake.via_bot_messages(701)] == [1, 2, 3]
    updates = await bot.get_updates(timeout=0)
    chosen = [update.chosen_inline_result for update in updates]
    assert [(c.result_id, c.inline_message_id) for c in chosen if c] == [
        ("qr", None),
        ("va", va.inline_message_id),
    ]

    assert await bot.edit_message_text("<b>Habis</b>", inline_message_id=va.inline_message_id)
    with pytest.raises(BadRequest, match=r"(?i)there is no caption"):
        await bot.edit_message_caption(inline_message_id=va.inline_message_id, caption="x")
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_ID_INVALID"):
        await bot.edit_message_text("x", inline_message_id="AQAAAunknown")
    edited = fake.via_bot_messages(701)[1]
    assert (edited.text, edited.reply_markup, edited.edited) == ("<b>Habis</b>", None, True)
    [edit] = fake.edits(701)
    assert (edit.inline_message_id, edit.message_id, edit.text) == (
        va.inline_message_id,
        2,
        "<b>Habis</b>",
    )


async def test_with_inline_mode_off_get_me_says_so_and_no_query_comes(
    fake: FakeTelegram, bot: Bot
) -> None:
    assert (await bot.get_me()).supports_inline_queries
    fake.inline_mode = False
    assert not (await bot.get_me()).supports_inline_queries
    with pytest.raises(LookupError, match="inline mode is off"):
        await fake.user(700).inline_query("budi")
