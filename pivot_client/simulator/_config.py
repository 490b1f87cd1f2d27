"""What a simulator run is configured with: credentials, callback target, bank rules, limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pivot_client._constants import CLOSED_STATIC_VA_LIFETIME
from pivot_client._models import StaticPaymentMethod
from pivot_client.banks import VARanges, parse_va_rule_overrides
from pivot_client.simulator._state import METHOD_KEYS

__all__ = ["DEFAULT_RETRY_DELAYS", "DEFAULT_VA_PREFIXES", "SimulatorConfig"]

# Pivot's retry schedule after the first attempt: 5 min, 15 min, 1 h, 3 h, 6 h, 12 h.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (300, 900, 3600, 10800, 21600, 43200)

# The digits Pivot puts before the merchant's suffix. PERMATA's is Pivot's own example
# (request "00000001" came back as "7664000000000001"); the others are made up in the same
# style so that every full number is 16 digits long.
DEFAULT_VA_PREFIXES: Mapping[str, str] = {
    "BCA": "7663000000",
    "BRI": "769800000",
    "MANDIRI": "769900000",
    "BNI": "766500000000",
    "BSI": "76660000",
    "CIMB": "76670000",
    "PERMATA": "76640000",
    "BNC": "766800000000",
}
_FULL_VA_LENGTH = 16


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Settings of one simulator.

    Attributes:
        callback_url: where ``CHARGE.SUCCESS`` callbacks go; ``None`` records them unsent.
        callback_key: sent as ``X-API-Key`` on every callback.
        client_id: the ``X-MERCHANT-ID`` the token route accepts.
        client_secret: the ``X-MERCHANT-SECRET`` the token route accepts.
        token_lifetime: seconds an access token stays valid.
        callback_retry_delays: seconds to wait before each retry of a failed callback.
        va_rules: static VA suffix length and ranges (open and closed) per channel.
        va_prefixes: the bank/merchant digits put before the suffix, per channel.
        qris_limit: how many ACTIVE static QRIS codes may exist (Pivot allows a merchant its
            number of stores + 1).
        closed_va_lifetime: how long a closed (fixed-amount) static VA takes payments: 30
            days at Pivot; shorten it to see codes expire (``Simulator.closed_va_lifetime``
            changes it for the sessions created afterwards).
        payment_method_configs: replaces the ``data`` of ``GET /v2/payment-method-configs``;
            its minimum and maximum amounts are enforced too.
        clock: monotonic seconds for token and idempotency-key ages; tests inject a fake.
    """

    callback_url: str | None
    callback_key: str
    client_id: str = "sim-client-id"
    client_secret: str = "sim-client-secret"  # noqa: S105 - a local fake's public default
    token_lifetime: float = 900.0
    callback_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    va_rules: Mapping[str, VARanges] = field(default_factory=lambda: parse_va_rule_overrides(""))
    va_prefixes: Mapping[str, str] = field(default_factory=lambda: DEFAULT_VA_PREFIXES)
    qris_limit: int = 1000
    closed_va_lifetime: timedelta = CLOSED_STATIC_VA_LIFETIME
    payment_method_configs: dict[str, Any] | None = None
    clock: Callable[[], float] = time.monotonic

    def va_prefix(self, channel: str) -> str:
        """The prefix for ``channel``; a channel added only through ``va_rules`` gets zeros."""
        if channel in self.va_prefixes:
            return self.va_prefixes[channel]
        return "76".ljust(_FULL_VA_LENGTH - self.va_rules[channel].digits, "0")

    def method_configs(self) -> dict[str, Any]:
        """The ``data`` of ``GET /v2/payment-method-configs``."""
        if self.payment_method_configs is not None:
            return self.payment_method_configs
        return {
            "virtualAccount": {
                "enabled": True,
                "acceptedChannels": list(self.va_rules),
                "minimumAmount": {"value": 10000, "currency": "IDR"},
                "maximumAmount": {"value": 9999999999, "currency": "IDR"},
                "maximumExpiry": "30 DAYS",
            },
            "qr": {
                "enabled": True,
                "minimumAmount": {"value": 1000, "currency": "IDR"},
                "maximumAmount": {"value": 9999999, "currency": "IDR"},
                "maximumExpiry": "60 MINUTES",
            },
        }

    def amount_range(self, method: StaticPaymentMethod) -> tuple[int, int] | None:
        """The merchant's minimum and maximum amount for a payment method, when configured."""
        method_config = self.method_configs().get(METHOD_KEYS[method], {})
        try:
            return (
                int(method_config["minimumAmount"]["value"]),
                int(method_config["maximumAmount"]["value"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
