"""A load balancer in front of several bot processes, as an operator would put one.

Each request goes to the next process in turn; one that cannot take it (refused or dropped
connection, ``502``/``503``) is passed over for the next, as nginx's ``proxy_next_upstream
error http_502 http_503`` does. So callbacks are spread over every process, a killed process
costs none of them, and a follower's ``503`` for a webhook update reaches the leader.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Balancer"]

_PASS_OVER = frozenset({502, 503})
_HOP_BY_HOP = frozenset(
    {"host", "content-length", "content-encoding", "connection", "transfer-encoding"}
)


class Balancer:
    """Round robin over ``upstreams`` (``http://host:port`` roots); ``forwarded`` counts the
    requests each one answered."""

    def __init__(self, upstreams: Sequence[str], *, timeout: float = 10.0) -> None:
        self.upstreams = list(upstreams)
        self.forwarded: Counter[str] = Counter()
        self._turns = itertools.cycle(range(len(self.upstreams)))
        self._http = httpx.AsyncClient(timeout=timeout)
        self.app = Starlette(
            routes=[Route("/{path:path}", self._forward, methods=["GET", "POST"])]
        )

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        first = next(self._turns)
        for step in range(len(self.upstreams)):
            upstream = self.upstreams[(first + step) % len(self.upstreams)]
            try:
                answer = await self._http.request(
                    request.method, f"{upstream}{request.url.path}", content=body, headers=headers
                )
            except httpx.TransportError:
                continue
            if answer.status_code in _PASS_OVER and step < len(self.upstreams) - 1:
                continue
            self.forwarded[upstream] += 1
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return Response(answer.content, status_code=answer.status_code, headers=kept)
        return Response(status_code=502)

    async def aclose(self) -> None:
        """Close the client to the upstreams."""
        await self._http.aclose()
