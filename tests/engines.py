"""The suite's two engines, a pytest plugin (tests/conftest.py loads it): SQLite always,
PostgreSQL on a throwaway server per worker.

A test that takes the ``engine`` fixture (directly or through a ``db`` fixture) runs once per
engine, its id saying ``[sqlite]`` or ``[postgresql]``; ``@pytest.mark.sqlite_only`` keeps a test
about SQLite itself to SQLite. Tests that need the server carry the ``postgresql`` mark (added
here), so ``-m "not postgresql"`` leaves them out.

Without PostgreSQL's binaries those tests are left out with one line for the whole run, except
under ``CI=true``, where that fails the run: CI must test both engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage import Database
from tests.standins import postgres
from tests.standins.postgres import INSTALL_HINT, PostgresServer

ENGINES = ("sqlite", "postgresql")
_NOT_FOUND = "PostgreSQL's binaries were not found"
_TEMPLATE = "kodebayar_template"
_database_names = itertools.count(1)
_available = pytest.StashKey[bool]()  # whether PostgreSQL's binaries were found


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    """Register the marks; under CI, stop at once if PostgreSQL is missing."""
    config.addinivalue_line("markers", "postgresql: needs the throwaway PostgreSQL server")
    config.addinivalue_line("markers", "sqlite_only: about SQLite itself; runs on SQLite only")
    config.stash[_available] = postgres.find_binaries() is not None
    if _in_ci() and not config.stash[_available]:
        raise pytest.UsageError(
            f"CI=true: the suite must run on PostgreSQL too, but {_NOT_FOUND} "
            f"(`{INSTALL_HINT}` installs them)"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that takes ``engine`` once per engine (SQLite only when marked so)."""
    if "engine" not in metafunc.fixturenames:
        return
    sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
    engines = ENGINES[:1] if sqlite_only else ENGINES
    params = [
        pytest.param(name, marks=[pytest.mark.postgresql] if name == "postgresql" else [])
        for name in engines
    ]
    metafunc.parametrize("engine", params, indirect=True, ids=list(engines))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark what needs the server; leave it out when there is none."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)
    if config.stash[_available]:
        return
    kept, left_out = [], []
    for item in items:
        (left_out if item.get_closest_marker("postgresql") else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The one line saying the PostgreSQL half did not run, and how to run it."""
    if not terminalreporter.config.stash[_available]:
        terminalreporter.write_line(
            f"{_NOT_FOUND}, so the PostgreSQL half of the suite did not run: "
            f"`{INSTALL_HINT}` runs it",
            yellow=True,
            bold=True,
        )


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine this run of the test is on: ``"sqlite"`` or ``"postgresql"``."""
    name: str = request.param
    return name


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's SQLite database lives (in a folder Database.open must create)."""
    return tmp_path / "data" / "kodebayar.db"


@pytest.fixture
def database_target(engine: str, request: pytest.FixtureRequest) -> Path | str:
    """What ``Database.open`` takes on this engine: ``db_path``, or a fresh migrated
    PostgreSQL database's URL."""
    # Asked for by name, so the SQLite run neither needs nor starts the server.
    target: Path | str = request.getfixturevalue(
        "db_path" if engine == "sqlite" else "postgres_url"
    )
    return target


@pytest.fixture
def bot_home(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where a bot the test runs (``running_bot``) keeps its data on this engine: the test's
    folder, or a fresh migrated PostgreSQL database's URL."""
    home: Path | str = tmp_path if engine == "sqlite" else request.getfixturevalue("postgres_url")
    return home


@pytest.fixture
def new_database(
    engine: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Path | str]]:
    """Makes another fresh database on this engine at each call, and gives its target: for a
    test that needs several (Hypothesis's examples)."""
    with _fresh_databases(engine, request) as fresh:
        yield lambda: fresh(lambda: tmp_path_factory.mktemp("database") / "kodebayar.db")


@pytest.fixture
def new_bot_home(
    engine: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Path | str]]:
    """Makes another fresh ``bot_home`` at each call: for a test that runs bots one after the
    other, each on a database of its own."""
    with _fresh_databases(engine, request) as fresh:
        yield lambda: fresh(lambda: tmp_path_factory.mktemp("bot"))


@contextlib.contextmanager
def _fresh_databases(
    engine: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[Callable[[], Path]], Path | str]]:
    """Calls back for a new SQLite place, or takes a copy of the template: each call a new
    database."""
    if engine == "sqlite":
        yield lambda new_path: new_path()
        return
    copies: _Copies = request.getfixturevalue("postgres_copies")
    with contextlib.ExitStack() as made:
        yield lambda _: made.enter_context(copies.one())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """This worker's server, started the first time a test needs it, stopped at the end.

    fsync is off: nothing here has to survive a crash of the machine.
    """
    with PostgresServer(fast=True) as server:
        yield server


class _Copies:
    """Copies of a migrated template, one made ahead in a thread while the test before runs
    and dropped in that thread after: a test waits for neither (~0.3 s each on a busy box)."""

    def __init__(self, server: PostgresServer, template: str) -> None:
        self._server = server
        self._template = template
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres copies")
        self._next = self._thread.submit(self._make)

    def _make(self) -> str:
        name = f"test_{next(_database_names)}"
        self._server.create_database(name, template=self._template)
        return name

    @contextlib.contextmanager
    def one(self) -> Iterator[str]:
        """A copy of the test's own; its URL."""
        name = self._next.result()
        self._next = self._thread.submit(self._make)
        try:
            yield self._server.url(name)
        finally:
            self._thread.submit(self._server.drop_database, name)

    def close(self) -> None:
        """Wait for what the thread is doing (the server's end removes every copy)."""
        self._thread.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_copies(postgres_server: PostgresServer) -> Iterator[_Copies]:
    """Copies of a database migrated once per worker: no test runs the migrations again."""
    postgres_server.create_database(_TEMPLATE)
    url = postgres_server.url(_TEMPLATE)

    async def migrate() -> None:
        async with await Database.open(url):
            pass

    # Session fixtures run outside any test's event loop, but may be set up inside one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, migrate()).result()
    copies = _Copies(postgres_server, _TEMPLATE)
    yield copies
    copies.close()


@pytest.fixture
def postgres_url(postgres_copies: _Copies) -> Iterator[str]:
    """The URL of a new, migrated database of the test's own, dropped afterwards."""
    with postgres_copies.one() as url:
        yield url


@pytest.fixture
def empty_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new database of the test's own with no table in it, dropped afterwards."""
    name = f"test_{next(_database_names)}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)
