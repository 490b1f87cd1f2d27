"""Callback ingestion on PostgreSQL, with one and with two receiving processes, against SQLite
and the bare Starlette endpoint, all in the same rounds (``bench.postgres`` runs it).

Each round runs every setup of ``SETUPS`` once, in turn, so drift hits them alike: the bare
endpoint (one process, the baseline; and two, what two receivers could do at best on this
machine), the bot's real route on SQLite (``bench.ingestion``'s real run), and the same route
on PostgreSQL in one process and in two processes sharing one database. The lean load
generator's connections are spread evenly over the processes of a setup. Every charge answered
200 is then read back: on the database with exactly one outbox row.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psutil  # type: ignore[import-untyped]

from bench._common import Row, median, percentile, say
from bench._common import spread as spread_of
from bench.ingestion import (
    Load,
    ServerProcess,
    add_codes,
    callbacks,
    describe,
    drive,
    lean_connection,
    on_disk_problems,
    prepare_database,
    remove_database,
    verify,
)
from storage import Code, Database
from tests.standins.postgres import PostgresServer

WHAT = "PostgreSQL: callback ingestion"


@dataclass(frozen=True)
class Setup:
    """What serves the callbacks in one run."""

    label: str
    processes: int
    engine: str | None  # "sqlite" or "postgresql" for the bot's route; None for the bare 200


BARE = Setup("bare", 1, None)
BARE_TWO = Setup("bare x2", 2, None)
SQLITE = Setup("SQLite", 1, "sqlite")
POSTGRES = Setup("PG", 1, "postgresql")
POSTGRES_TWO = Setup("PG x2", 2, "postgresql")
SETUPS = (BARE, BARE_TWO, SQLITE, POSTGRES, POSTGRES_TWO)


@dataclass
class Results:
    """Every run of every setup, round by round."""

    runs: dict[Setup, list[Load]] = field(default_factory=lambda: {s: [] for s in SETUPS})
    problems: list[str] = field(default_factory=list)
    verified: int = 0
    per_flush: dict[Setup, list[float]] = field(default_factory=dict)  # callbacks a WAL flush

    def rate(self, setup: Setup) -> float:
        """Median requests a second."""
        return median([load.throughput for load in self.runs[setup]])

    def ratios(self, setup: Setup, baseline: Setup) -> list[float]:
        """``setup`` / ``baseline`` throughput, round by round."""
        return [
            load.throughput / base.throughput if base.throughput else 0.0
            for load, base in zip(self.runs[setup], self.runs[baseline], strict=True)
        ]


def database_processes(server: PostgresServer) -> list[psutil.Process]:
    """The PostgreSQL server's processes: the postmaster and every backend and helper."""
    pid = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


async def wal_flushes(url: str) -> int:
    """Times the server has flushed its WAL to disk so far (every durable commit does)."""
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT wal_sync FROM pg_stat_wal"))
    finally:
        await conn.close()


async def verify_postgres(url: str, acknowledged: list[str]) -> str | None:
    """``bench.ingestion.verify`` for a PostgreSQL database."""
    conn = await asyncpg.connect(url)
    try:
        charges = {row[0] for row in await conn.fetch("SELECT pivot_charge_id FROM charges")}
        keys = [row[0] for row in await conn.fetch("SELECT dedupe_key FROM outbox")]
    finally:
        await conn.close()
    return on_disk_problems(charges, keys, acknowledged)


async def _run(
    setup: Setup,
    run: int,
    args: argparse.Namespace,
    server: PostgresServer,
    folder: Path,
    bare_codes: list[Code],
    results: Results,
) -> None:
    """One run of ``setup``: a fresh database, its receiving processes, the load, the check."""
    name = f"{setup.label.replace(' ', '').lower()}{run}"
    target: str | Path | None = None
    codes = bare_codes
    flushed = 0
    if setup.engine == "sqlite":
        target = folder / f"{name}.db"
        codes = await prepare_database(target)
    elif setup.engine == "postgresql":
        target = server.create_database(f"ingest_{name}")
        async with await Database.open(target) as db:
            codes = await add_codes(db)
        flushed = await wal_flushes(target)
    kind = "bare" if setup.engine is None else "real"
    watched = functools.partial(database_processes, server) if isinstance(target, str) else None
    async with contextlib.AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(
                ServerProcess(kind, target, folder / f"{name}-{number}.log")
            )
            for number in range(setup.processes)
        ]
        load = await drive(
            servers,
            lean_connection,
            callbacks(codes, name),
            concurrency=args.concurrency,
            warmup=args.warmup,
            seconds=args.seconds,
            database=watched,
        )
    results.runs[setup].append(load)
    detail = ""
    problem = None
    if isinstance(target, Path):
        problem = verify(target, load.acknowledged)
        remove_database(target)
    elif isinstance(target, str):
        per_flush = len(load.acknowledged) / max(await wal_flushes(target) - flushed, 1)
        results.per_flush.setdefault(setup, []).append(per_flush)
        detail = f", {per_flush:.1f} callbacks a WAL flush"
        problem = await verify_postgres(target, load.acknowledged)
        server.drop_database(f"ingest_{name}")
    if target is not None:
        results.verified += len(load.acknowledged)
        if problem:
            results.problems.append(f"{setup.label} run {run}: {problem}")
    say("  " + describe(setup.label, "", load) + detail)


