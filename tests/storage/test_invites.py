"""InviteRepository: one-time tokens, redeemed atomically."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage import Database, InviteResult
from tests.standins import NOW

_EXPIRES = NOW + timedelta(days=1)


async def _create(db: Database, token: str) -> None:
    async with db.write() as tx:
        await tx.invites.create(token=token, created_by=1, now=NOW, expires_at=_EXPIRES)


async def _redeem(db: Database, token: str, used_by: int, at: timedelta) -> InviteResult:
    async with db.write() as tx:
        return await tx.invites.redeem(token, used_by=used_by, now=NOW + at)


async def test_create_stores_an_unused_invite(db: Database) -> None:
    await _create(db, "tok")
    invite = await db.invites.get("tok")
    assert invite is not None
    assert (invite.created_by, invite.created_at, invite.expires_at) == (1, NOW, _EXPIRES)
    assert (invite.used_by, invite.used_at) == (None, None)


async def test_accepted_once_then_used(db: Database) -> None:
    await _create(db, "tok")
    assert await _redeem(db, "tok", 42, timedelta(hours=1)) is InviteResult.ACCEPTED
    assert await _redeem(db, "tok", 43, timedelta(hours=2)) is InviteResult.USED
    invite = await db.invites.get("tok")
    assert invite is not None
    assert (invite.used_by, invite.used_at) == (42, NOW + timedelta(hours=1))


async def test_expired_from_the_expiry_instant_on(db: Database) -> None:
    await _create(db, "late")
    await _create(db, "in_time")
    lifetime = _EXPIRES - NOW
    assert await _redeem(db, "late", 42, lifetime) is InviteResult.EXPIRED
    assert await _redeem(db, "in_time", 43, lifetime - timedelta(microseconds=1)) is (
        InviteResult.ACCEPTED
    )
    late = await db.invites.get("late")
    assert late is not None
    assert late.used_by is None


async def test_unknown_token(db: Database) -> None:
    assert await _redeem(db, "nope", 42, timedelta(0)) is InviteResult.UNKNOWN


async def test_two_people_racing_for_one_token_one_wins(db: Database) -> None:
    await _create(db, "tok")
    results = await asyncio.gather(
        *(_redeem(db, "tok", used_by, timedelta(minutes=1)) for used_by in range(10))
    )
    assert sorted(results) == [InviteResult.ACCEPTED] + [InviteResult.USED] * 9
