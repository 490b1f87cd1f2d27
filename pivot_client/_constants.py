"""Defaults for the Pivot client: hosts, timeouts, retry and token policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import httpx

DEFAULT_BASE_URL: Final = "https://api-stg.pivot-payment.com"
PRODUCTION_BASE_URL: Final = "https://api.pivot-payment.com"

# Pivot answers 408 itself after 60 s; a create that we abandon earlier is safe to retry
# because the X-REQUEST-ID replays it instead of creating a second session.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
MAX_RETRY_AFTER: Final = 60.0

# Tokens live 900 s; refresh this long before they run out so no call carries a dying token.
TOKEN_REFRESH_MARGIN: Final = 60.0

# Pagination: Pivot's maximum page size, so walking a list takes as few calls as possible.
MAX_PAGE_SIZE: Final = 100

# Static sessions never redirect anyone (mode API), but Pivot still requires the three URLs.
DEFAULT_RETURN_URL: Final = "https://t.me/"

# Pivot refuses a session whose metadata is longer, counted as its compact JSON.
MAX_METADATA_LENGTH: Final = 512

SUCCESS_CODE: Final = "00"
USER_AGENT: Final = "kodebayar-pivot-client/0.1"

# Per-transaction ceilings, from the limits of GET /v2/payment-method-configs in Pivot's
# documentation (QR at most 9,999,999, Bank Indonesia's QRIS cap; VA at most 9,999,999,999).
# A merchant's own limits may differ; these bound what a forged or broken body can make of a
# running total (one charge of 2^63 rupiah would overflow SQLite's integers).
MAX_QRIS_PAYMENT: Final = 9_999_999
MAX_VA_PAYMENT: Final = 9_999_999_999
PAYMENT_CURRENCY: Final = "IDR"

# A closed static VA (a fixed amount, paymentType MULTIPLE) stops taking payments 30 days after
# it is made; an open one never does (the Virtual Account "Limitation" page's expiry table).
CLOSED_STATIC_VA_LIFETIME: Final = timedelta(days=30)
