"""Text drawn on the bot's images (the labelled QR photo, the sticker): centred lines that fit.

The font is the scalable one inside Pillow (``ImageFont.load_default(size=...)``, Aileron, with
FreeType, which Pillow's wheels include): no system font in the image. It has ASCII and a few
signs only, so text is folded to what it can draw (``é`` becomes ``e``; an emoji is left out);
the message beside the image keeps the exact text.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

__all__ = ["BLACK", "WHITE", "Line", "block_height", "draw_lines", "drawable", "font", "wrap"]

BLACK, WHITE = 0, 255  # the images are greyscale
_ELLIPSIS = "…"
_LEADING = 0.3  # space between lines, as a share of a line's height
_NO_GLYPH = "\U0010ffff"  # a code point no font has: what a missing glyph looks like


@dataclass(frozen=True, slots=True)
class Line:
    """One centred line: shrunk towards ``min_size`` pixels to fit, then cut with an ellipsis."""

    text: str
    size: int  # pixels
    min_size: int = 0  # 0: ``size``, never shrunk


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's own scalable font at ``size`` pixels, shared by every thread that draws: Pillow
    holds the GIL through its FreeType calls, so they never overlap (on a GIL build)."""
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):  # Pillow built without FreeType
        raise RuntimeError("Pillow has no FreeType: it cannot draw scalable text")
    return loaded


def drawable(text: str) -> str:
    """``text`` in what the font can draw: a missing character as its plain letters (``é`` as
    ``e``), else left out."""
    return " ".join("".join(map(_drawn, text)).split())


@functools.cache
def _drawn(char: str) -> str:
    if _has(char):
        return char
    parts = unicodedata.normalize("NFKD", char)
    return "".join(part for part in parts if not unicodedata.combining(part) and _has(part))


@functools.cache
def _has(char: str) -> bool:
    return char.isspace() or _glyph(char) != _glyph(_NO_GLYPH)


@functools.cache
def _glyph(char: str) -> bytes:
    size = 24
    image = Image.new("L", (size * 2, size * 2), WHITE)
    ImageDraw.Draw(image).text((0, 0), char, font=font(size), fill=BLACK)
    return image.tobytes()


def _line_height(size: int) -> int:
    ascent, descent = font(size).getmetrics()
    return round((ascent + descent) * (1 + _LEADING))


def block_height(lines: Sequence[Line]) -> int:
    """The height ``draw_lines`` takes for ``lines``: each at its full size, shrunk or not."""
    return sum(_line_height(line.size) for line in lines)


def _fitted(line: Line, width: int) -> tuple[str, ImageFont.FreeTypeFont]:
    """The line's text and font: the largest size that fits ``width``, else cut at the least."""
    text = drawable(line.text)
    for size in range(line.size, (line.min_size or line.size) - 1, -1):
        if font(size).getlength(text) <= width:
            return text, font(size)
    smallest = font(line.min_size or line.size)
    while text and smallest.getlength(text + _ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + _ELLIPSIS, smallest


def draw_lines(
    draw: ImageDraw.ImageDraw,
    lines: Sequence[Line],
    *,
    top: int,
    left: int,
    width: int,
    fill: int = BLACK,
) -> int:
    """Draw ``lines`` centred between ``left`` and ``left + width``; the y below the last."""
    for line in lines:
        height = _line_height(line.size)
        text, chosen = _fitted(line, width)
        draw.text((left + width / 2, top + height / 2), text, font=chosen, fill=fill, anchor="mm")
        top += height
    return top


def wrap(words: Sequence[str], separator: str, size: int, width: int) -> list[str]:
    """``words`` joined by ``separator`` into as few lines of ``size`` pixels as fit ``width``."""
    measure = font(size).getlength
    lines: list[str] = []
    for word in words:
        joined = f"{lines[-1]}{separator}{word}" if lines else word
        if lines and measure(joined) <= width:
            lines[-1] = joined
        else:
            lines.append(word)
    return lines
