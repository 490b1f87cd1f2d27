"""Benchmark 7: PostgreSQL (issue 14), each figure against a baseline measured in the same run.

A throwaway PostgreSQL server is started for the run (``tests.standins.postgres``, the
machine's own binaries, in a temporary folder on the same disk as SQLite's files) with its
durability on, as an operator runs it: ``fsync`` and ``synchronous_commit`` on, so the bot
answers Pivot's 200 only once the charge is on disk (the tests' fast settings are never used
here; the run checks the server's settings and stops if they are off).

* ``ingestion`` (``bench._postgres_ingestion``): the bot's ``/pivot/callback`` on PostgreSQL
  with one and with two receiving processes sharing the database, against SQLite and the bare
  Starlette endpoint in the same rounds; every 200 read back with its one outbox row.
* ``failover`` (``bench._postgres_failover``): the leader of two processes SIGKILLed in a
  burst of payments, to the follower leading and to the next payment message at Telegram,
  against one process SIGKILLed and started again, in the same rounds; none lost or doubled
  but for the crash window.
* ``scale``: ``bench._scale_data``'s 10k sellers, 100k codes and 1M charges, loaded by COPY;
  the same ``/codes``, payments and ``/today`` queries as ``bench.scale`` through the
  repositories (≤ 20 ms), then ``python -m bot run`` on that database: start-up and memory.

Without PostgreSQL installed the benchmark says so in one row and skips.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from bench._common import CACHE, Outcome, Row, bench_main, say
from bench._postgres_failover import measure_failover
from bench._postgres_ingestion import measure_ingestion
from bench._scale_data import load_postgres, scale_database
from bench.scale import WHAT_BOT, WHAT_QUERIES, Target, run_bot, time_queries
from tests.standins.postgres import INSTALL_HINT, PostgresServer, find_binaries

PARTS = ("ingestion", "failover", "scale")
WHAT = "PostgreSQL"
# What makes a commit durable; the benchmark refuses to measure a server without them.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def durable_server() -> PostgresServer:
    """A started server whose commits are durable (RuntimeError if they are not)."""
    server = PostgresServer(fast=False)
    server.start()
    found = {name: server.execute(f"SHOW {name}") for name in DURABLE}
    if found != DURABLE:
        server.stop()
        raise RuntimeError(f"the benchmark's PostgreSQL is not durable: {found}")
    return server


async def measure_scale(args: argparse.Namespace, server: PostgresServer) -> tuple[list[Row], str]:
    """The scale data set on PostgreSQL: the queries, then the bot on it."""
    say("scale: 10k sellers, 100k codes, 1M charges on PostgreSQL")
    started = time.perf_counter()
    data = await load_postgres(server.create_database("scale"))
    loaded = time.perf_counter() - started
    rows, (p99, view) = await time_queries(
        data,
        args.query_runs,
        args.repeats,
        what=f"{WHAT}: {WHAT_QUERIES}",
        baseline=await scale_database(),  # SQLite's, the same rows: its runs alternate
    )

    async def empty(place: Path) -> Target:
        return server.create_database(place.name)  # a new database per start: empty0, ...

    async def full(_: Path) -> Target:
        return data.path

    bot_rows = await run_bot(
        data, args.bot_runs, empty=empty, full=full, what=f"{WHAT}: {WHAT_BOT}"
    )
    loading = Row(
        f"{WHAT}: {WHAT_QUERIES}",
        "loading the data set by COPY",
        "-",
        f"{loaded:.0f} s",
        "1 run",
        None,
    )
    return (
        [loading, *rows, *bot_rows],
        f"slowest query p99 {p99:.1f} ms ({view}); bot RSS {bot_rows[0].measured}",
    )


async def measure(args: argparse.Namespace) -> Outcome:
    """Start a durable server, run the chosen parts on it, stop it."""
    if find_binaries() is None:
        say(f"PostgreSQL is not installed: skipped (`{INSTALL_HINT}` to run it)")
        skipped = Row(
            WHAT,
            "the whole benchmark",
            "runs",
            f"skipped: PostgreSQL is not installed (`{INSTALL_HINT}`)",
            "-",
            None,
        )
        return Outcome([skipped], "PostgreSQL: skipped, not installed")
    folder = CACHE / "postgres"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    server = durable_server()
    say(f"PostgreSQL {server.execute('SHOW server_version')} in {server.folder}, durable")
    rows: list[Row] = []
    figures = []
    try:
        if "ingestion" in args.parts:
            found, figure = await measure_ingestion(args, server, folder)
            rows += found
            figures.append(figure)
        if "failover" in args.parts:
            found, figure = await measure_failover(args, server, folder)
            rows += found
            figures.append(figure)
        if "scale" in args.parts:
            found, figure = await measure_scale(args, server)
            rows += found
            figures.append(figure)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return Outcome(rows, "PostgreSQL: " + "; ".join(figures))


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--runs", type=int, default=3, help="ingestion: rounds of every setup")
    parser.add_argument("--seconds", type=float, default=3.0, help="ingestion: measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="ingestion: unmeasured first")
    parser.add_argument("--concurrency", type=int, default=32, help="ingestion: connections")
    parser.add_argument("--failover-runs", type=int, default=5, help="failover: rounds")
    parser.add_argument(
        "--failover-payments", type=int, default=60, help="failover: payments a round"
    )
    parser.add_argument("--query-runs", type=int, default=3, help="scale: runs of each query")
    parser.add_argument("--repeats", type=int, default=30, help="scale: calls of a query a run")
    parser.add_argument("--bot-runs", type=int, default=2, help="scale: bot start-ups of each")


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__ or "", measure, _arguments))
