"""``python -m bot run`` (or another command) as a real child process, configured through its
environment."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sys
from pathlib import Path

import httpx

from tests.standins.harness import (
    ADMIN_ID,
    BOT_TOKEN,
    CALLBACK_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
)
from tests.standins.servers import wait_for

REPOSITORY = Path(__file__).resolve().parents[2]


def bot_environment(
    *, database: Path | str, telegram_url: str, pivot_url: str, http_port: int, **extra: str
) -> dict[str, str]:
    """The variables an operator would put in ``.env``, pointing at the stand-ins; the
    database a SQLite file's path (``DATABASE_PATH``) or a PostgreSQL URL (``DATABASE_URL``)."""
    variables = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": telegram_url,
        "PIVOT_BASE_URL": pivot_url,
        "PIVOT_CLIENT_ID": CLIENT_ID,
        "PIVOT_CLIENT_SECRET": CLIENT_SECRET,
        "PIVOT_CALLBACK_API_KEY": CALLBACK_KEY,
        "DATABASE_URL" if isinstance(database, str) else "DATABASE_PATH": str(database),
        "ADMIN_TELEGRAM_IDS": str(ADMIN_ID),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(http_port),
    }
    variables.update(extra)
    return variables


class BotProcess:
    """One run of the bot (``kodebayar <command>``, ``run`` unless said); everything it prints
    is kept in ``output``.

    ``open_files`` limits the descriptors the process may hold (RLIMIT_NOFILE, soft and hard),
    as a host's usual 1,024 would.
    """

    def __init__(
        self,
        variables: dict[str, str],
        cwd: Path,
        *,
        open_files: int | None = None,
        command: str = "run",
    ) -> None:
        # Only what a fresh shell would have, so no setting leaks in from the test run.
        self._env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), **variables}
        self._cwd = cwd
        self._open_files = open_files
        self._command = command
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.output = ""

    async def start(self) -> None:
        """Start the process in ``cwd`` (it reads ``cwd/.env`` when there is one)."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            self._command,
            cwd=self._cwd,
            env={**self._env, "PYTHONPATH": str(REPOSITORY)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=None if self._open_files is None else self._limit_open_files,
        )
        self._reader = asyncio.create_task(self._read())

    def _limit_open_files(self) -> None:
        """Runs in the child between fork and exec."""
        assert self._open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self._open_files, self._open_files))

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            self.output += line.decode(errors="replace")

    async def wait_ready(self, http_url: str, timeout: float = 20) -> None:
        """Wait until ``/healthz`` says ready."""
        async with httpx.AsyncClient() as http:

            async def ready() -> bool:
                if self.returncode is not None:
                    raise AssertionError(f"the bot exited early:\n{self.output}")
                try:
                    return (await http.get(f"{http_url}/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(ready, timeout=timeout, interval=0.1, what="the bot to be ready")

    @property
    def pid(self) -> int:
        """The process id, once started."""
        assert self._process is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit code, once it exited."""
        return None if self._process is None else self._process.returncode

    async def signal(self, signum: signal.Signals) -> None:
        """Send a signal (SIGKILL to crash it)."""
        assert self._process is not None
        self._process.send_signal(signum)

    async def wait(self, timeout: float = 15) -> int:
        """Wait for the exit; its code."""
        assert self._process is not None and self._reader is not None
        code = await asyncio.wait_for(self._process.wait(), timeout)
        await self._reader
        return code

    async def run_to_end(self, timeout: float = 30) -> int:
        """Start and wait for the exit; its code."""
        await self.start()
        return await self.wait(timeout)

    async def aclose(self) -> None:
        """Kill it if it still runs."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self.wait()
