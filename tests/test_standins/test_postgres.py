"""The throwaway PostgreSQL server: password-only TCP, databases made and dropped, a durable
server unless told otherwise, and a failed start that says why and leaves nothing behind."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.standins import PostgresError, PostgresServer
from tests.standins import postgres as postgres_module

pytestmark = pytest.mark.postgresql


def psql_over_tcp(server: PostgresServer, url: str, sql: str) -> subprocess.CompletedProcess[str]:
    """``sql`` run by a client connecting to ``url`` as an application would (TCP, password)."""
    return subprocess.run(  # noqa: S603
        [str(server.binaries / "psql"), "--no-psqlrc", "-tA", url, "--command", sql],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )


def test_the_test_user_gets_in_with_its_password_and_not_without(
    postgres_server: PostgresServer,
) -> None:
    allowed = psql_over_tcp(postgres_server, postgres_server.url(), "SELECT current_user")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == postgres_module.USER

    refused = psql_over_tcp(
        postgres_server, postgres_server.url(password="not-the-password"), "SELECT 1"
    )
    assert refused.returncode != 0
    assert "password authentication failed" in refused.stderr


def test_a_database_is_made_from_a_template_and_dropped(postgres_server: PostgresServer) -> None:
    template = postgres_server.create_database("standins_template")
    try:
        made = psql_over_tcp(postgres_server, template, "CREATE TABLE kept (n int); SELECT 1")
        assert made.returncode == 0, made.stderr
        copy = postgres_server.create_database("standins_copy", template="standins_template")
        assert copy == postgres_server.url("standins_copy")
        owner = psql_over_tcp(
            postgres_server, copy, "SELECT tableowner FROM pg_tables WHERE tablename = 'kept'"
        )
        assert owner.stdout.strip() == postgres_module.USER

        postgres_server.drop_database("standins_copy")
        gone = psql_over_tcp(postgres_server, copy, "SELECT 1")
        assert 'database "standins_copy" does not exist' in gone.stderr
    finally:
        postgres_server.drop_database("standins_copy")
        postgres_server.drop_database("standins_template")


def test_a_name_that_is_not_a_plain_identifier_is_refused(
    postgres_server: PostgresServer,
) -> None:
    with pytest.raises(PostgresError, match="not a plain database name"):
        postgres_server.create_database('x"; DROP DATABASE postgres; --')


def test_the_suites_server_trades_durability_for_speed(postgres_server: PostgresServer) -> None:
    assert postgres_server.execute("SHOW fsync") == "off"


def test_a_server_is_durable_unless_told_and_stopping_removes_it() -> None:
    with PostgresServer() as server:
        folder = server.folder
        assert server.execute("SHOW fsync") == "on"
        assert server.execute("SHOW synchronous_commit") == "on"
        assert server.execute("SHOW listen_addresses") == "127.0.0.1"
    assert not folder.exists()
    assert not server.running


def test_a_server_that_cannot_start_says_why_and_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Path] = []
    make_folder = tempfile.mkdtemp

    def recording_mkdtemp(**options: str) -> str:
        made.append(Path(make_folder(**options)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(postgres_module, "free_port", lambda: taken.getsockname()[1])
        server = PostgresServer(timeout=20)
        with pytest.raises(PostgresError, match="pg_ctl start failed") as failure:
            server.start()
    assert "could not bind" in str(failure.value)
    assert not server.running
    [folder] = made
    assert not folder.exists()
