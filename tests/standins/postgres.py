"""A throwaway PostgreSQL server for tests and benchmarks, in a temporary folder of its own.

It runs the machine's own PostgreSQL binaries (Debian's ``postgresql`` package), listens on
127.0.0.1 and a free port, and lets a client in over TCP only with ``USER``'s password
(scram-sha-256), as a production server would. ``initdb`` and ``postgres`` refuse to run as root,
so under root they run as the ``postgres`` system user, in a folder that user owns (``/tmp``
itself may not be writable by it); the socket the admin commands use lives in that folder too.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from tests.standins.servers import free_port

USER = "kodebayar"
PASSWORD = "kodebayar-test-password"  # a throwaway server's; never a real one's
_SUPERUSER = "postgres"  # initdb's, reached only through the folder's socket
_SYSTEM_USER = "postgres"  # who runs the server when we are root
INSTALL_HINT = "apt-get install postgresql"

# Only with ``fast=True``: a crash may lose committed data, which a test's server can afford and
# a benchmark's cannot (it would measure a server nobody runs).
_FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresError(RuntimeError):
    """The server could not be set up, started or asked something; the message says why."""


def find_binaries() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``psql``: the newest
    ``/usr/lib/postgresql/<version>/bin``, else where ``pg_ctl`` is on PATH; None if neither."""
    versions = sorted(
        (
            folder
            for folder in Path("/usr/lib/postgresql").glob("*/bin")
            if folder.parent.name.isdigit() and (folder / "pg_ctl").is_file()
        ),
        key=lambda folder: int(folder.parent.name),
    )
    if versions:
        return versions[-1]
    pg_ctl = shutil.which("pg_ctl")
    # Debian links its versioned binaries into PATH; the real folder also holds initdb.
    return None if pg_ctl is None else Path(pg_ctl).resolve().parent


