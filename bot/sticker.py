"""A QRIS code's print-ready sticker: an A6 page, as a PNG at 300 dpi and as a PDF.

Laid out the way QRIS stickers are: "QRIS" on a dark band, the shop's name, the NMID (and the
name a payer's app will show), the QR as large as the page allows, "scan untuk bayar" and the
apps that pay QRIS. A simulated code says so on the band.

The page is drawn once, with Pillow, at print resolution (A6 at 300 dpi, 1240 × 1748 px, every
QR module a whole number of pixels so its edges stay sharp); the PDF (fpdf2) is an A6 page
that holds that same image edge to edge. Printed from either, the sticker is exactly what the
seller previewed, and there is one layout, with the same font, for both.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.cards import QRIS_APPS
from bot.drawing import BLACK, WHITE, Line, block_height, draw_lines, wrap
from bot.qr import qr_image
from bot.texts import plain
from pivot_client.qris import merchant_name, nmid
from storage import Code

__all__ = ["A6_MM", "DPI", "PAGE_PIXELS", "Sticker", "render_sticker"]

A6_MM = (105.0, 148.0)
DPI = 300
PAGE_PIXELS = (round(A6_MM[0] / 25.4 * DPI), round(A6_MM[1] / 25.4 * DPI))  # (1240, 1748)
_MARGIN = round(5 / 25.4 * DPI)  # 5 mm: inside what home printers can print
_SMALLEST = 0.6  # a line too wide is shrunk to this share of its size before it is cut
_APPS_SEPARATOR = " · "


@dataclass(frozen=True, slots=True)
class Sticker:
    """The same sticker twice: for a print shop (PDF) and for printing at home (PNG)."""

    pdf: bytes
    png: bytes


def render_sticker(code: Code, shop_name: str, language: str) -> Sticker:
    """The sticker of QRIS ``code`` for the shop ``shop_name``, its texts in ``language``."""
    if not code.qr_content:
        raise ValueError(f"code {code.id} has no QR content to draw")
    page = _draw(code.qr_content, shop_name, language, simulation=code.simulation)
    png = io.BytesIO()
    page.save(png, "PNG", dpi=(DPI, DPI))
    return Sticker(pdf=_pdf(page, title=shop_name), png=png.getvalue())


def _draw(content: str, shop_name: str, language: str, *, simulation: bool) -> Image.Image:
    """The page: the band, the texts above and below, the QR in the space left between."""
    width, height = PAGE_PIXELS
    inner = width - 2 * _MARGIN
    band = [_line("QRIS", 120)]
    if simulation:
        band.append(_line(plain(language, "image.simulation"), 56))
    above = [_line(shop_name, 84)]
    if number := nmid(content):
        above.append(_line(plain(language, "image.nmid", nmid=number), 44))
    if name := merchant_name(content):
        above.append(_line(plain(language, "image.merchant", merchant=name), 36))
    apps = [*QRIS_APPS, plain(language, "image.sticker.banking")]
    below = [
        _line(plain(language, "image.sticker.scan"), 80),
        _line(plain(language, "image.sticker.apps"), 36),
        *(_line(row, 40) for row in wrap(apps, _APPS_SEPARATOR, 40, inner)),
    ]
    band_height = block_height(band) + _MARGIN // 2
    top = band_height + _MARGIN // 4 + block_height(above)
    bottom = height - _MARGIN // 2 - block_height(below)

    modules = qr_image(content, module_pixels=1)  # one pixel a module, quiet zone included
    scale = min(inner, bottom - top) // modules.width
    qr = modules.resize((modules.width * scale,) * 2, Image.Resampling.NEAREST)

    page = Image.new("L", PAGE_PIXELS, WHITE)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, width - 1, band_height - 1), fill=BLACK)
    draw_lines(draw, band, top=_MARGIN // 4, left=_MARGIN, width=inner, fill=WHITE)
    draw_lines(draw, above, top=band_height + _MARGIN // 4, left=_MARGIN, width=inner)
    page.paste(qr, ((width - qr.width) // 2, top + (bottom - top - qr.height) // 2))
    draw_lines(draw, below, top=bottom, left=_MARGIN, width=inner)
    return page


def _pdf(page: Image.Image, *, title: str) -> bytes:
    """An A6 PDF whose one page is ``page``, edge to edge."""
    # Imported here: fpdf2 and what it loads hold ~45 MB, for a sticker a seller asks for
    # rarely, against the bot's 150 MB memory target (BENCHMARKS.md).
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format=A6_MM)
    pdf.set_title(title)
    pdf.set_margin(0)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.image(page, x=0, y=0, w=A6_MM[0], h=A6_MM[1])
    return bytes(pdf.output())


def _line(text: str, size: int) -> Line:
    return Line(text, size, round(size * _SMALLEST))
