"""The HTTP routes over loopback: what reaches the ledger and the update queue, and what not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.web import MAX_BODY_BYTES, create_web_app
from tests.standins import serving

KEY = "callback-key-123"
SECRET = "webhook-secret-456"


class Sinks:
    def __init__(self) -> None:
        self.callbacks: list[bytes] = []
        self.truncated: list[bool] = []
        self.updates: list[dict[str, Any]] = []
        self.fail = False
        self.ready = True
        self.leading = True

    async def record(self, body: bytes, *, truncated: bool = False) -> None:
        if self.fail:
            raise OSError("database is locked")
        self.callbacks.append(body)
        self.truncated.append(truncated)

    async def put_update(self, update: dict[str, Any]) -> bool:
        if not self.leading:
            return False
        self.updates.append(update)
        return True

    async def health(self) -> tuple[bool, dict[str, Any]]:
        return self.ready, {"status": "ok" if self.ready else "not ready"}


@pytest.fixture
def sinks() -> Sinks:
    return Sinks()


@pytest.fixture
async def client(sinks: Sinks) -> AsyncIterator[httpx.AsyncClient]:
    app = create_web_app(
        callback_key=KEY,
        record_callback=sinks.record,
        health=sinks.health,
        webhook_secret=SECRET,
        put_update=sinks.put_update,
    )
    async with serving(app) as server, httpx.AsyncClient(base_url=server.url) as http:
        yield http


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
async def test_a_callback_without_the_key_is_refused_and_not_recorded(
    client: httpx.AsyncClient, sinks: Sinks, headers: dict[str, str]
) -> None:
    response = await client.post("/pivot/callback", content=b"{}", headers=headers)

    assert response.status_code == 401
    assert sinks.callbacks == []


async def test_a_callback_with_the_key_is_handed_over_as_raw_bytes(
    client: httpx.AsyncClient, sinks: Sinks
) -> None:
    body = b'{"event": "CHARGE.SUCCESS", "data": {}}'
    response = await client.post("/pivot/callback", content=body, headers={"X-API-Key": KEY})

    assert response.status_code == 200
    assert sinks.callbacks == [body]


async def test_a_body_over_the_cap_is_kept_cut_at_the_cap_declared_or_streamed(
    client: httpx.AsyncClient, sinks: Sinks
) -> None:
    big = b"x" * (2 * 1024 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    declared = await client.post("/pivot/callback", content=big, headers={"X-API-Key": KEY})
    streamed = await client.post("/pivot/callback", content=chunks(), headers={"X-API-Key": KEY})
    at_cap = await client.post(
        "/pivot/callback", content=b"y" * MAX_BODY_BYTES, headers={"X-API-Key": KEY}
    )

    # Authenticated, so kept (as a dead letter, by the ledger) and answered like any other.
    assert (declared.status_code, streamed.status_code, at_cap.status_code) == (200, 200, 200)
    assert sinks.callbacks == [big[:MAX_BODY_BYTES], big[:MAX_BODY_BYTES], b"y" * MAX_BODY_BYTES]
    assert sinks.truncated == [True, True, False]


async def test_a_storage_failure_answers_503_so_pivot_retries(
    client: httpx.AsyncClient, sinks: Sinks
) -> None:
    sinks.fail = True
    failed = await client.post("/pivot/callback", content=b"{}", headers={"X-API-Key": KEY})
    sinks.fail = False
    retried = await client.post("/pivot/callback", content=b"{}", headers={"X-API-Key": KEY})

    assert (failed.status_code, retried.status_code) == (503, 200)
    assert sinks.callbacks == [b"{}"]


@pytest.mark.parametrize("secret", [None, "nope"])
async def test_webhook_updates_need_the_secret_token(
    client: httpx.AsyncClient, sinks: Sinks, secret: str | None
) -> None:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    response = await client.post("/telegram/webhook", json={"update_id": 1}, headers=headers)

    assert response.status_code == 403
    assert sinks.updates == []


async def test_webhook_updates_with_the_secret_are_queued(
    client: httpx.AsyncClient, sinks: Sinks
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    good = await client.post("/telegram/webhook", json={"update_id": 7}, headers=headers)
    broken = await client.post("/telegram/webhook", content=b"{", headers=headers)

    assert (good.status_code, broken.status_code) == (200, 400)
    assert sinks.updates == [{"update_id": 7}]


async def test_a_follower_answers_webhook_updates_503_for_the_proxy_to_try_the_leader(
    client: httpx.AsyncClient, sinks: Sinks
) -> None:
    sinks.leading = False
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    refused = await client.post("/telegram/webhook", json={"update_id": 7}, headers=headers)
    forged = await client.post("/telegram/webhook", json={"update_id": 8})

    assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
    assert forged.status_code == 403  # the secret is checked first, leader or not
    assert sinks.updates == []


async def test_health_answers_503_until_ready(client: httpx.AsyncClient, sinks: Sinks) -> None:
    sinks.ready = False
    starting = await client.get("/healthz")
    sinks.ready = True
    ready = await client.get("/healthz")

    assert (starting.status_code, ready.status_code) == (503, 200)
    assert ready.json() == {"status": "ok"}


async def test_polling_mode_has_no_webhook_route(sinks: Sinks) -> None:
    app = create_web_app(callback_key=KEY, record_callback=sinks.record, health=sinks.health)
    async with serving(app) as server, httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/telegram/webhook", json={"update_id": 1})

    assert response.status_code == 404
