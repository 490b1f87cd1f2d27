"""``kodebayar simulator``: its help, and a real process answering on loopback."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import httpx
import pytest

from bot.cli import main

KODEBAYAR = Path(sys.executable).with_name("kodebayar")
LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def test_help_lists_the_simulator_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["simulator", "--help"])

    assert exited.value.code == 0
    usage = capsys.readouterr().out
    for option in (
        "--port",
        "--callback-url",
        "--callback-key",
        "--client-id",
        "--client-secret",
        "--token-lifetime",
        "--callback-retry-delays",
        "--closed-va-lifetime",
    ):
        assert option in usage


async def test_the_command_serves_the_simulator() -> None:
    process = await asyncio.create_subprocess_exec(
        str(KODEBAYAR),
        "simulator",
        "--port",
        "0",  # uvicorn picks a free port and logs it
        "--callback-url",
        "http://127.0.0.1:9/callback",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    output: list[str] = []
    try:
        async with asyncio.timeout(5):
            while not (found := LISTENING.search("".join(output))):
                line = await process.stderr.readline()
                assert line, f"the simulator exited early: {''.join(output)}"
                output.append(line.decode())
            async with httpx.AsyncClient(trust_env=False) as http:
                index = await http.get(found.group(1) + "/")
    finally:
        if process.returncode is None:
            process.terminate()
        await process.stderr.read()
        await process.wait()

    assert index.status_code == 200
    assert index.headers["X-Pivot-Simulator"] == "true"
    assert "This is NOT Pivot Payment" in index.text
    banner = "".join(output)
    assert "PIVOT SIMULATOR" in banner
    assert "NOT production" in banner
