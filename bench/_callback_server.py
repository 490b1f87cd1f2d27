"""The server side of the ingestion benchmark, in its own process (``python -m`` this module).

``real``: the bot's own ``/pivot/callback`` (``create_web_app`` + ``Ledger`` + ``Database``)
on the given database (a SQLite file or a ``postgresql://`` URL), logging as the bot does by
default (INFO, secrets masked) to this process's stderr. ``bare``: a Starlette endpoint that
only answers 200. Between the two, to show where the difference goes: ``body``, the bare
endpoint reading the body first, and ``route``, the bot's route (key check, capped read)
handing the body to nothing. All are served by the bot's ``EmbeddedServer`` (same uvicorn
settings). The process prints ``port <n>`` once it accepts connections and stops cleanly when
its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.ledger import Ledger
from bot.logs import configure_logging
from bot.server import EmbeddedServer
from bot.web import create_web_app
from storage import Database
from tests.standins import ADMIN_ID, CALLBACK_KEY

CALLBACK_PATH = "/pivot/callback"


async def _healthy() -> tuple[bool, dict[str, Any]]:
    return True, {}


def bare_app(*, read_body: bool = False) -> Starlette:
    """The baseline: the same route, answering 200 without looking at the request (or
    after reading its body)."""

    async def answer(request: Request) -> Response:
        if read_body:
            await request.body()
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route(CALLBACK_PATH, answer, methods=["POST"])])


async def _discard(_: bytes, *, truncated: bool = False) -> None:
    """``route``'s stand-in for the ledger."""


async def _stdin_closed() -> None:
    """Return once the parent closes our stdin (its way of saying stop)."""
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)


async def serve(kind: str, database: str | None) -> None:
    """Serve until stdin closes; the database (for ``real``) is closed afterwards."""
    db = await Database.open(database) if kind == "real" and database else None
    try:
        if db is not None:
            configure_logging(logging.INFO, [CALLBACK_KEY])
            ledger = Ledger(db, [ADMIN_ID])
            app = create_web_app(
                callback_key=CALLBACK_KEY, record_callback=ledger.record_callback, health=_healthy
            )
        elif kind == "route":
            app = create_web_app(
                callback_key=CALLBACK_KEY, record_callback=_discard, health=_healthy
            )
        else:
            app = bare_app(read_body=kind == "body")
        async with EmbeddedServer(app) as server:
            print(f"port {server.port}", flush=True)
            await _stdin_closed()
    finally:
        if db is not None:
            await db.close()


def main() -> None:
    """``real DATABASE`` (a path or a URL), ``bare``, ``body`` or ``route``; ``--profile PATH``
    writes a pyinstrument text profile."""
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["real", "bare", "body", "route"])
    parser.add_argument("database", nargs="?")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    if args.profile is None:
        asyncio.run(serve(args.kind, args.database))
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    with profiler:
        asyncio.run(serve(args.kind, args.database))
    args.profile.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")


if __name__ == "__main__":
    main()
