"""ASGI middleware: marks every answer as the simulator's, and injects failures."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pivot_client.simulator._responses import PivotError, error_response
from pivot_client.simulator._simulator import Simulator

__all__ = ["CONTROL_PREFIX", "SimulatorMiddleware"]

CONTROL_PREFIX = "/_simulator/"


async def _discard(message: Message) -> None:
    """Swallow an answer that the injected failure replaces."""


class SimulatorMiddleware:
    """Adds ``X-Pivot-Simulator: true`` to every response and applies ``fail-next`` rules."""

    def __init__(self, app: ASGIApp, simulator: Simulator) -> None:
        self.app = app
        self.simulator = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_marked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append("X-Pivot-Simulator", "true")
            await send(message)

        path: str = scope["path"]
        rule = None
        if not path.startswith(CONTROL_PREFIX):
            rule = self.simulator.take_failure(scope["method"], path)
        try:
            if rule is None:
                await self.app(scope, receive, send_marked)
                return
            if rule.processed:
                await self.app(scope, receive, _discard)
            injected = PivotError(
                rule.status, f"Failure injected by the simulator ({rule.status})"
            )
            await error_response(injected)(scope, receive, send_marked)
        except Exception:
            # A crash still answers in Pivot's envelope, marked; the error goes on to be logged.
            if not started:
                crash = PivotError(500, "Internal error in the simulator")
                await error_response(crash)(scope, receive, send_marked)
            raise
