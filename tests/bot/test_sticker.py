"""The printable sticker: an A6 page at 300 dpi that scans, laid out like a QRIS sticker, the same
page in the PDF."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from bot.cards import QRIS_APPS
from bot.drawing import wrap
from bot.qr import QUIET_ZONE_MODULES, qr_image
from bot.sticker import DPI, PAGE_PIXELS, Sticker, render_sticker
from bot.texts import plain
from storage import Code, CodeKind
from tests.bot.test_cards import qris
from tests.bot.test_qr import LONGEST_QRIS
from tests.standins import code_row, decode_qr, greyscale_pixels, ink_bands, png_size

A6_POINTS = (297.64, 419.53)  # 105 × 148 mm at 72 points an inch
LONG_SHOP = "Toko Serba Ada Sumber Rejeki Makmur Jaya Abadi Sentosa Selalu"


def sticker(code: Code | None = None, shop: str = "Warung Sari", language: str = "id") -> Sticker:
    return render_sticker(code or qris(), shop, language)


def pdf_page(printed: Sticker) -> Any:
    reader = PdfReader(io.BytesIO(printed.pdf))
    [page] = reader.pages
    return page


@pytest.mark.parametrize(
    "code",
    [qris(), qris(simulation=True), qris(qr_content=LONGEST_QRIS)],
    ids=["real", "simulated", "longest"],
)
@pytest.mark.parametrize("shop", ["Warung Sari", LONG_SHOP])
def test_the_png_is_a6_at_300_dpi_and_scans_to_exactly_the_content(code: Code, shop: str) -> None:
    printed = sticker(code, shop)

    assert png_size(printed.png) == PAGE_PIXELS == (1240, 1748)
    dpi = Image.open(io.BytesIO(printed.png)).info["dpi"]
    assert tuple(round(value) for value in dpi) == (DPI, DPI)
    assert decode_qr(printed.png) == [code.qr_content]


def test_the_pdf_is_one_a6_page_holding_the_same_image() -> None:
    printed = sticker(qris(simulation=True))
    page = pdf_page(printed)

    assert printed.pdf.startswith(b"%PDF-")
    assert [round(float(side), 2) for side in page.mediabox[2:]] == list(A6_POINTS)
    [image] = page.images
    embedded = io.BytesIO()
    image.image.save(embedded, "PNG")
    assert (greyscale_pixels(embedded.getvalue()) == greyscale_pixels(printed.png)).all()
    assert decode_qr(embedded.getvalue()) == [qris().qr_content]
    # Drawn edge to edge: the page's one image, scaled to the page's size, at its origin.
    drawing = page.get_contents().get_data()
    assert re.search(rb"\bq 297\.64 0 0 419\.53 0(\.00)? 0(\.00)? cm /I1 Do Q\b", drawing)


def test_laid_out_like_a_qris_sticker_band_texts_qr_texts() -> None:
    code = qris(simulation=True)
    pixels = greyscale_pixels(sticker(code).png)
    band, *above_qr_below = ink_bands(pixels)
    above, qr, below = above_qr_below[:3], above_qr_below[3], above_qr_below[4:]

    assert band[0] == 0 and (pixels[: band[1], 0] == 0).all()  # "QRIS" and SIMULASI
    assert len(above) == 3  # the shop, the NMID, the name a payer sees
    apps = wrap([*QRIS_APPS, plain("id", "image.sticker.banking")], " · ", 40, 1122)
    assert len(below) == 2 + len(apps) and len(apps) == 1  # scan, "pay with", the apps
    # The QR is the largest square that fits, its quiet zone kept clear of the texts.
    modules = qr_image(code.qr_content or "", module_pixels=1).width
    module = (qr[1] - qr[0]) // (modules - 2 * QUIET_ZONE_MODULES)
    assert module >= 12  # ~1 mm a module at 300 dpi
    assert qr[0] - above[-1][1] >= QUIET_ZONE_MODULES * module
    assert below[0][0] - qr[1] >= QUIET_ZONE_MODULES * module


def test_the_texts_follow_the_shop_and_the_sellers_language() -> None:
    indonesian = greyscale_pixels(sticker(language="id").png)
    english = greyscale_pixels(sticker(language="en").png)
    other_shop = greyscale_pixels(sticker(shop="Toko Budi").png)
    _, shop, _, _, qr, scan, *_ = ink_bands(indonesian)

    assert (indonesian[qr[0] : qr[1]] == english[qr[0] : qr[1]]).all()  # the same QR
    assert (indonesian[scan[0] :] != english[scan[0] :]).any()  # "Scan untuk bayar"
    assert (indonesian[shop[0] : shop[1]] != other_shop[shop[0] : shop[1]]).any()
    assert (indonesian[scan[0] :] == other_shop[scan[0] :]).all()


def test_a_long_shop_name_stays_inside_the_margins() -> None:
    pixels = greyscale_pixels(sticker(shop=LONG_SHOP).png)
    _, shop, *_ = ink_bands(pixels)
    margin = round(5 / 25.4 * DPI)

    row = pixels[shop[0] : shop[1]]
    assert (row[:, :margin] == 255).all() and (row[:, -margin:] == 255).all()


def test_only_a_qris_with_content_has_a_sticker() -> None:
    va = code_row(8, kind=CodeKind.VA, bank="BCA", qr_content=None, va_number="123")
    with pytest.raises(ValueError, match="no QR content"):
        render_sticker(va, "Warung Sari", "id")
