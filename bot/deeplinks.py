"""Deep links: ``https://t.me/<bot>?start=<token>``, and which kind a token is.

Telegram hands the bot ``/start <token>``, 1 to 64 characters of ``A-Za-z0-9_-``. Invitations
and buyer links share that space, so a token's shape says its kind, never a look-up that could
find the other kind: a buyer token is ``b_`` and 32 random characters (34 in all), and an
invitation token is 24 (``secrets.token_urlsafe(18)``), so no invitation ever made has a
buyer's shape. Each kind is then looked up in its own table only: an invitation token opened as
a buyer link, or the other way round, finds nothing.
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum

__all__ = [
    "LinkKind",
    "link_kind",
    "new_buyer_token",
    "new_invitation_token",
    "start_link",
    "start_token",
]

_START = re.compile(r"^/start(?:@(\w+))? +([A-Za-z0-9_-]{1,64})\Z")
_BUYER_PREFIX = "b_"
_BUYER = re.compile(rf"^{_BUYER_PREFIX}[A-Za-z0-9_-]{{32}}\Z")


class LinkKind(StrEnum):
    """What a deep link's token opens."""

    INVITATION = "invitation"  # makes whoever opens it a seller, once
    BUYER = "buyer"  # shows one code, to anyone, until revoked


def start_token(message_text: str, bot_username: str) -> str | None:
    """The token of a ``/start <token>`` (or ``/start@<this bot> <token>``) message, or None
    for any other text: a ``/start`` addressed to another bot is not for this one, and no
    handler here would answer it."""
    match = _START.match(message_text)
    if match is None:
        return None
    addressee = match.group(1)
    if addressee is not None and addressee.casefold() != bot_username.casefold():
        return None
    return match.group(2)


def link_kind(token: str) -> LinkKind:
    """Which kind of link ``token`` can only be: its shape decides."""
    return LinkKind.BUYER if _BUYER.match(token) else LinkKind.INVITATION


def new_invitation_token() -> str:
    """A fresh invitation token: 24 URL-safe characters (144 random bits)."""
    return secrets.token_urlsafe(18)


def new_buyer_token() -> str:
    """A fresh buyer token: ``b_`` and 32 URL-safe characters (192 random bits)."""
    return _BUYER_PREFIX + secrets.token_urlsafe(24)


def start_link(bot_username: str, token: str) -> str:
    """The link that opens the bot's chat and sends it ``/start <token>``."""
    return f"https://t.me/{bot_username}?start={token}"
