"""``/new``: a QRIS or VA code, asked for step by step with buttons, or given in one message.

The answers so far live in ``user_data`` as a ``Draft`` together with the id of the message
that asked the current question. A press on any other message's button is stale. The code's
request key is the chat and the id of the message that asked the last question (or of the
``/new ...`` message itself), so a double tap or a redelivered update finds the code already
made instead of making a second one.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.amounts import AmountError, parse_amount
from bot.cards import deliver_card
from bot.codebook import Code, CodeKind, request_key
from bot.codes import CodeIssuer, IssueError, PivotUnavailableError, QRISLimitError
from bot.context import Context
from bot.drafts import (
    OPEN_WORDS,
    Draft,
    DraftProblem,
    Step,
    clean_customer_name,
    parse_new_command,
)
from bot.keyboards import (
    NEW_ANY,
    NEW_BANK,
    NEW_CANCEL,
    NEW_CANCEL_DATA,
    NEW_KIND,
    NEW_OPEN_AMOUNT,
    NEW_OPEN_AMOUNT_DATA,
    NEW_RETRY,
    NEW_VA_INSTEAD,
    code_data,
    new_bank_data,
    new_kind_data,
    new_retry_data,
    new_va_instead_data,
)
from bot.texts import Safe, text

__all__ = [
    "KEPT",
    "TIMEOUT_SECONDS",
    "issue_in_background",
    "new_conversation",
    "say_timed_out",
]

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 600
_QRIS_OFFERED = 3  # the seller's existing QRIS codes offered when Pivot's quota is reached
_BANKS_PER_ROW = 3
_STATE_KEY = "new_code"
# New messages only: an edited earlier answer must not count as the next one.
_TYPED = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
_NOT_TYPED = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND
_END = ConversationHandler.END
_STAY = None  # a handler's answer that keeps the conversation where it is


@dataclass(frozen=True, slots=True)
class _Pending:
    """The answers so far and the message that asked the current question."""

    draft: Draft
    prompt_id: int


# What this conversation keeps in user_data, with its type (bot.persistence stores it).
KEPT: dict[str, object] = {_STATE_KEY: _Pending}


# Entry: /new, in one message or not


async def new_command(update: Update, context: Context) -> object:
    """``/new [qris|va ...]``: ask what is missing, or make the code right away."""
    message = update.effective_message
    if message is None:
        return _END
    codes = context.services.codes
    channels = await codes.channels()
    parsed = parse_new_command(list(context.args or []), channels)
    language = context.language
    notes: list[str] = []
    if parsed.problem is DraftProblem.UNKNOWN_KIND:
        notes.append(text(language, "new.unknown_kind"))
    elif parsed.problem is DraftProblem.UNKNOWN_BANK:
        notes.append(
            text(language, "new.unknown_bank", bank=parsed.rejected, banks=", ".join(channels))
        )
    draft = parsed.draft
    if parsed.amount_error is not None:
        notes.append(_amount_error_text(language, parsed.amount_error))
    elif draft.amount is not None and (
        problem := await _limit_problem(codes, language, draft, draft.amount)
    ):
        notes.append(problem)
        draft = replace(draft, amount=None)
    _forget(context)
    if draft.next_step is Step.READY:
        return await _finish(update, context, draft, message.message_id)
    return await _ask(update, context, draft, notes)


# Buttons


async def on_kind(update: Update, context: Context) -> object:
    """The QRIS or VA button."""
    query, pending = await _pressed(update, context)
    if query is None or pending is None or context.matches is None:
        return _STAY
    kind = CodeKind(context.matches[0][1])
    return await _ask(update, context, replace(pending.draft, kind=kind), edit=query)


async def on_bank(update: Update, context: Context) -> object:
    """A bank button (VA)."""
    query, pending = await _pressed(update, context)
    if query is None or pending is None or context.matches is None:
        return _STAY
    bank = context.matches[0][1]
    channels = await context.services.codes.channels()
    if bank not in channels:  # no longer enabled at Pivot since the buttons were drawn
        note = text(context.language, "new.unknown_bank", bank=bank, banks=", ".join(channels))
        return await _ask(update, context, pending.draft, [note], edit=query)
    draft = replace(pending.draft, bank=bank)
    if draft.next_step is Step.READY:
        return await _finish(update, context, draft, pending.prompt_id, query)
    return await _ask(update, context, draft, edit=query)


async def on_open_amount(update: Update, context: Context) -> object:
    """The open-amount button: the buyer decides how much."""
    query, pending = await _pressed(update, context)
    if query is None or pending is None:
        return _STAY
    draft = pending.draft.with_amount(None)
    return await _finish(update, context, draft, pending.prompt_id, query)


async def on_cancel_button(update: Update, context: Context) -> object:
    """The cancel button on the current question."""
    query, pending = await _pressed(update, context)
    if query is None or pending is None:
        return _STAY
    _forget(context)
    await query.edit_message_text(
        text(context.language, "new.cancelled"), parse_mode=ParseMode.HTML
    )
    return _END


async def on_stale_button(update: Update, context: Context) -> object:
    """A button of ours from a question that is no longer asked."""
    if update.callback_query is not None:
        await update.callback_query.answer(text(context.language, "new.stale_button"))
    return _STAY


async def on_retry(update: Update, context: Context) -> object:
    """Try again after Pivot was down: resume the code of the same request key."""
    query = update.callback_query
    seller = context.seller
    if query is None or context.matches is None:
        return _STAY
    # Only the message id comes from the button; the seller is whoever pressed it.
    message_id = int(context.matches[0][1])
    key = _request_key(update, message_id)
    if await context.services.codebook.pending(seller, key) is None:  # made since, or failed
        await query.answer(text(seller.language, "new.stale_button"))
        return _STAY
    await query.answer()
    codes = context.services.codes
    await issue_in_background(
        update,
        context,
        lambda: codes.resume(seller, key),
        query,
        retry_data=new_retry_data(message_id),
    )
    # Whatever else the seller is in the middle of goes on.
    return _STAY


async def on_va_instead(update: Update, context: Context) -> object:
    """The button under a QRIS Pivot refused (quota reached): a VA for the same customer."""
    query = update.callback_query
    if query is None or context.matches is None:
        return _STAY
    code_id = int(context.matches[0][1])
    refused = await context.services.codebook.qris(context.seller, code_id)
    if refused is None:
        await query.answer(text(context.language, "new.stale_button"))
        return _STAY
    await query.answer()
    _forget(context)
    draft = Draft(kind=CodeKind.VA, customer=refused.customer)
    codes = context.services.codes
    if refused.amount is None:
        draft = draft.with_amount(None)
    elif await _limit_problem(codes, context.language, draft, refused.amount) is None:
        draft = draft.with_amount(refused.amount)  # else the amount is asked after the bank
    return await _ask(update, context, draft, edit=query)


# Typed answers


async def on_name(update: Update, context: Context) -> object:
    """The customer's name."""
    typed = _typed_answer(update, context)
    if typed is None:
        return _END
    pending, answer = typed
    name = clean_customer_name(answer)
    if not name:
        return await _ask(update, context, pending.draft, [text(context.language, "name.empty")])
    draft = replace(pending.draft, customer=name)
    if draft.next_step is Step.READY:
        return await _finish(update, context, draft, pending.prompt_id)
    return await _ask(update, context, draft)


