"""Benchmark 1: callback ingestion, the real ``/pivot/callback`` against a bare Starlette 200.

Each server runs in its own process (``bench._callback_server``) under the bot's uvicorn
settings; this process is the load generator: ``--concurrency`` workers, each on its own
keep-alive connection, post authenticated ``CHARGE.SUCCESS`` bodies, each with a new charge id
on a known code. Runs alternate bare, real, bare, real... so drift hits both alike, and the
figure is the median of the per-round throughput ratios real / bare. With the lean generator
each round also runs two steps in between (``LADDER``): the bare endpoint reading the body,
and the bot's route with nothing behind it, to show where the difference goes. The real
server logs as the bot does by default, to ``bench/.cache/ingestion/``.

Two load generators, because the answer depends on which one is the bottleneck:

* ``lean`` (the figure): a few lines of HTTP/1.1 over asyncio streams. It costs so little CPU
  that the server is what saturates, as it would be under wrk.
* ``httpx`` (reported too): httpx clients, as the bot's peers would post. httpx spends about
  0.7 ms of CPU a request, so it saturates first, around 1,200 requests a second, and the
  bare baseline then measures httpx rather than Starlette.

After every real run the database is read back: every charge answered 200 must be on disk
with exactly one outbox row.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import shutil
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil  # type: ignore[import-untyped]

from bench._common import CACHE, REPOSITORY, Outcome, Row, bench_main, median, percentile, say
from bench._common import spread as spread_of
from bot.ledger import payment_dedupe_key
from storage import Code, CodeKind, Database
from tests.standins import CALLBACK_KEY, add_code, add_seller, charge_success_body

WHAT = "callback ingestion"
SELLERS = 20
CODES_PER_SELLER = 5
HEADERS = {"X-API-Key": CALLBACK_KEY, "Content-Type": "application/json"}

# What each step up from the bare endpoint adds (bench._callback_server); the lean generator
# runs them all, to show where the difference between bare and real goes.
LADDER = ("bare", "body", "route", "real")
STEPS = {
    "body": "bare endpoint reading the body",
    "route": "the bot's route (key check, capped read), no storage",
}

Post = Callable[[bytes], Awaitable[int]]  # sends one body, returns the HTTP status
Connect = Callable[[str], contextlib.AbstractAsyncContextManager[Post]]


@contextlib.asynccontextmanager
async def lean_connection(url: str) -> AsyncIterator[Post]:
    """One keep-alive HTTP/1.1 connection that speaks just enough HTTP for these POSTs."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    ).encode()

    async def post(body: bytes) -> int:
        writer.write(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
        status = int((await reader.readline()).split()[1])
        length = None
        while (line := await reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("the server answered without Content-Length")
        await reader.readexactly(length)
        return status

    try:
        yield post
    finally:
        writer.close()
        await writer.wait_closed()


@contextlib.asynccontextmanager
async def httpx_connection(url: str) -> AsyncIterator[Post]:
    """An httpx client of its own (httpcore's pool scans every connection on every request,
    so one shared pool of 32 held the generator to ~200 requests a second)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=60) as http:

        async def post(body: bytes) -> int:
            return (await http.post(url, content=body, headers=HEADERS)).status_code

        yield post


GENERATORS: dict[str, Connect] = {"lean": lean_connection, "httpx": httpx_connection}


@dataclass
class Load:
    """What one timed run saw from the client side."""

    seconds: float = 0.0
    completed: int = 0  # answers that arrived inside the measured window
    latencies: list[float] = field(default_factory=list)  # of requests sent inside the window
    acknowledged: list[str] = field(default_factory=list)  # charge ids answered 200, all
    refused: int = 0  # answers other than 200
    server_cpu: float = 0.0  # CPU seconds the server processes used in the window
    database_cpu: float = 0.0  # CPU seconds a database server used in the window
    client_cpu: float = 0.0  # CPU seconds this process used in the window

    @property
    def throughput(self) -> float:
        """Answers a second inside the window."""
        return self.completed / self.seconds if self.seconds else 0.0


async def add_codes(db: Database) -> list[Code]:
    """Sellers and active codes for the callbacks to land on, in an empty database."""
    codes = []
    for seller in range(SELLERS):
        await add_seller(db, 10_000 + seller)
        for number in range(CODES_PER_SELLER):
            codes.append(
                await add_code(
                    db,
                    10_000 + seller,
                    kind=CodeKind.VA,
                    bank="BCA",
                    customer=f"Buyer {number}",
                )
            )
    return codes


def remove_database(path: Path) -> None:
    """Delete a SQLite database and its journal files, if there are any."""
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()


async def prepare_database(path: Path) -> list[Code]:
    """A fresh SQLite database with the codes of ``add_codes``."""
    remove_database(path)
    async with await Database.open(path) as db:
        return await add_codes(db)


def callbacks(codes: list[Code], run: str) -> Iterator[tuple[str, bytes]]:
    """(charge id, body) for ever: a new charge each time, round the codes."""
    for number, code in zip(itertools.count(), itertools.cycle(codes), strict=False):
        charge_id = f"bench-{run}-{number}"
        session = code.pivot_session_id or ""
        body = charge_success_body(session, code.client_reference_id, [(charge_id, 10_000)])
        yield charge_id, body


class ServerProcess:
    """``bench._callback_server`` as a child process."""

    def __init__(
        self, kind: str, database: str | Path | None, log: Path, profile: Path | None = None
    ) -> None:
        self._argv = [sys.executable, "-m", "bench._callback_server", kind]
        if database is not None:
            self._argv.append(str(database))  # a SQLite path or a PostgreSQL URL
        if profile is not None:
            self._argv += ["--profile", str(profile)]
        self._log = log  # the server's stderr: the real one logs each charge, as the bot does
        self._process: asyncio.subprocess.Process | None = None
        self.url = ""
        self.pid = 0

    async def __aenter__(self) -> ServerProcess:
        with self._log.open("wb") as log:
            self._process = process = await asyncio.create_subprocess_exec(
                *self._argv,
                cwd=REPOSITORY,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if not line.startswith(b"port "):
            raise RuntimeError(f"the callback server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/pivot/callback"
        self.pid = process.pid
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        process = self._process
        assert process is not None and process.stdin is not None
        process.stdin.close()  # the server's signal to stop and close its database
        if await asyncio.wait_for(process.wait(), 60) != 0:
            raise RuntimeError(f"the callback server exited with {process.returncode}")


def _cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    """User and system CPU seconds ``processes`` used so far (those that exited count 0)."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(process.cpu_times()[:2])
    return total


async def drive(
    servers: Sequence[ServerProcess],
    connect: Connect,
    source: Iterator[tuple[str, bytes]],
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
    database: Callable[[], list[psutil.Process]] | None = None,
) -> Load:
    """Post from ``concurrency`` workers for ``warmup + seconds``; measure the last part.

    Worker ``n`` posts to ``servers[n % len(servers)]``, so the load is spread evenly over
    several receiving processes. ``database`` lists a database server's processes, whose CPU
    is then measured too.
    """
    load = Load(seconds=seconds)
    loop = asyncio.get_running_loop()
    window_start = loop.time() + warmup
    end = window_start + seconds

    async def worker(server: ServerProcess) -> None:
        async with connect(server.url) as post:
            while loop.time() < end:
                charge_id, body = next(source)
                sent = loop.time()
                status = await post(body)
                answered = loop.time()
                if status == 200:
                    load.acknowledged.append(charge_id)
                else:
                    load.refused += 1
                if window_start <= answered <= end:
                    load.completed += 1
                if sent >= window_start:
                    load.latencies.append(answered - sent)

    processes = [psutil.Process(server.pid) for server in servers]
    workers = [
        asyncio.create_task(worker(servers[number % len(servers)]))
        for number in range(concurrency)
    ]
    await asyncio.sleep(warmup)
    serving = processes + (database() if database else [])  # its backends exist by now
    server_cpu = _cpu_seconds(processes)
    all_cpu = _cpu_seconds(serving)
    client_cpu = time.process_time()
    await asyncio.sleep(seconds)
    load.server_cpu = _cpu_seconds(processes) - server_cpu
    load.database_cpu = _cpu_seconds(serving) - all_cpu - load.server_cpu
    load.client_cpu = time.process_time() - client_cpu
    await asyncio.gather(*workers)
    return load


def verify(database: Path, acknowledged: list[str]) -> str | None:
    """None when every acknowledged charge is on disk with one outbox row; else what is wrong."""
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        charges = {row[0] for row in conn.execute("SELECT pivot_charge_id FROM charges")}
        keys = [row[0] for row in conn.execute("SELECT dedupe_key FROM outbox")]
    finally:
        conn.close()
    return on_disk_problems(charges, keys, acknowledged)


def on_disk_problems(charges: set[str], keys: list[str], acknowledged: list[str]) -> str | None:
    """What is wrong with the charges and outbox keys read back from a database, if anything:
    every acknowledged charge must be there with exactly one payment message."""
    messages = {key for key in keys if key.startswith("payment:")}
    missing = [charge for charge in acknowledged if charge not in charges]
    silent = [charge for charge in acknowledged if payment_dedupe_key(charge) not in messages]
    problems = []
    if missing:
        problems.append(f"{len(missing)} acknowledged charges not on disk")
    if silent:
        problems.append(f"{len(silent)} acknowledged charges without an outbox row")
    if len(messages) != len(charges) or len(keys) != len(set(keys)):
        problems.append(f"{len(charges)} charges but {len(messages)} payment rows")
    return "; ".join(problems) or None


def describe(generator: str, kind: str, load: Load) -> str:
    """One line per run."""
    p50, p99 = percentile(load.latencies, 50) * 1e3, percentile(load.latencies, 99) * 1e3
    return (
        f"{generator:>5} {kind:>4}: {load.throughput:6.0f} req/s, p50 {p50:5.1f} ms,"
        f" p99 {p99:6.1f} ms, CPU server {load.server_cpu / load.seconds:4.0%}"
        + (f" database {load.database_cpu / load.seconds:4.0%}" if load.database_cpu else "")
        + f" client {load.client_cpu / load.seconds:4.0%}"
        + (f", {load.refused} refused" if load.refused else "")
    )


@dataclass
class Series:
    """Every run of one generator."""

    runs: dict[str, list[Load]]
    problems: list[str] = field(default_factory=list)
    verified: int = 0

    def ratios(self, kind: str = "real") -> list[float]:
        """``kind`` / bare throughput, run by run."""
        pairs = zip(self.runs["bare"], self.runs[kind], strict=True)
        return [
            load.throughput / bare.throughput if bare.throughput else 0.0 for bare, load in pairs
        ]

    def rate(self, kind: str) -> float:
        """Median requests a second of ``kind``."""
        return median([load.throughput for load in self.runs[kind]])


async def run_series(
    generator: str, args: argparse.Namespace, codes: list[Code], folder: Path
) -> Series:
    """``args.runs`` rounds of bare and real runs (and, with the lean generator, the steps
    between them) with one load generator."""
    kinds = LADDER if generator == "lean" else ("bare", "real")
    series = Series({kind: [] for kind in kinds})
    for run in range(args.runs):
        for kind in kinds:
            database = folder / f"{generator}{run}.db" if kind == "real" else None
            if database is not None:
                codes = await prepare_database(database)
            profile = None
            if args.profile and generator == "lean" and kind == "real" and run == 0:
                profile = CACHE / "profiles" / "ingestion-server.txt"
                profile.parent.mkdir(parents=True, exist_ok=True)
            log = folder / f"{generator}-{kind}{run}.log"
            async with ServerProcess(kind, database, log, profile) as server:
                load = await drive(
                    [server],
                    GENERATORS[generator],
                    callbacks(codes, f"{generator}{kind}{run}"),
                    concurrency=args.concurrency,
                    warmup=args.warmup,
                    seconds=args.seconds,
                )
            series.runs[kind].append(load)
            say("  " + describe(generator, kind, load))
            if database is not None:
                series.verified += len(load.acknowledged)
                problem = verify(database, load.acknowledged)
                if problem:
                    series.problems.append(f"{generator} run {run}: {problem}")
                remove_database(database)
            if profile is not None:
                say(f"  profile of that real server: {profile.relative_to(REPOSITORY)}")
    return series


async def measure(args: argparse.Namespace) -> Outcome:
    """Alternate bare and real runs with each generator; the median ratio of throughputs."""
    folder = CACHE / "ingestion"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    say(
        f"ingestion: {args.runs} rounds of {args.seconds:.0f} s runs per load generator,"
        f" {args.concurrency} connections"
    )
    codes = await prepare_database(folder / "codes.db")  # bodies for the bare runs
    series = {name: await run_series(name, args, codes, folder) for name in args.generators}
    return _outcome(series)


def _outcome(series: dict[str, Series]) -> Outcome:
    rows: list[Row] = []
    figure = ""
    for name, found in series.items():
        ratios = found.ratios()
        ratio = median(ratios)
        rates = f"{found.rate('real'):.0f} vs {found.rate('bare'):.0f} req/s"
        if name == "lean":
            figure = f"callback ingestion ratio (real / bare Starlette): {ratio:.2f}"
            rows.append(
                Row(
                    WHAT,
                    "throughput, real / bare Starlette 200",
                    "≥ 0.5×",
                    f"{ratio:.2f}× ({rates})",
                    spread_of(ratios, "×", 2),
                    ratio >= 0.5,
                )
            )
            for kind, step in STEPS.items():
                step_ratios = found.ratios(kind)
                rows.append(
                    Row(
                        WHAT,
                        f"step: {step}, / bare",
                        "-",
                        f"{median(step_ratios):.2f}× ({found.rate(kind):.0f} req/s)",
                        spread_of(step_ratios, "×", 2),
                        None,
                    )
                )
        else:
            rows.append(
                Row(
                    WHAT,
                    f"the same through {name} (client-bound baseline)",
                    "-",
                    f"{ratio:.2f}× ({rates})",
                    spread_of(ratios, "×", 2),
                    None,
                )
            )
    problems = [problem for found in series.values() for problem in found.problems]
    verified = sum(found.verified for found in series.values())
    rows.append(
        Row(
            WHAT,
            "every 200 on disk with one outbox row",
            "all",
            f"{verified} verified" if not problems else "; ".join(problems),
            f"{sum(len(found.runs['real']) for found in series.values())} real runs",
            not problems and verified > 0,
        )
    )
    for name, found in series.items():
        for q in (50, 99):
            values = [percentile(load.latencies, q) * 1e3 for load in found.runs["real"]]
            rows.append(
                Row(
                    WHAT,
                    f"real p{q} latency under saturation ({name})",
                    "-",
                    f"{median(values):.1f} ms",
                    spread_of(values, " ms"),
                    None,
                )
            )
    return Outcome(rows, figure or "callback ingestion: the lean generator did not run")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="rounds of runs (bare ... real)")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in use")
    parser.add_argument(
        "--generators", nargs="+", choices=list(GENERATORS), default=list(GENERATORS)
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the first real server (pyinstrument)"
    )


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__ or "", measure, _arguments))
