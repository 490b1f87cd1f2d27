"""Benchmark 5: scale. 10k sellers, 100k codes, 1M charges (see ``bench._scale_data``).

Queries are timed through the real repositories, called exactly as the handlers call them:
``/codes`` (``count_for_seller`` + one page of ``list_for_seller``), a code's payments
(``stats_for_code`` + one page of ``list_for_code``) and ``/today`` (``day_for_seller`` over
the seller's day), for the heaviest seller and code of the data, first and last pages.

Then the bot itself (``python -m bot run``, a child process) is started on a copy of that
database against the stand-ins (fake Bot API, Pivot simulator, both in this process): start-up
time (spawn to ``/healthz`` ready, also on an empty database for comparison) and its resident
memory after some traffic (callbacks, ``/codes``, ``/today``). The traffic's payments go to a
few codes made at the simulator for the big seller, so that Pivot's API lists them and the bot,
which confirms every payment before announcing it, sends their messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from bench._common import CACHE, Outcome, Row, bench_main, median, percentile, say
from bench._common import spread as spread_of
from bench._payments import CALLBACK_HEADERS
from bench._scale_data import ScaleData, scale_database
from bot.codebook import CODES_PER_PAGE, PAYMENTS_PER_PAGE
from bot.handlers.today import TODAY_LINE_CAP
from pivot_client.simulator import Simulator
from storage import Database
from tests.standins import (
    REPOSITORY,
    FakeTelegram,
    bot_environment,
    free_port,
    simulator_codes,
    stand_ins,
    wait_for,
)

WHAT_QUERIES = "10k sellers, 100k codes, 1M charges: queries"
WHAT_BOT = "10k sellers, 100k codes, 1M charges: the running bot"
QUERY_TARGET_MS = 20.0
MEMORY_TARGET_MB = 150.0
TRAFFIC_CALLBACKS = 200
TRAFFIC_CODES = 10  # made at the simulator for the big seller, the traffic's payments go to them

View = Callable[[Database], Awaitable[object]]


def views(data: ScaleData, codes_total: int, hot_payments: int) -> dict[str, View]:
    """What each screen reads, by name, for the heaviest seller and code."""
    last_codes = (codes_total - 1) // CODES_PER_PAGE * CODES_PER_PAGE
    last_payments = (hot_payments - 1) // PAYMENTS_PER_PAGE * PAYMENTS_PER_PAGE
    start, end = data.busy_day

    async def codes_page(db: Database, offset: int, seller: int = data.big_seller) -> object:
        await db.codes.count_for_seller(seller)
        return await db.codes.list_for_seller(seller, offset=offset, limit=CODES_PER_PAGE)

    async def payments_page(db: Database, offset: int, code: int = data.hot_code) -> object:
        await db.charges.stats_for_code(code)
        return await db.charges.list_for_code(code, offset=offset, limit=PAYMENTS_PER_PAGE)

    async def today(db: Database, seller: int = data.big_seller) -> object:
        return await db.charges.day_for_seller(seller, start, end, limit=TODAY_LINE_CAP)

    return {
        f"/codes, first page ({codes_total:,} codes)": lambda db: codes_page(db, 0),
        f"/codes, last page ({codes_total:,} codes)": lambda db: codes_page(db, last_codes),
        "/codes, a typical seller": lambda db: codes_page(db, 0, data.typical_seller),
        f"a code's payments, first page ({hot_payments:,})": lambda db: payments_page(db, 0),
        f"a code's payments, last page ({hot_payments:,})": lambda db: payments_page(
            db, last_payments
        ),
        "a code's payments, a typical code": lambda db: payments_page(db, 0, data.typical_code),
        "/today, the busiest seller's busiest day": today,
        "/today, a typical seller": lambda db: today(db, data.typical_seller),
    }


async def _time_view(view: View, db: Database, repeats: int) -> tuple[float, float]:
    """Median and p99 of ``repeats`` calls of ``view``, in ms."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        await view(db)
        timings.append((time.perf_counter() - started) * 1e3)
    return median(timings), percentile(timings, 99)


