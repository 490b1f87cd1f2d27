"""The image and compose.yaml agree: the database on the volume, the bot reachable.

``.env`` is written for running without Docker; compose.yaml must pin what differs in a
container, or ``DATABASE_PATH=./data/kodebayar.db`` puts the database off the volume.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from tests.standins import REPOSITORY

DOCKERFILE = (REPOSITORY / "Dockerfile").read_text()
COMPOSE = (REPOSITORY / "compose.yaml").read_text()


def _bot_service() -> str:
    """The ``bot:`` service's block of compose.yaml."""
    match = re.search(r"(?ms)^  bot:\n(.*?)(?=^  \w|^\S)", COMPOSE)
    assert match is not None
    return match.group(1)


def _one(pattern: str, text: str) -> str:
    [value] = re.findall(pattern, text, flags=re.MULTILINE)
    return str(value).strip("\"'")


def test_compose_pins_the_database_onto_the_volume_over_dot_env() -> None:
    bot = _bot_service()
    volume = PurePosixPath(_one(r"^\s+- kodebayar-data:(\S+)$", bot))
    database = PurePosixPath(_one(r"^\s+DATABASE_PATH: (\S+)$", bot))

    assert "env_file: .env" in bot
    assert database.is_absolute() and volume in database.parents
    assert str(volume) == _one(r'^VOLUME \["(\S+)"\]$', DOCKERFILE)
    assert str(database) == _one(r"^\s+DATABASE_PATH=(\S+) \\$", DOCKERFILE)


def test_compose_listens_on_every_interface_on_the_published_port() -> None:
    bot = _bot_service()
    port = _one(r"^\s+HTTP_PORT: (\S+)$", bot)

    assert _one(r"^\s+HTTP_HOST: (\S+)$", bot) == "0.0.0.0"  # noqa: S104 - in a container
    assert _one(r'^\s+- "(?:[\d.]+:)?\d+:(\d+)"$', bot) == port
    assert _one(r"^EXPOSE (\d+)$", DOCKERFILE) == port
