"""Settings: .env.example's variables from the environment and .env; one clear line if wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"

REQUIRED = {
    "TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
    "PIVOT_CLIENT_ID": "client-id",
    "PIVOT_CLIENT_SECRET": "client-secret-value",
    "PIVOT_CALLBACK_API_KEY": "callback-key-value",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_are_the_design_tables(environment: pytest.MonkeyPatch) -> None:
    settings = load_settings(env_file=None)

    assert str(settings.telegram_api_url) == "https://api.telegram.org/"
    assert settings.telegram_webhook_url is None
    assert str(settings.pivot_base_url).startswith("https://api-stg.pivot-payment.com")
    assert settings.database_path == Path("data/kodebayar.db")
    assert settings.admin_telegram_ids == frozenset()
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", 8080)  # noqa: S104
    assert settings.reconcile_interval_seconds == 300
    assert settings.timezone == "Asia/Jakarta"
    assert settings.log_level == "INFO"
    assert (settings.seller_codes_per_day, settings.seller_open_va_per_bank) == (20, 10)


def test_values_come_from_a_dotenv_file_and_the_environment_wins(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("ADMIN_TELEGRAM_IDS=1, 2\nHTTP_PORT=9000\nLOG_LEVEL=debug\n")
    environment.setenv("HTTP_PORT", "9100")

    settings = load_settings(env_file=dotenv)

    assert settings.admin_telegram_ids == frozenset({1, 2})
    assert settings.http_port == 9100
    assert settings.log_level == "DEBUG"


def test_a_missing_required_setting_is_named_on_one_line(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.delenv("PIVOT_CALLBACK_API_KEY")

    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    assert str(caught.value) == "PIVOT_CALLBACK_API_KEY: required, not set"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("HTTP_PORT", "eighty", "HTTP_PORT"),
        ("HTTP_PORT", "70000", "HTTP_PORT"),
        ("ADMIN_TELEGRAM_IDS", "12,abc", "ADMIN_TELEGRAM_IDS: expected comma-separated"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: expected an IANA time zone"),
        ("RECONCILE_INTERVAL_SECONDS", "0", "RECONCILE_INTERVAL_SECONDS"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("PIVOT_VA_RANGES", "BCA=9-1", "PIVOT_VA_RANGES"),
        ("PIVOT_VA_RANGES", "BCA:open=000000-000049", "PIVOT_VA_RANGES: BCA: the open and"),
        ("SELLER_CODES_PER_DAY", "0", "SELLER_CODES_PER_DAY"),
        ("SELLER_OPEN_VA_PER_BANK", "ten", "SELLER_OPEN_VA_PER_BANK"),
        ("TELEGRAM_BOT_TOKEN", "  ", "TELEGRAM_BOT_TOKEN: must not be empty"),
        ("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram/webhook", "WEBHOOK_SECRET"),
    ],
)
def test_an_invalid_setting_is_named_and_no_secret_is_shown(
    environment: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    environment.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    for secret in REQUIRED.values():
        assert secret not in message


def test_the_secrets_are_listed_for_the_log_filter(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram/webhook")
    environment.setenv("TELEGRAM_WEBHOOK_SECRET", "hook_secret-1")

    settings = load_settings(env_file=None)

    assert set(settings.secrets()) == {
        REQUIRED["TELEGRAM_BOT_TOKEN"],
        REQUIRED["PIVOT_CLIENT_SECRET"],
        REQUIRED["PIVOT_CALLBACK_API_KEY"],
        "hook_secret-1",
    }


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_a_variable_set_to_the_empty_string_is_not_set(
    environment: pytest.MonkeyPatch, field: str
) -> None:
    variable = field.upper()
    environment.setenv(variable, "")

    if variable in REQUIRED:
        with pytest.raises(SettingsError) as caught:
            load_settings(env_file=None)
        assert str(caught.value) == f"{variable}: required, not set"
    else:
        default = Settings.model_fields[field].get_default(call_default_factory=True)
        assert getattr(load_settings(env_file=None), field) == default


def test_the_shipped_example_leaves_its_empty_variables_at_their_defaults(
    environment: pytest.MonkeyPatch,
) -> None:
    empty = [
        line.removesuffix("=").lower()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.endswith("=") and not line.startswith("#")
    ]
    for variable in REQUIRED:  # the operator fills these in; the environment stands in here
        empty.remove(variable.lower())

    settings = load_settings(env_file=ENV_EXAMPLE)

    assert "telegram_webhook_url" in empty
    for field in empty:
        assert getattr(settings, field) == Settings.model_fields[field].get_default(), field


def test_va_ranges_can_split_open_and_closed_vas(environment: pytest.MonkeyPatch) -> None:
    environment.setenv(
        "PIVOT_VA_RANGES", "BCA=000000-000999,BRI:open=0000000-0000049,BRI:closed=0000050-0000099"
    )

    rules = load_settings(env_file=None).va_rules

    assert rules["BCA"].for_amount(None).bounds == rules["BCA"].for_amount(1).bounds == (0, 999)
    assert (rules["BRI"].open.bounds, rules["BRI"].closed.bounds) == ((0, 49), (50, 99))
