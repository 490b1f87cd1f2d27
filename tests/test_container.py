"""The image and compose.yaml agree: the database on the volume, the bot reachable.

``.env`` is written for running without Docker; compose.yaml must pin what differs in a
container, or ``DATABASE_PATH=./data/kodebayar.db`` puts the database off the volume. Its
`scale` profile and deploy/nginx.conf agree on the replicas' names and ports.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import yaml

from tests.standins import REPOSITORY, replicas
from tests.standins.proxy import SHIPPED_CONFIG as NGINX

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


def _scale() -> dict[str, dict[str, Any]]:
    """compose.yaml's services of the `scale` profile, as compose reads them."""
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE)["services"]
    return {name: spec for name, spec in services.items() if "scale" in spec.get("profiles", [])}


def test_the_scale_profile_runs_the_replicas_the_shipped_proxy_config_names() -> None:
    scale = _scale()
    nginx = NGINX.read_text()
    [listen] = re.findall(r"^\s*listen (\d+);$", nginx, flags=re.MULTILINE)

    assert set(scale) == {"postgres", "proxy", *replicas(nginx)}
    for name in replicas(nginx):
        port = scale[name]["environment"]["HTTP_PORT"]
        assert scale[name]["environment"]["HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - in a container
        assert re.findall(rf"^\s*server {name}:(\d+)\b", nginx, flags=re.MULTILINE) == [port] * 2
        assert "ports" not in scale[name]  # only through the proxy
        assert scale["proxy"]["depends_on"][name] == {
            "condition": "service_started",
            "restart": True,
        }
    assert scale["proxy"]["volumes"] == [
        f"./{NGINX.relative_to(REPOSITORY)}:/etc/nginx/conf.d/default.conf:ro"
    ]
    assert [port.split(":")[-1] for port in scale["proxy"]["ports"]] == [listen]


def test_the_replicas_reach_the_postgres_service_with_its_credentials() -> None:
    scale = _scale()
    database = scale["postgres"]["environment"]
    user, password, name = (
        database[key] for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    )

    assert scale["postgres"]["image"] == "postgres:15"
    for replica in replicas(NGINX.read_text()):
        url = scale[replica]["environment"]["DATABASE_URL"]
        assert url == f"postgresql://{user}:{password}@postgres:5432/{name}"
        assert scale[replica]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(scale["postgres"]["healthcheck"]["test"])


def test_every_setting_compose_reads_from_dot_env_is_in_the_example() -> None:
    example = (REPOSITORY / ".env.example").read_text()
    read = set(re.findall(r"\$\{(\w+)(?::-[^}]*)?\}", COMPOSE))

    assert read >= {"POSTGRES_PASSWORD", "SIMULATOR_CALLBACK_URL"}
    for name in read:
        assert re.search(rf"^#? ?{name}=", example, flags=re.MULTILINE), name
