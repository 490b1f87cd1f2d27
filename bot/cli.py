"""The ``kodebayar`` command: ``kodebayar run`` (the bot), ``kodebayar simulator`` and
``kodebayar copy-to-postgres``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta

from bot.settings import Settings, SettingsError, load_settings
from pivot_client import CLOSED_STATIC_VA_LIFETIME

__all__ = ["main"]

_SIMULATOR_BANNER = """\
================================================================
 PIVOT SIMULATOR - a local stand-in, NOT Pivot, NOT production.
 No money moves. Every code it issues is marked SIMULASI.
 API base URL : {base_url}   (set PIVOT_BASE_URL to this)
 Credentials  : PIVOT_CLIENT_ID={client_id}  PIVOT_CLIENT_SECRET={client_secret}
 Callbacks    : POST {callback_url}
================================================================"""


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand."""
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        return _simulator(args)
    if args.command == "copy-to-postgres":
        return _copy_to_postgres()
    return _run()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kodebayar", description="Static QRIS and VA codes from Pivot, in Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (settings from the environment and .env)")
    commands.add_parser(
        "copy-to-postgres",
        help="copy every record of the SQLite database into a new PostgreSQL database",
        description=(
            "Copy every record of the SQLite database at DATABASE_PATH into the new, empty "
            "PostgreSQL database at DATABASE_URL (settings as for `run`), in one transaction. "
            "Stop the bot first and keep it stopped until the copy is done; then start it "
            "with DATABASE_URL set. A database that already holds records is refused."
        ),
    )
    sim = commands.add_parser(
        "simulator", help="run a local Pivot simulator for trying the bot without an account"
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sim.add_argument("--port", type=int, default=8090, help="port to listen on")
    sim.add_argument(
        "--callback-url",
        default="http://127.0.0.1:8080/pivot/callback",
        help="where CHARGE.SUCCESS callbacks go (the bot's /pivot/callback)",
    )
    sim.add_argument(
        "--callback-key",
        default="sim-callback-key",
        help="sent as X-API-Key (the bot's PIVOT_CALLBACK_API_KEY)",
    )
    sim.add_argument("--client-id", default="sim-client-id")
    sim.add_argument("--client-secret", default="sim-client-secret")
    sim.add_argument(
        "--token-lifetime", type=float, default=900.0, help="access token lifetime, seconds"
    )
    sim.add_argument(
        "--closed-va-lifetime",
        type=float,
        default=CLOSED_STATIC_VA_LIFETIME.total_seconds(),
        help="seconds a fixed-amount VA takes payments (Pivot: 30 days); shorten it to try expiry",
    )
    sim.add_argument(
        "--callback-retry-delays",
        default="300,900,3600,10800,21600,43200",
        help="seconds between callback retries (Pivot's schedule by default)",
    )
    return parser


def _simulator(args: argparse.Namespace) -> int:
    import uvicorn

    from pivot_client.simulator import SimulatorConfig, create_app

    config = SimulatorConfig(
        callback_url=args.callback_url,
        callback_key=args.callback_key,
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_lifetime=args.token_lifetime,
        closed_va_lifetime=timedelta(seconds=args.closed_va_lifetime),
        callback_retry_delays=tuple(
            float(part) for part in args.callback_retry_delays.split(",") if part.strip()
        ),
    )
    print(
        _SIMULATOR_BANNER.format(
            base_url=f"http://{args.host}:{args.port}",
            client_id=args.client_id,
            client_secret=args.client_secret,
            callback_url=args.callback_url,
        ),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")
    return 0


def _run() -> int:
    settings = _settings()
    if settings is None:
        return 2
    from bot.app import run

    return run(settings)


def _copy_to_postgres() -> int:
    settings = _settings()
    if settings is None:
        return 2
    from bot.copying import copy_to_postgres

    return copy_to_postgres(settings)


def _settings() -> Settings | None:
    """The settings, or None after printing the one line saying what is wrong."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"kodebayar: configuration error: {exc}", file=sys.stderr)
        return None
