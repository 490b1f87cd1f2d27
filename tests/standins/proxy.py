"""The real nginx with the shipped ``deploy/nginx.conf``, in front of servers on loopback.

compose.yaml's `scale` profile puts that file in front of its replicas ``bot-1`` and ``bot-2``;
here the same file runs with each replica's ``server`` lines pointed at a loopback port and its
``listen`` at a free one, so requests take the routes and retries an operator's proxy takes.
Nothing else in the file is changed: a test that passes here passes on what ships.

nginx is Debian's package, found on ``PATH`` or in ``/usr/sbin``. Without it a test asking for
it skips with one line saying how to install it, or fails under ``CI=true`` (CI must run it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from tests.standins.process import REPOSITORY
from tests.standins.servers import free_port, wait_for

SHIPPED_CONFIG = REPOSITORY / "deploy" / "nginx.conf"

# An upstream's member as the shipped file names it: `server bot-1:8080` with its parameters.
_REPLICA = re.compile(r"^(\s*server\s+)([A-Za-z][\w.-]*):(\d+)\b", re.MULTILINE)
_LISTEN = re.compile(r"^(\s*listen\s+)(\d+);", re.MULTILINE)


def nginx_binary() -> str:
    """Debian's nginx; when it is missing the test skips, or fails under ``CI=true``."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is not None:
        return found
    message = (
        "nginx is not installed, so the proxy tests do not run: `make test` installs Debian's "
        "nginx when run as root with apt-get, or run `apt-get install nginx` yourself"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def replicas(config: str) -> list[str]:
    """The replicas' host names in ``config``, in the order they first appear."""
    return list(dict.fromkeys(match.group(2) for match in _REPLICA.finditer(config)))


def loopback_config(config: str, backends: Sequence[int], port: int) -> str:
    """``config`` with its replicas at loopback ``backends`` (in order), listening on ``port``."""
    names = replicas(config)
    if len(names) != len(backends):
        raise ValueError(f"the config names replicas {names}, given {len(backends)} ports")
    ports = dict(zip(names, backends, strict=True))
    config = _REPLICA.sub(lambda m: f"{m.group(1)}127.0.0.1:{ports[m.group(2)]}", config)
    config, listens = _LISTEN.subn(lambda m: f"{m.group(1)}127.0.0.1:{port};", config)
    if listens != 1:
        raise ValueError(f"expected one `listen PORT;` in the config, found {listens}")
    return config


def _main_config(folder: Path) -> str:
    """What the official image's /etc/nginx/nginx.conf provides around the shipped file."""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log stderr warn;
events {{
    worker_connections 256;
}}
http {{
    access_log off;
{temp}
    include {folder / "kodebayar.conf"};
}}
"""


class NginxProxy:
    """nginx running the shipped config; ``url`` is where it listens, ``output`` what it logged."""

    def __init__(self, backends: Sequence[int], folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._folder = folder
        self._backends = list(backends)
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.output = ""

    async def start(self) -> None:
        """Write the configs into ``folder``, start nginx and wait until it accepts connections."""
        binary = nginx_binary()
        self._folder.mkdir(parents=True, exist_ok=True)
        shipped = SHIPPED_CONFIG.read_text()
        (self._folder / "kodebayar.conf").write_text(
            loopback_config(shipped, self._backends, self.port)
        )
        (self._folder / "nginx.conf").write_text(_main_config(self._folder))
        self._process = await asyncio.create_subprocess_exec(
            binary,
            "-e",
            "stderr",
            "-p",
            str(self._folder),
            "-c",
            str(self._folder / "nginx.conf"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        await wait_for(self._accepts, timeout=10, interval=0.02, what="nginx to listen")

    async def _read(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        async for line in self._process.stderr:
            self.output += line.decode(errors="replace")

    async def _accepts(self) -> bool:
        assert self._process is not None
        if self._process.returncode is not None:
            raise AssertionError(f"nginx exited with {self._process.returncode}:\n{self.output}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        return True

    async def aclose(self) -> None:
        """Stop nginx (its fast shutdown) and wait for it."""
        if self._process is None:
            return
        if self._process.returncode is None:
            self._process.terminate()
        await asyncio.wait_for(self._process.wait(), 10)
        assert self._reader is not None
        await self._reader


@contextlib.asynccontextmanager
async def running_proxy(backends: Sequence[int], folder: Path) -> AsyncIterator[NginxProxy]:
    """The shipped nginx config in front of ``backends`` (ports, in the replicas' order)."""
    proxy = NginxProxy(backends, folder)
    try:
        await proxy.start()
        yield proxy
    finally:
        await proxy.aclose()
