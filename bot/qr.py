"""QRIS codes drawn locally from Pivot's ``qrContent``, with a label that says whose they are.

We render rather than hot-link Pivot's ``qrUrl`` (an acquirer bank's image host). The qrcode
library encodes (it was measured the fastest whose codes read back reliably, BENCHMARKS.md,
"QR renderers"); Pillow draws its matrix, one pixel a module scaled up without smoothing, so
the modules stay sharp and the same content gives the same bytes. This runs on the event loop.

The photo a seller forwards carries a label (``QrLabel``) so that, saved, printed or forwarded
without its caption, it still says whose it is: a band on top for a simulated code, the text
below the QR. Both lie outside the QR's quiet zone, which stays blank.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw

from bot.drawing import BLACK, WHITE, Line, block_height, draw_lines

__all__ = ["QUIET_ZONE_MODULES", "QrLabel", "qr_image", "render_labelled_qr_png"]

QUIET_ZONE_MODULES = 4  # the minimum the QR standard asks for; less breaks some scanners
# A static QRIS string is ~150-250 characters (QR version 8-10, ~60 modules with the quiet
# zone): 10 pixels a module gives ~600 px, sharp on a phone after Telegram's recompression.
PIXELS_PER_MODULE = 10
# The label's text as a share of the QR's side (~600 px): readable on a phone, and the photo
# stays far inside Telegram's limits (width + height ≤ 10,000, sides within 1:20, 10 MB).
_TITLE_SIZE, _LINE_SIZE, _BANNER_SIZE = 1 / 15, 1 / 21, 1 / 14
_SMALLEST = 0.7  # a line too wide is shrunk to this share of its size before it is cut


@dataclass(frozen=True, slots=True)
class QrLabel:
    """What the photo says around the QR, as plain text in the seller's language."""

    title: str  # whose: the customer
    lines: tuple[str, ...]  # the amount, the name a payer sees, the NMID
    banner: str | None = None  # on a dark band above the QR: "SIMULASI" for a simulated code


def qr_image(content: str, *, module_pixels: int = PIXELS_PER_MODULE) -> Image.Image:
    """The QR of ``content``, quiet zone included, ``module_pixels`` a module: greyscale."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE_MODULES
    )
    code.add_data(content)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()  # the quiet zone included
    side = len(matrix)
    modules = bytes(BLACK if dark else WHITE for row in matrix for dark in row)
    return Image.frombytes("L", (side, side), modules).resize(
        (side * module_pixels, side * module_pixels), Image.Resampling.NEAREST
    )


def render_labelled_qr_png(content: str, label: QrLabel) -> bytes:
    """A greyscale PNG: ``label``'s banner, the QR of ``content``, then its title and lines."""
    qr = qr_image(content)
    side = qr.width
    margin = QUIET_ZONE_MODULES * PIXELS_PER_MODULE
    banner = [_line(label.banner, side * _BANNER_SIZE)] if label.banner else []
    below = [
        _line(label.title, side * _TITLE_SIZE),
        *(_line(line, side * _LINE_SIZE) for line in label.lines),
    ]
    banner_height = block_height(banner) + margin // 2 if banner else 0
    height = banner_height + side + block_height(below) + margin // 2
    canvas = Image.new("L", (side, height), WHITE)
    draw = ImageDraw.Draw(canvas)
    if banner:
        draw.rectangle((0, 0, side - 1, banner_height - 1), fill=BLACK)
        draw_lines(draw, banner, top=margin // 4, left=margin, width=side - 2 * margin, fill=WHITE)
    canvas.paste(qr, (0, banner_height))
    # The text starts below the QR's bottom quiet zone, which is part of ``qr``.
    draw_lines(draw, below, top=banner_height + side, left=margin, width=side - 2 * margin)
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", compress_level=1)  # the fastest; Telegram recompresses it anyway
    return buffer.getvalue()


def _line(text: str, size: float) -> Line:
    return Line(text, round(size), round(size * _SMALLEST))
