"""Count the files and functions of the product that one payment and one ``/new`` run through.

Runs the real bot in-process against the Telegram and Pivot stand-ins
(``.venv/bin/python docs/paths.py``) and records, with ``sys.setprofile``, every function of
``bot``, ``storage`` and ``pivot_client`` (the simulator excluded) that is called:

- a ``/new``: from the seller's one-line ``/new qris Bu Ani`` to the card in their chat;
- a payment: from the simulator's callback to the payment message in the seller's chat,
  confirmation with Pivot's API included.

Work the bot does in the background at the same moment (the update poller, the relay's loop)
is counted too: it is part of the path. It also counts the SQL statements the two database
connections ran meanwhile (SQLite's trace callback), each a hop to the database's thread.
``docs/architecture.md`` quotes the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the stand-ins live in tests/, which is not installed

from bot.texts import text  # noqa: E402
from storage import CodeStatus  # noqa: E402
from tests.standins import BotEnv, new_seller, running_bot  # noqa: E402

PACKAGES = tuple(str(ROOT / name) + "/" for name in ("bot", "storage", "pivot_client"))
EXCLUDED = str(ROOT / "pivot_client" / "simulator") + "/"
Calls = set[tuple[str, str]]


@dataclass
class Trace:
    """What one path went through: the product's functions, the SQL statements run."""

    calls: Calls = field(default_factory=set)
    statements: list[str] = field(default_factory=list)


@contextmanager
def recording() -> Iterator[Calls]:
    """The (file, function) pairs of the product called while the block runs."""
    calls: Calls = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        path = frame.f_code.co_filename
        if path.startswith(PACKAGES) and not path.startswith(EXCLUDED):
            calls.add((path.removeprefix(str(ROOT) + "/"), frame.f_code.co_qualname))

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


async def measure() -> dict[str, Trace]:
    """Run a ``/new`` and a payment against the stand-ins; what each went through."""
    with tempfile.TemporaryDirectory() as folder:
        async with running_bot(Path(folder)) as env:
            seller = await new_seller(env)
            trace = Trace()
            db = env.services.db
            # The private connections: SQLite's trace callback is per connection.
            for connection in (db._engine._writer, db._engine._reader):
                await connection.set_trace_callback(trace.statements.append)

            async def traced(action: Callable[[], Awaitable[None]]) -> Trace:
                """What ``action`` went through (it returns once the bot has answered)."""
                trace.statements.clear()
                with recording() as calls:
                    await action()
                return Trace(calls, list(trace.statements))

            async def new_code() -> None:
                mark = seller.fake.mark()
                await seller.send("/new qris Bu Ani")
                await seller.next_message(
                    lambda m: m.photo is not None or text("id", "card.reusable") in (m.text or ""),
                    after=mark,
                )

            results = {"/new": await traced(new_code)}
            code = await _active_code(env, seller.id)

            async def payment() -> None:
                mark = seller.fake.mark()
                await env.pay(code, 25_000)
                await seller.next_message(lambda m: "25.000" in (m.text or ""), after=mark)

            results["payment"] = await traced(payment)
            return results


async def _active_code(env: BotEnv, seller_id: int) -> Any:
    for code in await env.codes_of(seller_id):
        if code.status is CodeStatus.ACTIVE:
            return code
    raise RuntimeError("the /new did not leave an active code")


def main() -> None:
    """Print, for each path, how many files, functions and SQL statements it went through
    (``--list``: which)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="also list them")
    args = parser.parse_args()
    for name, trace in asyncio.run(measure()).items():
        files = {path for path, _ in trace.calls}
        print(
            f"{name}: {len(files)} files, {len(trace.calls)} functions,"
            f" {len(trace.statements)} SQL statements"
        )
        if args.list:
            for path, function in sorted(trace.calls):
                print(f"    {path}: {function}")
            for statement in trace.statements:
                print(f"    SQL: {' '.join(statement.split())[:120]}")


if __name__ == "__main__":
    main()
