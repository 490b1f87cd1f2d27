"""The ``pivot_client`` logger and a filter that masks credentials in log records.

The client logs one INFO line per HTTP attempt (method, path, status, milliseconds, trace id,
attempt) and never a header or a body. ``RedactingFilter`` is a second line of defence for
lines written elsewhere (httpx, an exception's repr): install it on your handlers. It is
installed on the ``pivot_client`` logger itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["MASK", "RedactingFilter", "logger", "redact"]

logger = logging.getLogger("pivot_client")

MASK = "<redacted>"
_PATTERNS = (
    # A credential header in any rendering: "Authorization: x", {'x-api-key': 'x'}, ('k', 'x').
    re.compile(
        r"(?i)((?:authorization|x-merchant-secret|x-api-key)[\"']?\s*[:=,]\s*[\"']?)"
        # Any scheme word (Bearer, Basic, Token...) goes with the credential after it.
        r"(?:[a-z]+\s+)?[^\s\"',}\])]+"
    ),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
)
_FORMATTER = logging.Formatter()


def redact(
    text: str, secrets: Iterable[str] = (), extra_patterns: Iterable[re.Pattern[str]] = ()
) -> str:
    """``text`` with the given secrets and anything shaped like a credential masked.

    A pattern's first group, if it has one, is kept (the header name in front of a value).
    """
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in (*_PATTERNS, *extra_patterns):
        text = pattern.sub(lambda match: (match.group(1) if match.re.groups else "") + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks credentials in a record's message, traceback and stack.

    Args:
        secrets: Literal values to mask as well (e.g. the client secret).
        extra_patterns: More credential shapes to mask (e.g. an application's own tokens).
    """

    def __init__(
        self, secrets: Iterable[str] = (), extra_patterns: Iterable[re.Pattern[str]] = ()
    ) -> None:
        super().__init__()
        self._secrets = tuple(secrets)
        self._patterns = tuple(extra_patterns)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        record.msg = redact(record.getMessage(), self._secrets, self._patterns)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets, self._patterns)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets, self._patterns)
        return True


logger.addFilter(RedactingFilter())
