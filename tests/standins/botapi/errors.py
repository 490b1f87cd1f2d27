"""The Bot API's error answers, worded as Telegram words them."""

from __future__ import annotations

from http import HTTPStatus

from tests.standins.botapi.records import JSONDict

BLOCKED = "Forbidden: bot was blocked by the user"


class BotApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSONDict:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> BotApiError:
    """A 400 with Telegram's ``Bad Request: `` prefix."""
    return BotApiError(400, f"Bad Request: {reason}")


def too_many_requests(retry_after: int) -> BotApiError:
    """A 429 carrying ``retry_after`` as Telegram sends it."""
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def injected_error(status: int, retry_after: int | None) -> BotApiError:
    """The error ``fail_next`` answers with, worded as Telegram words that status."""
    if status == 429:
        return too_many_requests(retry_after or 1)
    descriptions = {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: BLOCKED,
        404: "Not Found",
        409: "Conflict: injected failure",
    }
    return BotApiError(status, descriptions.get(status) or HTTPStatus(status).phrase, retry_after)
