"""The fake's HTTP face: ``GET|POST /bot{token}/{method}`` and ``GET /file/bot{token}/{path}``.

Answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ...}``; method names match whatever their case,
as on Telegram.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.botapi.errors import BotApiError
from tests.standins.botapi.faults import Faults
from tests.standins.botapi.files import FileStore
from tests.standins.botapi.params import ApiRequest, Upload, read_params
from tests.standins.botapi.records import Call, JSONDict
from tests.standins.botapi.waiting import Signal
from tests.standins.botapi.webhook import Webhook

Handler = Callable[[ApiRequest], Awaitable[object]]


class BotApiRoutes:
    """Every request the bot made, in order, and the Starlette app that answered them."""

    def __init__(
        self,
        token: str,
        methods: Mapping[str, Handler],
        *,
        files: FileStore,
        faults: Faults,
        webhook: Webhook,
        clock: Callable[[], float],
    ) -> None:
        self.calls: list[Call] = []
        self.calls_changed = Signal()
        self.next_seq = 0
        self._token = token
        self._methods = {name.lower(): (name, handler) for name, handler in methods.items()}
        self._files = files
        self._faults = faults
        self._webhook = webhook
        self._clock = clock
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file_endpoint, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Resume webhook pushes when served; stop them and close the client at shutdown."""
        self._webhook.resume()
        try:
            yield
        finally:
            await self._webhook.aclose()

    def _token_ok(self, request: Request) -> bool:
        """Whether the request's path carries this bot's token."""
        given: str = request.path_params["token"]
        return hmac.compare_digest(given.encode(), self._token.encode())

    async def _endpoint(self, request: Request) -> Response:
        """``GET|POST /bot{token}/{method}``: decode, dispatch, record, answer."""
        seq = self.next_seq
        self.next_seq += 1
        at = self._clock()
        method: str = request.path_params["method"]
        handler: Handler | None = None
        if known := self._methods.get(method.lower()):
            method, handler = known
        params: JSONDict = {}
        uploads: dict[str, Upload] = {}
        try:
            if not self._token_ok(request):
                raise BotApiError(401, "Unauthorized")
            if handler is None:
                raise BotApiError(404, "Not Found: method not found")
            params, uploads = await read_params(request)
            await self._faults.strike(method)
            result = await handler(ApiRequest(request, params, uploads, seq))
        except BotApiError as error:
            status, body = error.status, error.body()
        else:
            status, body = 200, {"ok": True, "result": result}
        files = {name: upload.data for name, upload in uploads.items()}
        self.calls.append(Call(method, params, files, status, at, seq))
        self.calls_changed.notify()
        return JSONResponse(body, status_code=status)

    async def _file_endpoint(self, request: Request) -> Response:
        """``GET /file/bot{token}/{path}``: the bytes of an uploaded file."""
        if not self._token_ok(request):
            return JSONResponse(BotApiError(401, "Unauthorized").body(), status_code=401)
        stored = self._files.at(request.path_params["path"])
        if stored is None:
            return JSONResponse(BotApiError(404, "Not Found").body(), status_code=404)
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")
