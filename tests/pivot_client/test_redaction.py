"""One log line per HTTP attempt, and no credential in any log line, exception or repr."""

from __future__ import annotations

import logging
import re
import sys
import traceback

import httpx
import pytest

from pivot_client import APIError, PivotClient, RedactingFilter, redact
from pivot_client._logs import MASK
from tests.pivot_client import load_fixture
from tests.pivot_client.fakes import CLIENT_SECRET, FakePivot, error, ok

PAYMENTS = "/v2/payments"
LINE = re.compile(
    r"^(?P<method>GET|POST) (?P<path>/\S*) -> (?P<status>\w+) in (?P<ms>\d+) ms "
    r"\(trace (?P<trace>\S+), attempt (?P<attempt>\d+)\)$"
)


def client_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    lines = [r.getMessage() for r in caplog.records if r.name == "pivot_client"]
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    return [m for m in matches if m]


async def test_one_line_per_call_with_method_path_status_ms_and_trace(
    client: PivotClient, fake: FakePivot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pivot_client")
    fake.script(
        "GET",
        "/v2/charges",
        ok(
            load_fixture("charges_list.json")["data"],
            pagination={"page": 1, "perPage": 100, "totalItems": 4, "totalPages": 1},
        ),
    )
    fake.script("GET", f"{PAYMENTS}/s1", error(404, "resource_missing", "No", trace_id="tr-404"))

    await client.list_charges("secretreference42")
    with pytest.raises(APIError):
        await client.get_payment("s1")

    token, charges, missing = client_lines(caplog)
    assert token.group("method", "path", "status", "trace", "attempt") == (
        "POST",
        "/v1/access-token",
        "200",
        "-",
        "1",
    )
    assert charges.group("method", "path", "status") == ("GET", "/v2/charges", "200")
    assert missing.group("path", "status", "trace") == (f"{PAYMENTS}/s1", "404", "tr-404")
    # The query string (our references) stays out of the log.
    assert "secretreference42" not in caplog.text


async def test_every_attempt_of_a_retried_call_is_logged(
    client: PivotClient, fake: FakePivot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pivot_client")
    fake.script(
        "GET",
        f"{PAYMENTS}/s1",
        httpx.ConnectError("refused"),
        error(503, "service_unavailable", "Down", trace_id="tr-503"),
        ok(load_fixture("static_va_response.json")["data"]),
    )

    await client.get_payment("s1")

    _, first, second, third = client_lines(caplog)
    assert [m.group("status", "attempt") for m in (first, second, third)] == [
        ("ConnectError", "1"),
        ("503", "2"),
        ("200", "3"),
    ]
    assert second.group("trace") == "tr-503"


async def test_no_secret_in_logs_exceptions_or_reprs(
    client: PivotClient, fake: FakePivot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.script(
        "GET",
        f"{PAYMENTS}/s1",
        error(401, "credentials_invalid", "Access token is invalid"),
        error(401, "credentials_invalid", "Access token is invalid"),
        httpx.ConnectError("refused"),
    )
    errors: list[BaseException] = []
    for _ in range(2):
        try:
            await client.get_payment("s1")
        except APIError as exc:
            errors.append(exc)
            logging.getLogger("pivot_client").exception("call failed")

    assert len(errors) == 2
    assert fake.issued == ["token-1", "token-2"]
    sent = [r.headers.get("Authorization", "") for r in fake.requests]
    assert "Bearer token-2" in sent  # the tokens below really were in use
    texts = [
        caplog.text,
        *(r.getMessage() for r in caplog.records),
        repr(client),
        repr(client.with_options(max_retries=1)),
        *(str(e) for e in errors),
        *(repr(e) for e in errors),
        *("".join(traceback.format_exception(e)) for e in errors),
    ]
    for text in texts:
        assert CLIENT_SECRET not in text
        for token in fake.issued:
            assert token not in text
    assert "client_secret='<redacted>'" in repr(client)
    assert "merchant-42" in repr(client)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", f"Authorization: {MASK}"),
        ("authorization=Basic dXNlcjpwYXNz", f"authorization={MASK}"),
        ("Authorization: Token abc123", f"Authorization: {MASK}"),
        ("{'x-merchant-secret': 'hunter2'}", f"{{'x-merchant-secret': '{MASK}'}}"),
        ('{"X-API-Key": "k1"}', f'{{"X-API-Key": "{MASK}"}}'),
        ("[('x-api-key', 'k1')]", f"[('x-api-key', '{MASK}')]"),
        ("sent bearer eyJhbGciOi.x_y", f"sent bearer {MASK}"),
        ("GET /v2/payments -> 200", "GET /v2/payments -> 200"),
    ],
)
def test_redact_masks_credential_shapes(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_masks_given_secrets_longest_first() -> None:
    masked = redact("a=abc123 b=abc", secrets=["abc", "abc123", ""])

    assert masked == f"a={MASK} b={MASK}"


def test_redact_takes_extra_patterns() -> None:
    shape = re.compile(r"(pin=)\d+")

    assert redact("pin=1234 ok", extra_patterns=[shape]) == f"pin={MASK} ok"
    assert redact("code sk_live_1", extra_patterns=[re.compile(r"sk_live_\w+")]) == f"code {MASK}"


def test_filter_masks_message_arguments_traceback_and_stack(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.redaction")
    logger.addFilter(RedactingFilter(secrets=[CLIENT_SECRET]))
    caplog.set_level(logging.INFO, logger="tests.redaction")
    try:
        raise RuntimeError(f"header X-MERCHANT-SECRET was {CLIENT_SECRET}")
    except RuntimeError:
        logger.exception("headers %s", httpx.Headers({"Authorization": "Bearer live-token"}))
    logger.info("plain %s", CLIENT_SECRET, stack_info=True)

    failed, plain = caplog.records
    assert "live-token" not in failed.getMessage()
    assert CLIENT_SECRET not in (failed.exc_text or "")
    assert "RuntimeError" in (failed.exc_text or "")
    assert plain.getMessage() == f"plain {MASK}"
    assert plain.stack_info is not None
    assert CLIENT_SECRET not in caplog.text
    logger.filters.clear()


def test_the_library_logger_carries_the_filter() -> None:
    library = logging.getLogger("pivot_client")

    assert any(isinstance(f, RedactingFilter) for f in library.filters)
    assert sys.modules["pivot_client._logs"].logger is library
