"""Configuration from the environment and ``.env``: every variable ``.env.example`` describes.

A missing or invalid setting stops start-up with one line per problem naming the variable and
what is expected. A variable set to the empty string counts as not set, as ``.env.example``
ships its optional ones (``TELEGRAM_WEBHOOK_URL=``). Secrets are ``SecretStr`` and no message
ever repeats an input value.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pivot_client import DEFAULT_BASE_URL, DEFAULT_VA_RULES, VARanges, parse_va_rule_overrides
from storage import is_postgres_url

__all__ = ["Settings", "SettingsError", "load_settings"]

_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Telegram's rule for secret_token

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(Exception):
    """The environment does not describe a runnable bot; ``str()`` is safe to print."""


class Settings(BaseSettings):
    """Every knob the operator can turn, read from the environment (and ``.env``)."""

    # env_ignore_empty: in the environment and in .env alike, "NAME=" means the default (or,
    # for a required setting, "required, not set"), never an empty value to validate.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    telegram_bot_token: SecretStr
    telegram_api_url: HttpUrl = HttpUrl("https://api.telegram.org")
    telegram_webhook_url: HttpUrl | None = None
    telegram_webhook_secret: SecretStr | None = None
    pivot_base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    pivot_client_id: str = Field(min_length=1)
    pivot_client_secret: SecretStr
    pivot_callback_api_key: SecretStr
    database_path: Path = Path("./data/kodebayar.db")
    # PostgreSQL instead of the SQLite file, for several processes (docs/architecture.md).
    database_url: SecretStr | None = None
    admin_telegram_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    http_host: str = "0.0.0.0"  # noqa: S104 - the callback route must be reachable by Pivot
    http_port: int = Field(default=8080, ge=0, le=65535)
    reconcile_interval_seconds: float = Field(default=300, gt=0)
    timezone: str = "Asia/Jakarta"
    log_level: LogLevel = "INFO"
    # The merchant's static VA ranges when Pivot widened or split them
    # (``BCA=000000-000999,BRI:open=...,BRI:closed=...``) and the bank channels offered when
    # Pivot's config is unreachable.
    pivot_va_ranges: str = ""
    pivot_va_channels: Annotated[tuple[str, ...], NoDecode] = tuple(DEFAULT_VA_RULES)
    # Per-seller limits on what all sellers share (docs/money.md rule 14; bot/limits.py): new
    # codes a day in the seller's zone, and open-amount VA numbers held at one bank.
    seller_codes_per_day: int = Field(default=20, ge=1)
    seller_open_va_per_bank: int = Field(default=10, ge=1)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_postgres_url(value.get_secret_value()):
            raise ValueError("must be a PostgreSQL URL: postgresql://user:password@host:5432/db")
        return value

    @field_validator("telegram_bot_token", "pivot_client_secret", "pivot_callback_api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(re.fullmatch(r"-?\d+", part) for part in parts):
                raise ValueError("expected comma-separated numeric Telegram user ids")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("pivot_va_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().upper() for part in value.split(",") if part.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Asia/Jakarta") from None
        return value

    @field_validator("pivot_va_ranges")
    @classmethod
    def _valid_ranges(cls, value: str) -> str:
        parse_va_rule_overrides(value)
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_webhook_url is None:
            return self
        secret = self.telegram_webhook_secret
        if secret is None or not _WEBHOOK_SECRET.match(secret.get_secret_value()):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET: required in webhook mode, 1-256 characters of "
                "A-Z, a-z, 0-9, _ and -"
            )
        return self

    @property
    def va_rules(self) -> dict[str, VARanges]:
        """Pivot's default static VA ranges with the operator's overrides applied."""
        return parse_va_rule_overrides(self.pivot_va_ranges)

    @property
    def zone(self) -> ZoneInfo:
        """The default time zone for sellers."""
        return ZoneInfo(self.timezone)

    @property
    def log_level_number(self) -> int:
        """``LOG_LEVEL`` as a ``logging`` level."""
        return logging.getLevelNamesMapping()[self.log_level]

    @property
    def database_target(self) -> str | Path:
        """What ``storage.Database.open`` takes: ``DATABASE_URL`` if set, else the path."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path

    @property
    def database_variable(self) -> str:
        """The variable that chose the database, for start-up errors."""
        return "DATABASE_URL" if self.database_url is not None else "DATABASE_PATH"

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        values = [
            self.telegram_bot_token,
            self.pivot_client_secret,
            self.pivot_callback_api_key,
            self.telegram_webhook_secret,
            self.database_url,
        ]
        found = [value.get_secret_value() for value in values if value is not None]
        if self.database_url is not None:
            password = urlsplit(self.database_url.get_secret_value()).password
            if password:
                found += [password, unquote(password)]
        return found


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read the settings, or raise ``SettingsError`` naming each bad variable."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        variable = "_".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "required, not set"
        lines.append(f"{variable}: {message}" if variable else message)
    return "; ".join(lines)
