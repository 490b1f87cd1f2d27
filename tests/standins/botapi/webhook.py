"""setWebhook and the pushes that follow: one update at a time, in order, with the secret
header and a few retries with doubling delays; getWebhookInfo reports the last error."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass

import httpx

from tests.standins.botapi.errors import bad_request
from tests.standins.botapi.params import ApiRequest
from tests.standins.botapi.records import JSONDict, WebhookDelivery
from tests.standins.botapi.updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_TIMEOUT = 10.0
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class _Hook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


class Webhook:
    """The webhook set, if any, the task pushing to it and every try it made."""

    def __init__(self, queue: UpdateQueue, attempts: int, retry_delay: float) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self._queue = queue
        self._attempts = attempts
        self._retry_delay = retry_delay
        self._hook: _Hook | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def is_set(self) -> bool:
        """Whether updates go to a webhook (getUpdates is refused meanwhile)."""
        return self._hook is not None

    def resume(self) -> None:
        """Push again if a webhook is set (the fake is served anew)."""
        if self._hook is not None:
            self._start_pusher()

    async def aclose(self) -> None:
        """Stop pushing and close the pusher's HTTP client."""
        await self._stop_pusher()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def set_webhook(self, req: ApiRequest) -> object:
        """``setWebhook``: push updates to ``url`` from now on (empty url: stop)."""
        url = req.params.get("url") or ""
        if not url:
            return await self.delete_webhook(req)
        if not isinstance(url, str) or not re.match(r"https?://", url):
            # Telegram wants https; the fake also takes http for loopback receivers.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = req.params.get("secret_token") or None
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        self._queue.set_allowed(req.params)
        if req.params.get("drop_pending_updates"):
            self._queue.drop()
        self._hook = _Hook(url, secret, req.params.get("max_connections") or 40)
        self._queue.changed.notify()
        self._start_pusher()
        return True

    async def delete_webhook(self, req: ApiRequest) -> object:
        """``deleteWebhook``: back to getUpdates."""
        if req.params.get("drop_pending_updates"):
            self._queue.drop()
        self._hook = None
        await self._stop_pusher()
        self._queue.changed.notify()
        return True

    async def get_webhook_info(self, req: ApiRequest) -> object:
        """``getWebhookInfo``: the webhook, pending updates and the last error."""
        hook = self._hook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue.pending(self._queue.unconfirmed)),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if self._queue.allowed is not None:
            info["allowed_updates"] = sorted(self._queue.allowed)
        return info

    def _start_pusher(self) -> None:
        """Start the pusher unless it is running."""
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_updates(), name="fake Telegram webhook")

    async def _stop_pusher(self) -> None:
        """Cancel the pusher and wait for it to end."""
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher

    async def _push_updates(self) -> None:
        """Push pending updates one at a time, in order, while a webhook is set."""
        while self._hook is not None:
            waiter = self._queue.changed.waiter()
            pending = self._queue.pending(1)
            if not pending:
                await waiter.wait()
                continue
            update_id = pending[0]["update_id"]
            if await self._push(pending[0]) or self._hook is not None:
                # Delivered, or given up after the last retry: either way it is not sent again.
                self._queue.confirm(update_id + 1)

    async def _push(self, update: JSONDict) -> bool:
        """POST one update, retrying with doubling delays; whether it got 2xx."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=_TIMEOUT, trust_env=False)
        for attempt in range(1, self._attempts + 1):
            hook = self._hook
            if hook is None:
                return False
            headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
            status: int | None = None
            try:
                response = await self._http.post(hook.url, json=update, headers=headers)
            except httpx.HTTPError as exc:
                error: str | None = f"Connection failed: {type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                error = None
                if not response.is_success:
                    error = f"Wrong response from the webhook: {status} {response.reason_phrase}"
            self.deliveries.append(WebhookDelivery(update["update_id"], attempt, status, error))
            if error is None:
                return True
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            if attempt < self._attempts:
                # Simulated backoff between Telegram's retries, not a test waiting for state.
                await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))
        return False
