"""Stand-ins for the client's unit tests: Pivot as an httpx mock transport, and a sleeper.

Their clock is ``tests.standins.FakeClock``.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

BASE_URL = "https://pivot.test"
CLIENT_ID = "merchant-42"
CLIENT_SECRET = "s3cr3t-CLIENT-secret-value"
TOKEN_PATH = "/v1/access-token"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def envelope(data: Any, *, pagination: dict[str, int] | None = None) -> dict[str, Any]:
    """Pivot's success envelope around ``data``."""
    body: dict[str, Any] = {"code": "00", "message": "Success", "data": data}
    if pagination is not None:
        body["pagination"] = pagination
    return body


def ok(data: Any, **kwargs: Any) -> httpx.Response:
    """A 200 with Pivot's success envelope."""
    return httpx.Response(200, json=envelope(data, **kwargs))


def error(
    status: int,
    code: str,
    message: str,
    *,
    details: Iterable[tuple[str, str]] = (),
    trace_id: str | None = None,
    trace_key: str = "traceId",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """An answer with Pivot's error envelope."""
    error_object: dict[str, Any] = {
        "type": "API_ERROR" if status < 500 else "GATEWAY_ERROR",
        "details": [{"field": field, "message": text} for field, text in details],
    }
    if trace_id is not None:
        error_object[trace_key] = trace_id
    body = {"code": code, "message": message, "error": error_object}
    return httpx.Response(status, json=body, headers=headers)


def token_answer(token: str, expires_in: str = "900") -> httpx.Response:
    """The token route's answer; ``expiresIn`` is a string, as Pivot sends it."""
    return ok({"accessToken": token, "expiresIn": expires_in, "tokenType": "Bearer"})


class FakePivot:
    """Pivot's API as an async ``httpx.MockTransport`` handler.

    Every request is recorded. The token route issues ``token-1``, ``token-2``... unless
    scripted; other routes answer what a test scripted, in order, the last answer repeating,
    or their ``default`` once a script is used up. An answer is a response, an exception to
    raise (a transport error), or a function of the request.
    """

    def __init__(self, *, expires_in: str = "900") -> None:
        self.requests: list[httpx.Request] = []
        self.expires_in = expires_in
        self.issued: list[str] = []
        # Set to hold token requests until the test releases them.
        self.token_gate: asyncio.Event | None = None
        self._scripts: dict[tuple[str, str], list[Answer]] = defaultdict(list)
        self._defaults: dict[tuple[str, str], Answer] = {}

    def script(self, method: str, path: str, *answers: Answer) -> None:
        """Answer the next requests to ``method path`` with ``answers``, in order."""
        self._scripts[(method, path)].extend(answers)

    def default(self, method: str, path: str, answer: Answer) -> None:
        """Answer requests to ``method path`` with ``answer`` when no script is pending."""
        self._defaults[(method, path)] = answer

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        """The requests made to ``method path`` so far."""
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]

    @property
    def token_requests(self) -> list[httpx.Request]:
        """The requests made to the token route so far."""
        return self.calls("POST", TOKEN_PATH)

    @property
    def api_requests(self) -> list[httpx.Request]:
        """Every request but the token requests."""
        return [r for r in self.requests if r.url.path != TOKEN_PATH]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key == ("POST", TOKEN_PATH) and self.token_gate is not None:
            await self.token_gate.wait()
        script = self._scripts.get(key)
        if script:
            answer = script.pop(0) if len(script) > 1 or key in self._defaults else script[0]
        elif key in self._defaults:
            answer = self._defaults[key]
        elif key == ("POST", TOKEN_PATH):
            self.issued.append(f"token-{len(self.issued) + 1}")
            return token_answer(self.issued[-1], self.expires_in)
        else:
            return httpx.Response(404, json={"code": "not_found", "message": "no script"})
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


def mock_http(handler: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose transport is ``handler``."""
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def body_of(request: httpx.Request) -> Any:
    """The decoded JSON body of a recorded request."""
    return json.loads(request.content)


class SleepRecorder:
    """Replaces ``asyncio.sleep`` in the client: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
