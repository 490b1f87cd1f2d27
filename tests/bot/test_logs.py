from __future__ import annotations

import io
import logging

import pytest

from bot.logs import MASK, RedactingFilter, redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


@pytest.mark.parametrize(
    "line",
    [
        f"POST https://api.telegram.org/bot{TOKEN}/sendMessage",
        "headers {'Authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig'}",
        "X-API-Key: cb-key-123",
        "x-merchant-secret=abc123",
        "X-Telegram-Bot-Api-Secret-Token: s3cret_token",
        "token is Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
    ],
)
def test_credential_shapes_are_masked(line: str) -> None:
    masked = redact(line)
    assert MASK in masked
    for secret in (TOKEN, "eyJhbGciOiJIUzI1NiJ9", "cb-key-123", "abc123", "s3cret_token"):
        assert secret not in masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (
            "link https://t.me/kb_bot?start=Xy-z_9Q1 sent",
            f"link https://t.me/kb_bot?start={MASK} sent",
        ),
        ("text='/start Xy-z_9Q1', entities", f"text='/start {MASK}', entities"),
    ],
)
def test_deep_link_tokens_are_masked(line: str, masked: str) -> None:
    assert redact(line) == masked


def test_known_secrets_are_masked_wherever_they_appear() -> None:
    assert redact("the key is hunter2-long", ["hunter2-long"]) == f"the key is {MASK}"


def test_the_filter_masks_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["client-secret-xyz"]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling %s with %s", f"/bot{TOKEN}/getMe", "client-secret-xyz")
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected")
        except RuntimeError:
            logger.exception("start-up failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert "client-secret-xyz" not in output
    assert output.count(MASK) >= 3
    assert "RuntimeError" in output