async def on_amount(update: Update, context: Context) -> object:
    """A typed amount (or a typed "bebas"/"open")."""
    typed = _typed_answer(update, context)
    if typed is None:
        return _END
    pending, answer = typed
    language, draft = context.language, pending.draft
    if answer.strip().lower() in OPEN_WORDS:
        return await _finish(update, context, draft.with_amount(None), pending.prompt_id)
    try:
        amount = parse_amount(answer)
    except AmountError as exc:
        return await _ask(update, context, draft, [_amount_error_text(language, exc)])
    problem = await _limit_problem(context.services.codes, language, draft, amount)
    if problem is not None:
        return await _ask(update, context, draft, [problem])
    return await _finish(update, context, draft.with_amount(amount), pending.prompt_id)


async def expect_button(update: Update, context: Context) -> object:
    """Something typed where a button was expected."""
    await _reply(update, context, "new.expect_button")
    return _STAY


async def expect_text(update: Update, context: Context) -> object:
    """A photo, sticker... where a typed answer was expected."""
    await _reply(update, context, "new.expect_text")
    return _STAY


async def cancel_new(update: Update, context: Context) -> object:
    """``/cancel`` during the conversation."""
    _forget(context)
    await _reply(update, context, "new.cancelled")
    return _END


async def on_timeout(update: Update, context: Context) -> object:
    """No answer for ``TIMEOUT_SECONDS``: say so and forget the draft."""
    _forget(context)
    await say_timed_out(update, context, "new.timeout")
    return _END


