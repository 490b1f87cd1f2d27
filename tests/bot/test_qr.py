"""The QR the bot draws: it scans to exactly Pivot's content, and its label keeps clear of it."""

from __future__ import annotations

import io

import pytest

from bot.drawing import drawable
from bot.qr import PIXELS_PER_MODULE, QUIET_ZONE_MODULES, QrLabel, qr_image, render_labelled_qr_png
from pivot_client.simulator import build_static_qris
from tests.standins import decode_qr, greyscale_pixels, ink_bands, png_size

STATIC_QRIS = (
    "00020101021126570011ID.CO.BANKNEOCOMMERCE.WWW01189360049080000798050212000560139907"
    "0303UMI51440014ID.CO.QRIS.WWW0215ID20254288651200303UMI5204653353033605802ID"
    "5918SIMULASI KODEBAYAR6013JAKARTA UTARA610514450622905250123456789ABCDEFGHIJKLMN6304A1B2"
)
# The longest a static QRIS gets here: every field at its maximum (QR version 10).
LONGEST_QRIS = build_static_qris(
    merchant_id="9" * 15,
    nmid="ID" + "9" * 13,
    reference="R" * 25,
    merchant_name="M" * 25,
    city="C" * 15,
    postal_code="9" * 10,
)
QUIET_ZONE = QUIET_ZONE_MODULES * PIXELS_PER_MODULE  # pixels
LABEL = QrLabel(
    "Untuk: Bu Ani",
    ("Nominal: Rp 25.000", "Nama penerima: WARUNG SARI", "NMID: ID2025428865120"),
)
SIMULATED = QrLabel(LABEL.title, LABEL.lines, banner="SIMULASI")
# A customer's name as long as /new takes (60 characters), in wide capitals: cut to fit.
CROWDED = QrLabel("Untuk: " + "W" * 60, ("Nama penerima: " + "M" * 25,), banner="SIMULASI " * 9)


def png_of(content: str) -> bytes:
    buffer = io.BytesIO()
    qr_image(content).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("content", [STATIC_QRIS, LONGEST_QRIS])
def test_the_bare_qr_decodes_to_exactly_the_content(content: str) -> None:
    assert decode_qr(png_of(content)) == [content]


def test_the_bare_qr_has_a_white_quiet_zone_of_four_modules() -> None:
    pixels = greyscale_pixels(png_of(STATIC_QRIS))
    [(top, bottom)] = ink_bands(pixels)
    assert (top, bottom) == (QUIET_ZONE, pixels.shape[0] - QUIET_ZONE)
    assert [band for band in ink_bands(pixels.T)] == [(top, bottom)]  # left and right too


@pytest.mark.parametrize("label", [LABEL, SIMULATED, CROWDED], ids=["plain", "banner", "crowded"])
@pytest.mark.parametrize("content", [STATIC_QRIS, LONGEST_QRIS])
def test_the_labelled_photo_still_decodes_to_exactly_the_content(
    content: str, label: QrLabel
) -> None:
    assert decode_qr(render_labelled_qr_png(content, label)) == [content]


def test_rendering_is_deterministic() -> None:
    assert render_labelled_qr_png(STATIC_QRIS, SIMULATED) == render_labelled_qr_png(
        STATIC_QRIS, SIMULATED
    )


def test_the_label_is_one_band_of_ink_per_line_below_the_quiet_zone() -> None:
    pixels = greyscale_pixels(render_labelled_qr_png(STATIC_QRIS, LABEL))
    side = pixels.shape[1]
    qr, *lines = ink_bands(pixels)

    assert qr == (QUIET_ZONE, side - QUIET_ZONE)  # the QR and its quiet zone, as drawn bare
    assert len(lines) == 1 + len(LABEL.lines)  # the title, then each line
    assert lines[0][0] >= side  # below the bottom quiet zone
    assert pixels.shape[0] - lines[-1][1] >= QUIET_ZONE // 2  # a white edge under the text


def test_the_banner_is_a_dark_band_above_the_quiet_zone() -> None:
    pixels = greyscale_pixels(render_labelled_qr_png(STATIC_QRIS, SIMULATED))
    banner, qr, *lines = ink_bands(pixels)

    assert banner[0] == 0 and (pixels[: banner[1], 0] == 0).all()  # black to the edge
    assert (pixels[: banner[1]] > 0).any()  # with light text on it
    assert qr[0] - banner[1] == QUIET_ZONE  # the QR's quiet zone is kept whole
    assert len(lines) == 1 + len(SIMULATED.lines)


def test_a_long_line_is_fitted_inside_the_side_margins() -> None:
    pixels = greyscale_pixels(render_labelled_qr_png(STATIC_QRIS, CROWDED))
    banner, _, *lines = ink_bands(pixels)
    side = pixels.shape[1]

    assert len(lines) == 2
    text = pixels[lines[0][0] :]
    assert (text[:, :QUIET_ZONE] == 255).all() and (text[:, side - QUIET_ZONE :] == 255).all()
    banner_text = pixels[: banner[1], QUIET_ZONE : side - QUIET_ZONE]
    assert (pixels[: banner[1], : QUIET_ZONE // 2] == 0).all() and (banner_text > 0).any()


@pytest.mark.parametrize("label", [LABEL, CROWDED], ids=["plain", "crowded"])
def test_within_telegrams_photo_limits(label: QrLabel) -> None:
    photo = render_labelled_qr_png(LONGEST_QRIS, label)
    width, height = png_size(photo)

    assert 400 <= width <= 1280 and height > width  # sharp on a phone; the label below
    assert width + height <= 10_000 and height / width <= 20  # Telegram's sendPhoto limits
    assert len(photo) <= 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "drawn"),
    [
        ("Bu Ani", "Bu Ani"),
        ("Café Ünal", "Cafe Unal"),  # accents the font lacks are dropped, not boxed
        ("Warung 🍜 Sari", "Warung Sari"),  # what it cannot draw at all is left out
        ("Rp 25.000 · bebas…", "Rp 25.000 · bebas…"),  # signs it has are kept
        ("Ｔｏｋｏ", "Toko"),  # full-width letters as their plain ones
    ],
)
def test_text_is_folded_to_what_the_font_can_draw(text: str, drawn: str) -> None:
    assert drawable(text) == drawn