async def time_queries(
    data: ScaleData,
    runs: int,
    repeats: int,
    what: str = WHAT_QUERIES,
    baseline: ScaleData | None = None,
) -> tuple[list[Row], tuple[float, str]]:
    """Median and p99 of each view, ``runs`` runs of ``repeats`` calls each; the slowest p99.

    With a ``baseline`` (the same data in another database), its runs alternate with these
    and each row also shows its figures.
    """
    rows = []
    slowest = (0.0, "")
    async with contextlib.AsyncExitStack() as stack:
        db = await stack.enter_async_context(await Database.open(data.path))
        other = None
        if baseline is not None:
            other = await stack.enter_async_context(await Database.open(baseline.path))
        codes_total = await db.codes.count_for_seller(data.big_seller)
        hot_payments = await db.charges.count_for_code(data.hot_code)
        today = await db.charges.day_for_seller(
            data.big_seller, *data.busy_day, limit=TODAY_LINE_CAP
        )
        say(f"  busiest day: {today.count:,} payments")
        for name, view in views(data, codes_total, hot_payments).items():
            medians, p99s, compared = [], [], []
            for _ in range(runs):
                if other is not None:
                    compared.append(await _time_view(view, other, repeats))
                middle, p99 = await _time_view(view, db, repeats)
                medians.append(middle)
                p99s.append(p99)
            worst = max(median(medians), median(p99s))
            slowest = max(slowest, (median(p99s), name))
            measured = f"median {median(medians):.1f} ms, p99 {median(p99s):.1f} ms"
            if other is not None:
                measured += (
                    f" ({other.engine}: {median([c[0] for c in compared]):.1f} ms,"
                    f" p99 {median([c[1] for c in compared]):.1f} ms)"
                )
            rows.append(
                Row(
                    what,
                    name,
                    f"≤ {QUERY_TARGET_MS:.0f} ms",
                    measured,
                    spread_of(p99s, " ms p99"),
                    worst <= QUERY_TARGET_MS,
                )
            )
            say(f"  {name}: {measured}")
    return rows, slowest


# Where a bot keeps its data: a SQLite file, or a PostgreSQL URL (as ``bot_environment``).
Target = Path | str


