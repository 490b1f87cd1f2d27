"""Idempotency keys (``X-REQUEST-ID``) for creating payment sessions."""

from __future__ import annotations

import hashlib

__all__ = ["request_id_for"]

_PREFIX = "kb"


def request_id_for(client_reference_id: str) -> str:
    """The ``X-REQUEST-ID`` for creating the session ``client_reference_id``.

    ``kb`` and 32 hex digits of the reference's SHA-256: alphanumeric and 34 characters, inside
    Pivot's 16-36. Being derived from our reference, the key is the same on every retry, after a
    restart and on a double tap, so Pivot replays its first answer instead of creating a second
    session. Pivot keeps a key for 24 h and answers 409 ``idempotency_error`` when it comes back
    with a different body: a new attempt with another body (e.g. another VA suffix after
    ``VANumberAlreadyAssignedError``) needs a new client reference id.

    Args:
        client_reference_id: Our reference for the session (non-empty).

    Returns:
        The idempotency key.
    """
    if not client_reference_id:
        raise ValueError("client_reference_id must not be empty")
    return _PREFIX + hashlib.sha256(client_reference_id.encode()).hexdigest()[:32]