async def measure_ingestion(
    args: argparse.Namespace, server: PostgresServer, folder: Path
) -> tuple[list[Row], str]:
    """``args.runs`` rounds of every setup; the rows and a one-line summary."""
    say(
        f"ingestion: {args.runs} rounds of {args.seconds:.0f} s runs of {len(SETUPS)} setups,"
        f" {args.concurrency} connections (lean generator)"
    )
    bare_codes = await prepare_database(folder / "codes.db")
    results = Results()
    for run in range(args.runs):
        for setup in SETUPS:
            await _run(setup, run, args, server, folder, bare_codes, results)
    return _rows(results), _summary(results)


def _ratio_row(results: Results, setup: Setup, baseline: Setup, figure: str) -> Row:
    ratios = results.ratios(setup, baseline)
    rates = f"{results.rate(setup):.0f} vs {results.rate(baseline):.0f} req/s"
    return Row(
        WHAT, figure, "-", f"{median(ratios):.2f}× ({rates})", spread_of(ratios, "×", 2), None
    )


def _rows(results: Results) -> list[Row]:
    rows = [
        _ratio_row(results, SQLITE, BARE, "SQLite, 1 receiving process, / bare Starlette 200"),
        _ratio_row(results, POSTGRES, BARE, "PostgreSQL, 1 receiving process, / bare"),
        _ratio_row(results, POSTGRES_TWO, BARE, "PostgreSQL, 2 receiving processes, / bare"),
        _ratio_row(results, POSTGRES, SQLITE, "PostgreSQL, 1 receiving process, / SQLite"),
        _ratio_row(results, POSTGRES_TWO, SQLITE, "PostgreSQL, 2 receiving processes, / SQLite"),
        _ratio_row(results, POSTGRES_TWO, POSTGRES, "PostgreSQL, 2 processes / 1 process"),
        _ratio_row(results, BARE_TWO, BARE, "bare Starlette 200, 2 processes / 1 (the ceiling)"),
        Row(
            WHAT,
            "every 200 on disk with one outbox row (SQLite and PostgreSQL)",
            "all",
            f"{results.verified} verified"
            if not results.problems
            else "; ".join(results.problems),
            f"{sum(len(results.runs[s]) for s in SETUPS if s.engine)} runs",
            not results.problems and results.verified > 0,
        ),
    ]
    for setup in (POSTGRES, POSTGRES_TWO):
        batches = results.per_flush.get(setup, [])
        rows.append(
            Row(
                WHAT,
                f"{setup.label}: callbacks a WAL flush (fsync), warm-up included",
                "-",
                f"{median(batches):.1f}",
                spread_of(batches),
                None,
            )
        )
    for setup in (SQLITE, POSTGRES, POSTGRES_TWO):
        loads = results.runs[setup]
        cpu = [
            (load.server_cpu + load.database_cpu) / load.completed * 1e3
            for load in loads
            if load.completed
        ]
        database = [load.database_cpu / load.completed * 1e3 for load in loads if load.completed]
        p50 = [percentile(load.latencies, 50) * 1e3 for load in loads]
        p99 = [percentile(load.latencies, 99) * 1e3 for load in loads]
        rows.append(
            Row(
                WHAT,
                f"{setup.label}: latency under saturation, p50 / p99",
                "-",
                f"{median(p50):.1f} / {median(p99):.1f} ms",
                spread_of(p99, " ms p99"),
                None,
            )
        )
        share = (
            f"database server {median(database):.2f} ms"
            if setup.engine == "postgresql"
            else "SQLite works inside the receiver"
        )
        rows.append(
            Row(
                WHAT,
                f"{setup.label}: CPU a callback, receivers + database server",
                "-",
                f"{median(cpu):.2f} ms ({share})",
                spread_of(cpu, " ms", 2),
                None,
            )
        )
    return rows


def _summary(results: Results) -> str:
    one = median(results.ratios(POSTGRES, SQLITE))
    two = median(results.ratios(POSTGRES_TWO, SQLITE))
    return f"ingestion on PostgreSQL / SQLite: {one:.2f}× with 1 process, {two:.2f}× with 2"
