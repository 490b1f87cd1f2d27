"""Text as Telegram checks and shows it: its HTML parse mode and its length limits."""

from __future__ import annotations

import re

from tests.standins.botapi.errors import bad_request

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"code", "pre", "blockquote", "tg-emoji", "tg-time"}
)
_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def telegram_html_text(text: str) -> str:
    """The text Telegram shows for ``text`` in HTML parse mode; ValueError where Telegram says 400.

    Follows Telegram's parser: only its tags, ``&lt; &gt; &amp; &quot;`` and numeric entities are
    understood; an unknown ``&name;`` stays literal text, a stray ``<`` is an unsupported tag.
    """
    shown: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&":
            decoded, i = _html_entity(text, i)
            shown.append(decoded)
        elif text[i] != "<":
            shown.append(text[i])
            i += 1
        elif text.startswith("</", i):
            i = _end_tag(text, i, open_tags)
        else:
            i = _start_tag(text, i, open_tags)
    if open_tags:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(shown)


def check_text(text: str, parse_mode: str | None) -> None:
    """400 for message text that is empty or too long once parsed."""
    shown = _shown_text(text, parse_mode)
    if not shown.strip():
        raise bad_request("message text is empty")
    if len(shown) > _MAX_TEXT:
        raise bad_request("message is too long")


def check_caption(caption: str, parse_mode: str | None) -> None:
    """400 for a caption that is too long once parsed."""
    if len(_shown_text(caption, parse_mode)) > _MAX_CAPTION:
        raise bad_request("message caption is too long")


def _shown_text(text: str, parse_mode: str | None) -> str:
    """What the chat shows for ``text``; 400 "can't parse entities" for HTML Telegram rejects."""
    if parse_mode is None or parse_mode.lower() != "html":
        return text
    try:
        return telegram_html_text(text)
    except ValueError as error:
        raise bad_request(f"can't parse entities: {error}") from None


def _tag_name_end(text: str, start: int) -> int:
    """Where a tag name starting at ``start`` ends (at a space or ``>``)."""
    end = start
    while end < len(text) and not text[end].isspace() and text[end] != ">":
        end += 1
    return end


def _start_tag(text: str, start: int, open_tags: list[str]) -> int:
    """Check the start tag at ``start``, push its name; where the text goes on after it."""
    offset = len(text[:start].encode())
    name_end = _tag_name_end(text, start + 1)
    if name_end >= len(text):
        raise ValueError(f"Unclosed start tag at byte offset {offset}")
    name = text[start + 1 : name_end].lower()
    if name not in _HTML_TAGS:
        raise ValueError(f'Unsupported start tag "{name}" at byte offset {offset}')
    tag_end = _tag_end(text, name_end)
    if tag_end is None:
        raise ValueError(f"Unclosed start tag at byte offset {offset}")
    open_tags.append(name)
    return tag_end + 1


def _end_tag(text: str, start: int, open_tags: list[str]) -> int:
    """Check the end tag at ``start`` against the open tags, pop one; where the text goes on."""
    offset = len(text[:start].encode())
    if not open_tags:
        raise ValueError(f"Unexpected end tag at byte offset {offset}")
    name_end = _tag_name_end(text, start + 2)
    name = text[start + 2 : name_end].lower()
    if name and name != open_tags[-1]:
        raise ValueError(
            f'Unmatched end tag at byte offset {offset}, expected "</{open_tags[-1]}>", '
            f'found "</{name}>"'
        )
    close = name_end
    while close < len(text) and text[close].isspace():
        close += 1
    if close >= len(text) or text[close] != ">":
        raise ValueError(f"Unclosed end tag at byte offset {offset}")
    open_tags.pop()
    return close + 1


def _html_entity(text: str, start: int) -> tuple[str, int]:
    """The character an entity at ``start`` stands for and where it ends; a bare ``&`` is text."""
    match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);", text[start:])
    if match:
        name = match.group(1)
        if name.startswith("#"):
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            if code <= 0x10FFFF:
                return chr(code), start + match.end()
        elif name in _HTML_ENTITIES:
            return _HTML_ENTITIES[name], start + match.end()
    return "&", start + 1


def _tag_end(text: str, start: int) -> int | None:
    """Index of the ``>`` ending a tag whose attributes start at ``start``, skipping quotes."""
    quote: str | None = None
    for index in range(start, len(text)):
        char = text[index]
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ">":
            return index
    return None