class BotChild:
    """``python -m bot run`` as a child process, configured like an operator's ``.env``, in
    ``folder`` (its log too), on the database ``target``."""

    def __init__(
        self, target: Target, folder: Path, telegram_url: str, pivot_url: str, port: int
    ) -> None:
        self._variables = bot_environment(
            database=target, telegram_url=telegram_url, pivot_url=pivot_url, http_port=port
        )
        self._log = folder / "bot.log"
        self._process: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{port}"

    @property
    def pid(self) -> int:
        """The process id (after ``start``)."""
        assert self._process is not None
        return self._process.pid

    async def start(self) -> float:
        """Spawn the bot; seconds until its ``/healthz`` says ready."""
        environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPOSITORY)}
        started = time.perf_counter()
        with self._log.open("wb") as log:
            self._process = process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=self._log.parent,
                env={**environment, **self._variables, "LOG_LEVEL": "WARNING"},
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        async with httpx.AsyncClient(trust_env=False) as http:
            while process.returncode is None:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return time.perf_counter() - started
                await asyncio.sleep(0.02)
        raise RuntimeError(f"the bot exited early: {self._log.read_text(errors='replace')}")

    async def stop(self) -> None:
        """SIGTERM, as an operator stops it, and wait for a clean exit."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        if await asyncio.wait_for(process.wait(), 30) != 0:
            raise RuntimeError(f"the bot exited with {process.returncode}")


def resident_mb(pid: int) -> tuple[float, float | None]:
    """Resident memory now, and its peak (Linux's VmHWM) when the system tells it, in MB."""
    rss = psutil.Process(pid).memory_info().rss / 2**20
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return rss, int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, None


async def traffic(
    bot_url: str, telegram: FakeTelegram, simulator: Simulator, sessions: list[str], seller: int
) -> float:
    """Payments on ``sessions`` (codes of ``seller``), their callbacks posted 20 at a time, then
    /codes and /today; seconds until all answered and every message sent."""
    started = time.perf_counter()
    async with httpx.AsyncClient(trust_env=False) as http:

        async def pay(number: int) -> None:
            session = sessions[number % len(sessions)]
            charge = simulator.record_charge(session, 25_000, deliver=False)
            response = await http.post(
                f"{bot_url}/pivot/callback",
                content=simulator.callback_body(charge.id),
                headers=CALLBACK_HEADERS,
            )
            response.raise_for_status()

        for first in range(0, TRAFFIC_CALLBACKS, 20):
            await asyncio.gather(*(pay(number) for number in range(first, first + 20)))
        user = telegram.user(seller)
        for command in ("/codes", "/today", "/codes"):
            mark = telegram.mark()
            await user.send(command)
            await telegram.wait_for_message(user.chat_id, after=mark, timeout=30)

        async def drained() -> bool:
            report = (await http.get(f"{bot_url}/healthz")).json()
            return bool(report.get("pending_outbox") == 0)

        await wait_for(drained, timeout=60, interval=0.05, what="the outbox to drain")
    return time.perf_counter() - started


# A database for one start of the bot, given the folder it runs in.
Place = Callable[[Path], Awaitable[Target]]


async def _empty_file(folder: Path) -> Target:
    return folder / "kodebayar.db"


async def run_bot(
    data: ScaleData,
    runs: int,
    *,
    empty: Place = _empty_file,
    full: Place | None = None,
    what: str = WHAT_BOT,
) -> list[Row]:
    """Start-up times (an ``empty`` database and the ``full`` one) and memory after traffic.

    By default on SQLite: a new file, and a copy of the data set's (the bot writes; the cache
    stays as made).
    """
    folder = CACHE / "scale-run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)

    async def copy(_: Path) -> Target:
        copied = folder / "kodebayar.db"
        if not copied.exists():
            shutil.copyfile(data.path, copied)
        return copied

    full_starts, empty_starts, memory, peaks = [], [], [], []
    for run in range(runs):
        port = free_port()
        async with stand_ins(port) as (telegram, telegram_url, _, pivot_url):
            place = folder / f"empty{run}"
            place.mkdir()
            bot = BotChild(await empty(place), place, telegram_url, pivot_url, port)
            try:
                empty_starts.append(await bot.start())
            finally:
                await bot.stop()
        port = free_port()
        async with stand_ins(port) as (telegram, telegram_url, simulator, pivot_url):
            place = folder / f"full{run}"
            place.mkdir()
            target = await (full or copy)(place)
            async with await Database.open(target) as db:
                sessions = await simulator_codes(
                    db, data.big_seller, pivot_url, count=TRAFFIC_CODES, prefix=f"kbtraffic{run}x"
                )
            bot = BotChild(target, place, telegram_url, pivot_url, port)
            try:
                seconds = await bot.start()
                full_starts.append(seconds)
                busy = await traffic(bot.url, telegram, simulator, sessions, data.big_seller)
                rss, peak = resident_mb(bot.pid)
            finally:
                await bot.stop()
            memory.append(rss)
            peaks.append(peak or rss)
            say(
                f"  run {run}: start-up {empty_starts[-1]:.2f} s empty, {seconds:.2f} s with"
                f" 1M charges; traffic answered in {busy:.1f} s; RSS {rss:.0f} MB"
                + (f" (peak {peak:.0f} MB)" if peak else "")
            )
    shutil.rmtree(folder, ignore_errors=True)
    return [
        Row(
            what,
            "resident memory after traffic (RSS)",
            f"≤ {MEMORY_TARGET_MB:.0f} MB",
            f"{median(memory):.0f} MB (peak {median(peaks):.0f} MB)",
            spread_of(memory, " MB", 0),
            max(median(memory), median(peaks)) <= MEMORY_TARGET_MB,
        ),
        Row(
            what,
            "start-up, spawn to /healthz ready, with that database",
            "-",
            f"{median(full_starts):.2f} s",
            spread_of(full_starts, " s", 2),
            None,
        ),
        Row(
            what,
            "start-up, the same on an empty database",
            "-",
            f"{median(empty_starts):.2f} s",
            spread_of(empty_starts, " s", 2),
            None,
        ),
    ]


async def measure(args: argparse.Namespace) -> Outcome:
    """Queries on the generated database, then the bot running on it."""
    say("scale: 10k sellers, 100k codes, 1M charges")
    data = await scale_database()
    rows, (p99, view) = await time_queries(data, args.runs, args.repeats)
    bot_rows = await run_bot(data, args.bot_runs)
    memory = bot_rows[0].measured
    return Outcome(
        rows + bot_rows, f"scale: slowest query p99 {p99:.1f} ms ({view}); bot RSS {memory}"
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="runs of each query")
    parser.add_argument("--repeats", type=int, default=30, help="calls of a query per run")
    parser.add_argument("--bot-runs", type=int, default=2, help="bot start-ups of each kind")


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__ or "", measure, _arguments))
