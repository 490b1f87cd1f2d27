"""The README's PostgreSQL backup and restore (Backups and upgrades), with the real ``pg_dump``
and ``pg_restore`` of the suite's throwaway server (tests/engines.py).

A dump restores into an empty database with every record, its constraints and its sequences;
restoring it over a database that has tables changes nothing; and a dump from a newer Kodebayar
restores, but this Kodebayar refuses the database and leaves it as it is.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import Database, DatabaseTooNewError
from tests.standins import PostgresServer, add_code, add_seller, new_charge, record_charge

SELLER = 4100


async def _run(*command: str | Path) -> tuple[int, str]:
    """Run a client program; its exit code and what it printed."""
    process = await asyncio.create_subprocess_exec(
        *map(str, command),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def _dump(server: PostgresServer, url: str, dump: Path) -> None:
    """The README's backup: ``pg_dump -Fc --dbname=URL -f FILE``."""
    code, output = await _run(server.binaries / "pg_dump", "-Fc", f"--dbname={url}", "-f", dump)
    assert code == 0, output


async def _data(server: PostgresServer, url: str) -> str:
    """Every row of the database, as ``pg_dump --data-only`` writes it."""
    code, output = await _run(server.binaries / "pg_dump", "--data-only", f"--dbname={url}")
    assert code == 0, output
    # Less the random key each dump draws for psql's \restrict (pg_dump 15.14 and later).
    key_lines = ("\\restrict ", "\\unrestrict ")
    return "".join(line for line in output.splitlines(True) if not line.startswith(key_lines))


async def _restore(server: PostgresServer, url: str, dump: Path) -> tuple[int, str]:
    """The README's restore: ``pg_restore --no-owner --single-transaction --dbname=URL FILE``."""
    return await _run(
        server.binaries / "pg_restore",
        "--no-owner",
        "--single-transaction",
        f"--dbname={url}",
        dump,
    )


async def _records(url: str, code_id: int) -> tuple[Any, ...]:
    """What a restore must bring back: the seller, the code, its charges, the schema's version."""
    async with await Database.open(url) as db:
        return (
            await db.sellers.get(SELLER),
            await db.codes.get(code_id),
            await db.charges.list_for_code(code_id, offset=0, limit=10),
            await db.schema_version(),
        )


async def _seed(url: str) -> int:
    """A seller with a code paid twice; the code's id."""
    async with await Database.open(url) as db:
        await add_seller(db, SELLER)
        code = await add_code(db, SELLER)
        await record_charge(db, "ch-backup-1", code, amount=25_000)
        await record_charge(db, "ch-backup-2", code, amount=40_000)
    return code.id


@pytest.fixture
async def empty_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A second empty database, owned by the bot's role (``createdb --owner``); its URL."""
    name = f"restored_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


async def test_a_dump_restores_into_an_empty_database_with_every_record(
    postgres_server: PostgresServer, postgres_url: str, empty_database: str, tmp_path: Path
) -> None:
    code_id = await _seed(postgres_url)
    dump = tmp_path / "kodebayar.dump"

    await _dump(postgres_server, postgres_url, dump)
    code, output = await _restore(postgres_server, empty_database, dump)

    assert code == 0, output
    restored = await _records(empty_database, code_id)
    assert restored == await _records(postgres_url, code_id)
    assert len(restored[2]) == 2
    async with await Database.open(empty_database) as db, db.write() as tx:
        # The UNIQUE constraint came back (a charge delivered again is still a repeat), and the
        # sequences go on past the restored rows.
        code_row = await db.codes.get(code_id)
        again = await tx.charges.insert_new(
            [new_charge("ch-backup-1", code_row)], now=restored[2][0].paid_at
        )
        [new] = await tx.charges.insert_new(
            [new_charge("ch-backup-3", code_row)], now=restored[2][0].paid_at
        )
    assert again == []
    assert new.id > max(charge.id for charge in restored[2])


async def test_a_restore_over_a_database_with_tables_changes_nothing(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    code_id = await _seed(postgres_url)
    dump = tmp_path / "kodebayar.dump"
    await _dump(postgres_server, postgres_url, dump)
    before = await _records(postgres_url, code_id), await _data(postgres_server, postgres_url)

    code, output = await _restore(postgres_server, postgres_url, dump)

    assert code != 0
    assert "already exists" in output
    after = await _records(postgres_url, code_id), await _data(postgres_server, postgres_url)
    assert after == before


async def test_a_dump_from_a_newer_kodebayar_restores_but_is_refused_and_left_as_it_is(
    postgres_server: PostgresServer, postgres_url: str, empty_database: str, tmp_path: Path
) -> None:
    await _seed(postgres_url)
    async with await Database.open(postgres_url) as db:
        known = await db.schema_version()
    # What a newer Kodebayar leaves: its schema one version further.
    source = postgres_url.rsplit("/", 1)[1]
    postgres_server.execute("UPDATE kodebayar_schema SET version = version + 1", database=source)
    dump = tmp_path / "newer.dump"
    await _dump(postgres_server, postgres_url, dump)

    code, output = await _restore(postgres_server, empty_database, dump)
    assert code == 0, output
    restored = await _data(postgres_server, empty_database)

    with pytest.raises(DatabaseTooNewError) as refused:
        await Database.open(empty_database)

    assert (refused.value.found, refused.value.known) == (known + 1, known)
    assert await _data(postgres_server, empty_database) == restored
