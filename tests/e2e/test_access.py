"""Access end to end: deny by default, invitations, the operators' seller commands, the menu."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import utcnow
from bot.drafts import Draft
from bot.texts import text
from storage import CodeKind, SellerStatus
from tests.standins import (
    ADMIN_ID,
    running_bot,
    say,
    settle,
    wait_for,
)


def refused(telegram_id: int) -> str:
    """The refusal a stranger gets, naming their own Telegram id."""
    return text("id", "access.refused", telegram_id=telegram_id)


async def test_a_stranger_gets_one_refusal_per_message_and_nothing_else(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        stranger = env.user(777, "Tamu")
        for message in (
            "/start",
            "/new qris 25000 Budi",
            "/codes",
            "/invite",
            "halo",
            "/start x y",
        ):
            await stranger.send(message)
        await settle(env)
        assert [m.text for m in stranger.messages()] == [refused(777)] * 6
        assert await env.services.db.sellers.get(777) is None


async def test_an_invitation_makes_a_seller_once(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        reply = await say(env.admin, "/invite")
        assert reply.text is not None
        assert "https://t.me/kodebayar_test_bot?start=" in reply.text
        token = reply.text.split("?start=")[1].split()[0]
        invitation = await env.services.db.invites.get(token)
        assert invitation is not None and invitation.created_by == ADMIN_ID
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)

        newcomer = env.user(501, "Sari")
        joined = await say(newcomer, f"/start {token}")
        assert joined.text is not None
        assert joined.text.startswith(text("id", "start.joined", name="Sari"))
        seller = await env.services.db.sellers.get(501)
        assert seller is not None and seller.invited_by == ADMIN_ID
        assert (seller.language, seller.timezone, seller.status) == (
            "id",
            "Asia/Jakarta",
            SellerStatus.ACTIVE,
        )
        assert (await say(newcomer, "/start")).text == text("id", "start.welcome", name="Sari")
        assert (await say(newcomer, f"/start {token}")).text == text("id", "start.already")

        latecomer = env.user(502, "Budi")
        assert (await say(latecomer, f"/start {token}")).text == text("id", "invite.used")
        assert (await say(latecomer, "/codes")).text == refused(502)
        assert await env.services.db.sellers.get(502) is None


async def test_a_start_addressed_to_another_bot_is_no_invitation(bot_home: Path | str) -> None:
    # Taken for an invitation, it passed the gate with no seller, and no handler here answers
    # a command for another bot: the stranger got the generic error instead of the refusal.
    async with running_bot(bot_home) as env:
        stranger = env.user(778, "Tamu")
        await stranger.send("/start@SomeOtherBot " + "A" * 24)
        await stranger.send("/start@SomeOtherBot b_" + "A" * 32)
        await settle(env)
        assert [m.text for m in stranger.messages()] == [refused(778)] * 2
        assert await env.services.db.sellers.get(778) is None


async def test_expired_and_unknown_invitations_are_refused(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        now = utcnow()
        async with env.services.db.write() as tx:
            await tx.invites.create(
                token="old-token",
                created_by=ADMIN_ID,
                now=now - timedelta(days=8),
                expires_at=now - timedelta(seconds=1),
            )
        stranger = env.user(777, "Tamu")
        assert (await say(stranger, "/start old-token")).text == text("id", "invite.expired")
        assert (await say(stranger, "/start no-such-token")).text == text("id", "invite.unknown")
        assert await env.services.db.sellers.get(777) is None


async def test_operator_commands_are_refused_to_sellers(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        for command in ("/invite", "/sellers", f"/suspend {ADMIN_ID}", "/unsuspend 501"):
            assert (await say(seller, command)).text == text("id", "operator.only")
        operator = await env.services.db.sellers.get(ADMIN_ID)
        assert operator is not None and operator.status is SellerStatus.ACTIVE


async def test_operators_list_suspend_and_unsuspend_sellers(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501, "Sari")
        listing = await say(env.admin, "/sellers")
        assert listing.text == "\n".join(
            [
                text("id", "sellers.title", count=2),
                text(
                    "id",
                    "sellers.line",
                    telegram_id=ADMIN_ID,
                    name="Operator",
                    role="pengelola",
                    status="aktif",
                ),
                text(
                    "id",
                    "sellers.line",
                    telegram_id=501,
                    name="Sari",
                    role="penjual",
                    status="aktif",
                ),
            ]
        )
        codes_list = await say(seller, "/codes")

        done = await say(env.admin, "/suspend 501")
        assert done.text == text("id", "suspend.done", name="Sari", telegram_id=501)
        suspended = text("id", "access.suspended")
        assert (await say(seller, "/codes")).text == suspended
        assert (await say(seller, "/start some-token")).text == suspended
        stored = await env.services.db.sellers.get(501)
        assert stored is not None and stored.status is SellerStatus.SUSPENDED

        restored = await say(env.admin, "/unsuspend 501")
        assert restored.text == text("id", "unsuspend.done", name="Sari", telegram_id=501)
        assert (await say(seller, "/codes")).text == codes_list.text


async def test_suspend_refuses_operators_unknown_ids_and_bad_input(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        cases = {
            f"/suspend {ADMIN_ID}": text("id", "suspend.operator"),
            "/suspend 424242": text("id", "seller.unknown", telegram_id=424242),
            "/suspend": text("id", "suspend.usage"),
            "/suspend Sari": text("id", "suspend.usage"),
            "/suspend 99999999999999999999": text("id", "suspend.usage"),
            "/unsuspend 1 2": text("id", "unsuspend.usage"),
        }
        for command, expected in cases.items():
            assert (await say(env.admin, command)).text == expected
        operator = await env.services.db.sellers.get(ADMIN_ID)
        assert operator is not None and operator.status is SellerStatus.ACTIVE


async def test_a_suspended_sellers_button_press_is_refused_with_an_alert(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        stored = await env.services.db.sellers.get(501)
        assert stored is not None
        draft = Draft(kind=CodeKind.QRIS, customer="Bu Ani", open_amount=True)
        code = await env.services.codes.issue(stored, draft, "test:1")
        listing = await say(seller, "/codes")
        async with env.services.db.write() as tx:
            await tx.sellers.set_status(501, SellerStatus.SUSPENDED)
        edits = len(env.telegram.edits())
        await seller.press(listing.message_id, f"code:{code.id}")
        await settle(env)
        answer = env.telegram.answered_callbacks[-1]
        assert (answer.text, answer.show_alert) == (text("id", "access.suspended"), True)
        assert len(env.telegram.edits()) == edits


async def test_help_cancel_and_unknown_input(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        # Inline mode is on: the help says how to share a code in a buyer's chat.
        helped = text("id", "help") + text("id", "help.share", bot=env.telegram.bot_username)
        assert (await say(seller, "/help")).text == helped
        assert (await say(env.admin, "/help")).text == helped + text("id", "help.operator")
        assert (await say(seller, "/cancel")).text == text("id", "cancel.nothing")
        assert (await say(seller, "/frobnicate")).text == text("id", "unknown")
        assert (await say(seller, "halo")).text == text("id", "unknown")


async def test_a_seller_who_blocked_the_bot_is_served_again_when_they_write(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        async with env.services.db.write() as tx:
            await tx.sellers.set_status(501, SellerStatus.BLOCKED)
        assert (await say(seller, "/cancel")).text == text("id", "cancel.nothing")
        stored = await env.services.db.sellers.get(501)
        assert stored is not None and stored.status is SellerStatus.ACTIVE


async def test_groups_and_updates_without_a_person_are_ignored(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        await env.invite_seller(501)
        group = {"id": -100200, "type": "group", "title": "Arisan"}
        sender = {"id": 501, "is_bot": False, "first_name": "Sari"}
        command = {"type": "bot_command", "offset": 0, "length": 6}
        env.telegram.inject(
            {
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": group,
                    "from": sender,
                    "text": "/codes",
                    "entities": [command],
                }
            }
        )
        channel = {"id": -100300, "type": "channel", "title": "News"}
        env.telegram.inject(
            {"channel_post": {"message_id": 1, "date": 1, "chat": channel, "text": "/codes"}}
        )
        await settle(env)
        assert env.telegram.sent_messages(-100200) == []
        assert env.telegram.sent_messages(-100300) == []
        stored = await env.services.db.sellers.get(501)
        assert (
            stored is not None and stored.chat_id == 501
        )  # payments still go to the private chat


async def test_the_command_menu_is_published_in_both_languages(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        await wait_for(lambda: len(env.telegram.commands) == 2, what="both command menus")
        menus = env.telegram.commands
        names = ["new", "codes", "today", "toko", "help", "lang", "cancel"]
        assert [c["command"] for c in menus[""]] == names
        assert [c["command"] for c in menus["en"]] == names
        assert menus[""][0]["description"] == text("id", "command.new")
        assert menus["en"][0]["description"] == text("en", "command.new")