class PostgresServer:
    """One server: ``start()`` it (or use ``with``), ``url(name)`` a database, ``stop()`` it.

    ``fast`` turns off fsync and friends (tests only: a crash may lose committed data).
    """

    def __init__(
        self, *, fast: bool = False, binaries: Path | None = None, timeout: float = 30
    ) -> None:
        found = binaries or find_binaries()
        if found is None:
            raise PostgresError(f"PostgreSQL's binaries were not found (try `{INSTALL_HINT}`)")
        self.binaries = found
        self.fast = fast
        self.timeout = timeout
        self.port = 0
        self._folder: Path | None = None

    @property
    def folder(self) -> Path:
        """The server's temporary folder: its data, socket and log."""
        if self._folder is None:
            raise PostgresError("the server is not started")
        return self._folder

    @property
    def running(self) -> bool:
        """Whether ``start()`` succeeded and ``stop()`` has not run since."""
        return self._folder is not None

    def url(self, database: str = "postgres", *, password: str = PASSWORD) -> str:
        """``postgresql://`` URL of ``database`` as the test user (``password`` to try another)."""
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Create the cluster and start the server; fail within ``timeout`` seconds."""
        if self._folder is not None:
            raise PostgresError("the server is already started")
        self._folder = Path(tempfile.mkdtemp(prefix="kodebayar-pg-"))
        try:
            self._chown_to_server_user(self._folder)
            self._initdb()
            self._pg_ctl_start()
            self.execute(f"CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected) and remove its folder."""
        if self._folder is None:
            return
        folder, self._folder = self._folder, None
        try:
            if (folder / "data" / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "fast", folder=folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database owned by the test user (a copy of ``template`` if given); its URL.

        A template must have no open connection while it is copied.
        """
        copy = "" if template is None else f" TEMPLATE {_checked(template)}"
        self.execute(f"CREATE DATABASE {_checked(name)} OWNER {USER}{copy}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, disconnecting whoever is still connected to it."""
        self.execute(f"DROP DATABASE IF EXISTS {_checked(name)} WITH (FORCE)")

    def execute(self, sql: str, *, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser through the folder's socket; what it printed
        (unaligned, tuples only)."""
        command = [
            str(self.binaries / "psql"),
            *("--no-psqlrc", "--quiet", "--tuples-only", "--no-align"),
            *("--set", "ON_ERROR_STOP=1"),
            *("--host", str(self.folder), "--port", str(self.port)),
            *("--username", _SUPERUSER, "--dbname", database, "--command", sql),
        ]
        return self._run(command, what=f"psql {sql!r}").strip()

    def end_lease_sessions(self, database: str) -> int:
        """End, at the server, the sessions of ``database`` holding a leader's lease (a
        session advisory lock, idle between its holder's checks), as a dead process or a cut
        network would; how many."""
        ended = self.execute(
            "SELECT count(pg_terminate_backend(pid))"
            " FROM pg_locks JOIN pg_stat_activity USING (pid)"
            " WHERE locktype = 'advisory' AND granted AND state = 'idle'"
            " AND datname = current_database()",
            database=_checked(database),
        )
        return int(ended)

    def log(self) -> str:
        """What the server wrote to its log so far."""
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _initdb(self) -> None:
        self._run(
            self._as_server_user(
                str(self.binaries / "initdb"),
                *("--pgdata", str(self.folder / "data"), "--username", _SUPERUSER),
                *("--encoding", "UTF8", "--no-locale", "--no-sync"),
                *("--auth-local", "trust", "--auth-host", "scram-sha-256"),
            ),
            what="initdb",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.folder}'",
            **(_FAST_SETTINGS if self.fast else {}),
        }
        with (self.folder / "data" / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _pg_ctl_start(self, attempts: int = 3) -> None:
        # Another process may take the free port before the server binds it: try another.
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            try:
                self._pg_ctl(
                    "start",
                    "--log",
                    str(self.folder / "server.log"),
                    "--options",
                    f"-p {self.port}",
                )
                return
            except PostgresError as error:
                if "could not bind" not in str(error) or attempt == attempts:
                    raise

    def _pg_ctl(self, action: str, *options: str, folder: Path | None = None) -> None:
        folder = folder or self.folder
        command = self._as_server_user(
            str(self.binaries / "pg_ctl"),
            action,
            *("--pgdata", str(folder / "data"), "--wait", "--timeout", str(int(self.timeout))),
            *options,
        )
        self._run(command, what=f"pg_ctl {action}")

    def _run(self, command: list[str], *, what: str) -> str:
        try:
            done = subprocess.run(  # noqa: S603 (our own binaries, our own arguments)
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresError(f"{what} took over {self.timeout}s{self._log_tail()}") from error
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip()
            raise PostgresError(f"{what} failed ({done.returncode}): {said}{self._log_tail()}")
        return done.stdout

    def _log_tail(self) -> str:
        log = self.log() if self._folder is not None else ""
        return "\nserver log:\n" + "\n".join(log.splitlines()[-20:]) if log else ""

    @staticmethod
    def _as_server_user(*command: str) -> list[str]:
        if os.geteuid() != 0:
            return list(command)
        return ["runuser", "-u", _SYSTEM_USER, "--", *command]

    @staticmethod
    def _chown_to_server_user(folder: Path) -> None:
        if os.geteuid() != 0:
            return
        try:
            account = pwd.getpwnam(_SYSTEM_USER)
        except KeyError as error:
            raise PostgresError(
                f"running as root, and there is no {_SYSTEM_USER!r} system user to run "
                f"PostgreSQL as (initdb refuses root; `{INSTALL_HINT}` creates it)"
            ) from error
        os.chown(folder, account.pw_uid, account.pw_gid)


def _checked(name: str) -> str:
    """``name`` if it is a plain lower-case identifier, safe to put in SQL unquoted."""
    if not _NAME.fullmatch(name):
        raise PostgresError(f"not a plain database name: {name!r}")
    return name
