"""The HTTP side of the bot: Pivot callbacks, Telegram webhook updates, and health.

Route handlers only check, cap and hand over; what a callback means for the money records lives
in ``bot.ledger`` and what an update means lives in the Telegram handlers.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pivot_client import verify_callback_key

__all__ = [
    "MAX_BODY_BYTES",
    "BodyTooLarge",
    "CallbackSink",
    "create_web_app",
    "read_capped_body",
]

logger = logging.getLogger(__name__)

# A CHARGE.SUCCESS body is a session with its charges: a few kB, more for a code paid
# thousands of times. 1 MiB is far above that and far below what would hurt the process.
MAX_BODY_BYTES = 1024 * 1024

# Queues a webhook update; False when this process does not handle updates (a follower).
UpdateSink = Callable[[dict[str, Any]], Awaitable[bool]]
HealthProbe = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


class CallbackSink(Protocol):
    """Where an authenticated callback body goes (``Ledger.record_callback``)."""

    async def __call__(self, body: bytes, *, truncated: bool = False) -> None:
        """Keep ``body`` (only its first bytes when ``truncated``); raise to answer 503."""


class BodyTooLarge(Exception):
    """The request body is over the cap; ``start`` is its first ``limit`` bytes."""

    def __init__(self, start: bytes) -> None:
        super().__init__("request body over the size limit")
        self.start = start


async def read_capped_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, refusing to buffer more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            raise BodyTooLarge(b"".join(chunks)[:limit])
    return b"".join(chunks)


def create_web_app(
    *,
    callback_key: str,
    record_callback: CallbackSink,
    health: HealthProbe,
    webhook_secret: str | None = None,
    put_update: UpdateSink | None = None,
    lifespan: Lifespan | None = None,
) -> Starlette:
    """The Starlette app; ``put_update`` and ``webhook_secret`` only in webhook mode."""

    async def pivot_callback(request: Request) -> Response:
        if not verify_callback_key(request.headers.get("x-api-key"), callback_key):
            logger.warning("refused a Pivot callback with a missing or wrong X-API-Key")
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        truncated = False
        try:
            body = await read_capped_body(request)
        except BodyTooLarge as exc:
            # Kept all the same, cut at the cap: a dead letter, and 200 like any other.
            logger.warning("a Pivot callback over %d bytes is kept cut at that", MAX_BODY_BYTES)
            body, truncated = exc.start, True
        except ClientDisconnect:
            return Response(status_code=400)
        try:
            await record_callback(body, truncated=truncated)
        except Exception:
            # Not recorded: a 5xx makes Pivot deliver it again later.
            logger.exception("could not record a Pivot callback; Pivot will retry")
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def healthz(_: Request) -> Response:
        ready, report = await health()
        return JSONResponse(report, status_code=200 if ready else 503)

    routes = [
        Route("/pivot/callback", pivot_callback, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if put_update is not None and webhook_secret is not None:
        routes.append(_webhook_route(webhook_secret, put_update))
    return Starlette(routes=routes, lifespan=lifespan)


def _webhook_route(secret: str, put_update: UpdateSink) -> Route:
    """``POST /telegram/webhook``: Telegram's updates, checked against the secret token."""

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("refused a webhook update with a missing or wrong secret token")
            return Response(status_code=403)
        try:
            update = json.loads(await read_capped_body(request))
        except BodyTooLarge:
            return Response(status_code=413)
        except (ValueError, ClientDisconnect):
            return Response(status_code=400)
        if not isinstance(update, dict):
            return Response(status_code=400)
        if not await put_update(update):
            # Only the leader handles updates: a reverse proxy retries this on another
            # process, Telegram itself later.
            return Response(status_code=503, headers={"Retry-After": "1"})
        return Response(status_code=200)

    return Route("/telegram/webhook", telegram_webhook, methods=["POST"])
