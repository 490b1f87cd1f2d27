"""deploy/nginx.conf, run by the real nginx: callbacks and health checks spread over the replicas,
webhook updates reach the one that takes them (the leader), and a replica that is down or dies
mid-request costs no callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins import (
    NginxProxy,
    free_port,
    loopback_config,
    nginx_binary,
    replicas,
    running_proxy,
    serving,
)
from tests.standins.proxy import SHIPPED_CONFIG


class Replica:
    """A stand-in for one bot process: records what reached it; a follower refuses updates."""

    def __init__(self, name: str, *, leader: bool) -> None:
        self.name = name
        self.leader = leader
        self.seen: list[tuple[str, bytes]] = []

    def app(self) -> Starlette:
        """The three routes the proxy serves, answered as the bot answers them."""

        async def callback(request: Request) -> Response:
            self.seen.append((request.url.path, await request.body()))
            return JSONResponse({"status": "ok", "replica": self.name})

        async def healthz(request: Request) -> Response:
            self.seen.append((request.url.path, b""))
            return JSONResponse({"replica": self.name})

        async def webhook(request: Request) -> Response:
            self.seen.append((request.url.path, await request.body()))
            return Response(status_code=200 if self.leader else 503)

        return Starlette(
            routes=[
                Route("/pivot/callback", callback, methods=["POST"]),
                Route("/healthz", healthz, methods=["GET"]),
                Route("/telegram/webhook", webhook, methods=["POST"]),
            ]
        )

    def paths(self, path: str) -> list[bytes]:
        """The bodies of the requests for ``path`` that reached this replica."""
        return [body for seen, body in self.seen if seen == path]


@contextlib.asynccontextmanager
async def two_replicas(
    tmp_path: Path, *, leader: str | None = "bot-2"
) -> AsyncIterator[tuple[NginxProxy, Replica, Replica]]:
    """nginx with the shipped config in front of bot-1 and bot-2; ``leader`` takes updates."""
    one = Replica("bot-1", leader=leader == "bot-1")
    two = Replica("bot-2", leader=leader == "bot-2")
    async with (
        serving(one.app()) as first,
        serving(two.app()) as second,
        running_proxy([first.port, second.port], tmp_path / "nginx") as proxy,
    ):
        yield proxy, one, two


async def _post_each(proxy: NginxProxy, path: str, bodies: list[bytes]) -> list[httpx.Response]:
    """POST ``bodies`` one after the other, each on a new connection."""
    answers = []
    for body in bodies:
        async with httpx.AsyncClient(base_url=proxy.url) as http:
            answers.append(await http.post(path, content=body))
    return answers


def test_the_shipped_config_names_the_two_replicas_compose_runs() -> None:
    assert replicas(SHIPPED_CONFIG.read_text()) == ["bot-1", "bot-2"]


def test_the_loopback_config_changes_only_the_addresses() -> None:
    shipped = SHIPPED_CONFIG.read_text()

    config = loopback_config(shipped, [1111, 2222], 3333)

    assert "bot-1" not in config and "bot-2" not in config
    assert config.count("server 127.0.0.1:1111") == 2
    assert config.count("server 127.0.0.1:2222") == 2
    assert "listen 127.0.0.1:3333;" in config
    assert len(config.splitlines()) == len(shipped.splitlines())


async def test_callbacks_and_health_checks_alternate_between_the_replicas(
    tmp_path: Path,
) -> None:
    async with two_replicas(tmp_path) as (proxy, one, two):
        bodies = [f"callback {n}".encode() for n in range(6)]
        answers = await _post_each(proxy, "/pivot/callback", bodies)
        async with httpx.AsyncClient(base_url=proxy.url) as http:
            health = [(await http.get("/healthz")).json()["replica"] for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200] * 6
    order = [answer.json()["replica"] for answer in answers]
    assert order in (["bot-1", "bot-2"] * 3, ["bot-2", "bot-1"] * 3)
    assert sorted(one.paths("/pivot/callback") + two.paths("/pivot/callback")) == bodies
    assert health in (["bot-1", "bot-2"] * 2, ["bot-2", "bot-1"] * 2)


async def test_a_webhook_update_reaches_the_leader_whichever_replica_it_is(
    tmp_path: Path,
) -> None:
    for leader in ("bot-1", "bot-2"):
        async with two_replicas(tmp_path / leader, leader=leader) as (proxy, one, two):
            updates = [b'{"update_id": %d}' % n for n in range(4)]
            answers = await _post_each(proxy, "/telegram/webhook", updates)
        taker, follower = (one, two) if leader == "bot-1" else (two, one)

        assert [answer.status_code for answer in answers] == [200] * 4
        assert taker.paths("/telegram/webhook") == updates  # each once, its body intact
        assert follower.paths("/telegram/webhook")  # it was asked, and refused
        assert set(follower.paths("/telegram/webhook")) <= set(updates)


async def test_updates_reach_a_new_leader_at_once_after_the_old_one_refused_them(
    tmp_path: Path,
) -> None:
    async with two_replicas(tmp_path, leader="bot-1") as (proxy, one, two):
        await _post_each(proxy, "/telegram/webhook", [b"{}"] * 4)  # bot-2 refuses some
        one.leader, two.leader = False, True  # bot-1 died; bot-2 took the lease
        updates = [b'{"update_id": %d}' % n for n in range(4)]
        answers = await _post_each(proxy, "/telegram/webhook", updates)

    assert [answer.status_code for answer in answers] == [200] * 4
    assert two.paths("/telegram/webhook")[-4:] == updates


async def test_with_no_leader_telegram_gets_503_and_delivers_the_update_again_later(
    tmp_path: Path,
) -> None:
    async with two_replicas(tmp_path, leader=None) as (proxy, one, two):
        [answer] = await _post_each(proxy, "/telegram/webhook", [b'{"update_id": 1}'])

    assert answer.status_code == 503
    assert one.paths("/telegram/webhook") == [b'{"update_id": 1}']
    assert two.paths("/telegram/webhook") == [b'{"update_id": 1}']


async def test_a_followers_503s_do_not_take_it_out_of_the_callbacks_rotation(
    tmp_path: Path,
) -> None:
    async with two_replicas(tmp_path, leader="bot-2") as (proxy, one, _):
        await _post_each(proxy, "/telegram/webhook", [b"{}"] * 4)
        answers = await _post_each(proxy, "/pivot/callback", [b"{}"] * 4)

    assert [answer.json()["replica"] for answer in answers].count("bot-1") == 2
    assert len(one.paths("/pivot/callback")) == 2


async def test_a_replica_that_is_down_costs_no_callback(tmp_path: Path) -> None:
    alive = Replica("bot-2", leader=True)
    async with (
        serving(alive.app()) as second,
        running_proxy([free_port(), second.port], tmp_path / "nginx") as proxy,
    ):
        bodies = [f"callback {n}".encode() for n in range(4)]
        answers = await _post_each(proxy, "/pivot/callback", bodies)
        [update] = await _post_each(proxy, "/telegram/webhook", [b'{"update_id": 7}'])

    assert [answer.status_code for answer in answers] == [200] * 4
    assert alive.paths("/pivot/callback") == bodies
    assert update.status_code == 200


async def test_a_callback_whose_replica_dies_mid_request_is_sent_to_the_other(
    tmp_path: Path,
) -> None:
    # A replica killed while handling the request: it read the callback and answers nothing.
    received: list[bytes] = []

    async def dies(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(65536))
        writer.transport.abort()

    alive = Replica("bot-2", leader=True)
    dying = await asyncio.start_server(dies, "127.0.0.1", 0)
    dying_port = dying.sockets[0].getsockname()[1]
    try:
        async with (
            serving(alive.app()) as second,
            running_proxy([dying_port, second.port], tmp_path / "nginx") as proxy,
        ):
            # Round robin sends one of the two to the dying replica, whichever comes first.
            answers = await _post_each(proxy, "/pivot/callback", [b"callback 1", b"callback 2"])
    finally:
        dying.close()
        await dying.wait_closed()

    assert [answer.status_code for answer in answers] == [200, 200]
    assert len(received) == 1 and b"callback " in received[0]  # the dying one had read one
    assert alive.paths("/pivot/callback") == [b"callback 1", b"callback 2"]


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_without_nginx_a_test_skips_with_one_line_or_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *_, **__: None)
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome) as raised:
        nginx_binary()

    assert "apt-get install nginx" in str(raised.value)
    assert "\n" not in str(raised.value)
