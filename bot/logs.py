"""Logging for the bot: one line per event, and no secret in any of them.

The bot token sits in every Bot API URL (``/bot<token>/sendMessage``) and libraries put URLs
and headers into log messages and exception texts, so masking happens on the handler, after
formatting, for the message, the traceback and the stack alike.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

__all__ = ["RedactingFilter", "configure_logging", "redact"]

MASK = "<redacted>"
_PATTERNS = (
    # Bot API tokens: "<bot id>:<35 characters>", in URLs or anywhere else.
    re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"),
    # Credentials in headers, whatever library prints them.
    re.compile(
        r"(?i)((?:authorization|x-api-key|x-merchant-secret|x-telegram-bot-api-secret-token)"
        r"[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+)?[^\s\"',}]+"
    ),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
)
_FORMATTER = logging.Formatter()


def redact(message: str, secrets: Iterable[str] = ()) -> str:
    """``message`` with every known secret and anything shaped like a credential masked."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, MASK)
    for pattern in _PATTERNS:
        message = pattern.sub(
            lambda match: (match.group(1) if match.groups() else "") + MASK, message
        )
    return message


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's final text; install it on every handler."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True


def configure_logging(level: int, secrets: Iterable[str] = ()) -> None:
    """One line per event on stderr, with secrets masked; chatty HTTP loggers kept quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