async def say_timed_out(update: Update, context: Context, key: str) -> None:
    """Tell the chat that a question went unanswered (a timeout's update has no message to
    reply to, so this sends one)."""
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id, text(context.language, key), parse_mode=ParseMode.HTML
        )


# Asking and finishing


async def _ask(
    update: Update,
    context: Context,
    draft: Draft,
    notes: list[str] | None = None,
    *,
    edit: CallbackQuery | None = None,
) -> object:
    """Ask for the draft's next missing piece (editing the pressed message, if any)."""
    language = context.language
    chat = update.effective_chat
    if chat is None:
        return _END
    keyboard = await _keyboard(context, language, draft)
    question = _question(draft) if keyboard is not None else "new.no_banks"
    body = "\n\n".join([*(notes or []), text(language, question)])
    if edit is not None:
        await edit.edit_message_text(body, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        prompt_id = edit.message.message_id if edit.message else 0
    else:
        sent = await chat.send_message(body, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        prompt_id = sent.message_id
    if keyboard is None:  # a VA with no bank to choose from: nothing more to ask
        _forget(context)
        return _END
    if context.user_data is not None:
        context.user_data[_STATE_KEY] = _Pending(draft, prompt_id)
    return draft.next_step


def _question(draft: Draft) -> str:
    """The catalogue key of the question for the draft's next step."""
    step = draft.next_step
    if step is Step.AMOUNT:
        return "new.ask_amount.va" if draft.kind is CodeKind.VA else "new.ask_amount.qris"
    return {Step.KIND: "new.choose_kind", Step.BANK: "new.choose_bank"}.get(step, "new.ask_name")


def _button(language: str, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text(language, key), callback_data=data)


async def _keyboard(context: Context, language: str, draft: Draft) -> InlineKeyboardMarkup | None:
    """The buttons for the next question, cancel last; None when there is no bank to offer."""
    step = draft.next_step
    rows: list[list[InlineKeyboardButton]] = []
    if step is Step.KIND:
        rows.append(
            [
                _button(language, "new.button.qris", new_kind_data(CodeKind.QRIS)),
                _button(language, "new.button.va", new_kind_data(CodeKind.VA)),
            ]
        )
    elif step is Step.BANK:
        # Button texts are Pivot's channel codes: sellers call the banks by them too.
        banks = [
            InlineKeyboardButton(bank, callback_data=new_bank_data(bank))
            for bank in await context.services.codes.channels()
        ]
        if not banks:
            return None
        rows.extend(banks[i : i + _BANKS_PER_ROW] for i in range(0, len(banks), _BANKS_PER_ROW))
    elif step is Step.AMOUNT:
        rows.append([_button(language, "new.button.open_amount", NEW_OPEN_AMOUNT_DATA)])
    rows.append([_button(language, "new.button.cancel", NEW_CANCEL_DATA)])
    return InlineKeyboardMarkup(rows)


async def _finish(
    update: Update,
    context: Context,
    draft: Draft,
    message_id: int,
    query: CallbackQuery | None = None,
) -> object:
    """Issue the complete draft under the request key of ``message_id``; the conversation ends."""
    _forget(context)
    codes, seller = context.services.codes, context.seller
    key = _request_key(update, message_id)
    await issue_in_background(
        update,
        context,
        lambda: codes.issue(seller, draft, key),
        query,
        retry_data=new_retry_data(message_id),
    )
    return _END


async def issue_in_background(
    update: Update,
    context: Context,
    attempt: Callable[[], Awaitable[Code | None]],
    query: CallbackQuery | None,
    *,
    retry_data: str,
) -> bool:
    """Show that work is under way, then run ``attempt`` in the background; False if not run.

    The pressed message (``query``), or a new one, says what became of it; when Pivot was
    unavailable it carries a button with ``retry_data`` that resumes the same request.
    """
    chat = update.effective_chat
    if chat is None:
        return False
    working = text(context.language, "new.working")
    status: Message | bool
    if query is not None:
        # Editing the pressed message also takes its buttons away: no second tap.
        try:
            status = await query.edit_message_text(working, parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return False  # a tap that came before the buttons went: the first one works
            raise
    else:
        status = await chat.send_message(working, parse_mode=ParseMode.HTML)
    # Updates are handled one at a time, and Pivot may take seconds (retries, timeouts):
    # nobody else's update waits for it. PTB tracks the task, routes its errors to the
    # error handler and waits for it at shutdown.
    context.application.create_task(
        _issue_and_report(context, chat.id, attempt, status, retry_data),
        update=update,
        name=f"new-code:{chat.id}:{retry_data}",
    )
    return True


async def _issue_and_report(
    context: Context,
    chat_id: int,
    attempt: Callable[[], Awaitable[Code | None]],
    status: Message | bool,
    retry_data: str,
) -> None:
    """Run ``attempt``, then say the code is ready and send its card, or say what failed."""
    seller = context.seller
    language = seller.language
    try:
        code = await attempt()
    except PivotUnavailableError as exc:
        retry = _button(language, "button.retry", retry_data)
        await _edit(status, text(language, exc.key, **exc.values), InlineKeyboardMarkup([[retry]]))
        return
    except QRISLimitError as exc:
        await _edit(status, *await _instead_of_qris(context, language, exc.code))
        return
    except IssueError as exc:
        await _edit(status, text(language, exc.key, **exc.values))
        return
    if code is None:
        await _edit(status, text(language, "new.stale_button"))
        return
    await _edit(status, text(language, "new.done"))
    zone = ZoneInfo(seller.timezone)
    services = context.services
    await deliver_card(
        context.bot, services.relay, chat_id, code, language, zone=zone, codebook=services.codebook
    )


async def _edit(
    status: Message | bool, body: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the "working" message's text (it is always a chat message, never inline).

    A status line Telegram will not take, even after the ``Sender``'s retries, is logged and
    left: what follows it (the card) matters more.
    """
    if isinstance(status, Message):
        try:
            await status.edit_text(body, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except TelegramError as exc:
            logger.warning("could not update the status message: %s", exc)


async def _instead_of_qris(
    context: Context, language: str, refused: Code
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Pivot's QRIS quota is reached: say so, and offer a VA or one of the seller's QRIS."""
    customer = refused.customer
    paragraphs = [text(language, "error.qris_limit", customer=customer)]
    rows: list[list[InlineKeyboardButton]] = []
    if await context.services.codes.channels():
        paragraphs.append(text(language, "error.qris_limit.instead_va", customer=customer))
        label = text(language, "new.button.va_instead", customer=Safe(customer))
        rows.append([InlineKeyboardButton(label, callback_data=new_va_instead_data(refused.id))])
    # A static QRIS takes any payer and any amount: one the seller already has will do.
    existing = await context.services.codebook.reusable_qris(context.seller, limit=_QRIS_OFFERED)
    if existing:
        paragraphs.append(text(language, "error.qris_limit.instead_reuse"))
    for code in existing:
        label = text(language, "new.button.reuse_qris", customer=Safe(code.customer))
        rows.append([InlineKeyboardButton(label, callback_data=code_data(code.id, "resend"))])
    return "\n\n".join(paragraphs), InlineKeyboardMarkup(rows) if rows else None


# Small helpers


async def _pressed(
    update: Update, context: Context
) -> tuple[CallbackQuery | None, _Pending | None]:
    """Answer the press at once; the pending draft only if it pressed the current question."""
    query = update.callback_query
    if query is None:
        return None, None
    pending = _pending(context)
    if pending is None or query.message is None or query.message.message_id != pending.prompt_id:
        await query.answer(text(context.language, "new.stale_button"))
        return query, None
    await query.answer()
    return query, pending


def _typed_answer(update: Update, context: Context) -> tuple[_Pending, str] | None:
    """The pending draft and the text typed in answer to its question; None without either."""
    pending = _pending(context)
    message = update.effective_message
    if pending is None or message is None or message.text is None:
        return None
    return pending, message.text


def _pending(context: Context) -> _Pending | None:
    return context.recalled(_STATE_KEY, _Pending)


def _forget(context: Context) -> None:
    context.forget(_STATE_KEY)


def _request_key(update: Update, message_id: int) -> str:
    """The request key of the code ``message_id`` completed, in this update's chat."""
    chat = update.effective_chat
    return request_key(chat.id if chat else 0, message_id)


async def _reply(update: Update, context: Context, key: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_html(text(context.language, key))


def _amount_error_text(language: str, error: AmountError) -> str:
    return text(language, f"amount.{error.problem.value}")


async def _limit_problem(
    codes: CodeIssuer, language: str, draft: Draft, amount: int
) -> str | None:
    """Why ``amount`` is outside what Pivot accepts for the draft's kind, or None."""
    problem = await codes.amount_problem(draft.kind or CodeKind.QRIS, draft.bank, amount)
    return None if problem is None else text(language, problem.key, **problem.values)


# Wiring


def new_conversation() -> ConversationHandler[Context]:
    """The /new conversation: entry, one state per missing piece, cancel, timeout."""
    typed_instead = MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, expect_button)
    not_typed = MessageHandler(_NOT_TYPED, expect_text)
    stale = CallbackQueryHandler(on_stale_button, pattern=NEW_ANY)
    retry = CallbackQueryHandler(on_retry, pattern=NEW_RETRY)
    va_instead = CallbackQueryHandler(on_va_instead, pattern=NEW_VA_INSTEAD)
    states: dict[object, list[BaseHandler[Update, Context, object]]] = {
        Step.KIND: [
            CallbackQueryHandler(on_kind, pattern=NEW_KIND),
            typed_instead,
        ],
        Step.BANK: [CallbackQueryHandler(on_bank, pattern=NEW_BANK), typed_instead],
        Step.NAME: [MessageHandler(_TYPED, on_name), not_typed],
        Step.AMOUNT: [
            CallbackQueryHandler(on_open_amount, pattern=NEW_OPEN_AMOUNT),
            MessageHandler(_TYPED, on_amount),
            not_typed,
        ],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
    }
    with warnings.catch_warnings():
        # Deliberate: buttons are checked against the current question ourselves, and the
        # typed answers need per_message=False.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("new", new_command), retry, va_instead, stale],
            states=states,
            fallbacks=[
                CommandHandler("new", new_command),
                CommandHandler("cancel", cancel_new),
                CallbackQueryHandler(on_cancel_button, pattern=NEW_CANCEL),
                retry,
                va_instead,
                stale,
            ],
            per_user=True,
            per_chat=True,
            per_message=False,
            conversation_timeout=TIMEOUT_SECONDS,
            # Kept in the database: it goes on after a restart, or on another process.
            name="new",
            persistent=True,
        )
