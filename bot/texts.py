"""Seller-facing text: one catalogue per language, looked up by key.

Catalogue strings are trusted Telegram HTML. Every value put into one is escaped unless it is
``Safe`` (HTML this module or a renderer built itself), so a customer named ``<b>Budi`` is shown,
never interpreted. The ``image.*`` entries are plain text drawn on images (``plain``): no HTML.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from typing import Literal

from bot.locales import en as english
from bot.locales import id as indonesian

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Language", "Safe", "language_of", "plain", "text"]

Language = Literal["id", "en"]
DEFAULT_LANGUAGE: Language = "id"
CATALOGUES: Mapping[Language, Mapping[str, str]] = {
    "id": indonesian.MESSAGES,
    "en": english.MESSAGES,
}
LANGUAGES: tuple[Language, ...] = tuple(CATALOGUES)


class Safe(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


def text(language: str, key: str, /, **values: object) -> str:
    """The message ``key`` in ``language`` with ``values`` escaped and filled in."""
    template = CATALOGUES[language_of(language)][key]
    escaped = {
        name: value if isinstance(value, Safe) else html.escape(str(value), quote=False)
        for name, value in values.items()
    }
    return Safe(template.format_map(escaped))


def plain(language: str, key: str, /, **values: object) -> str:
    """The plain-text message ``key`` (an ``image.*`` entry) with ``values`` as they are."""
    return CATALOGUES[language_of(language)][key].format_map(values)


def language_of(code: str | None) -> Language:
    """One of our languages for a stored or Telegram-reported language code."""
    if code and code.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a catalogue string expects (tests compare languages with it)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
