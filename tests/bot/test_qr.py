from __future__ import annotations

import png

from bot.qr import QUIET_ZONE_MODULES, render_qr_png
from tests.standins import decode_qr, png_size

STATIC_QRIS = (
    "00020101021126570011ID.CO.BANKNEOCOMMERCE.WWW01189360049080000798050212000560139907"
    "0303UMI51440014ID.CO.QRIS.WWW0215ID20254288651200303UMI5204653353033605802ID"
    "5918SIMULASI KODEBAYAR6013JAKARTA UTARA610514450622905250123456789ABCDEFGHIJKLMN6304A1B2"
)


def test_the_png_decodes_to_exactly_the_content() -> None:
    assert decode_qr(render_qr_png(STATIC_QRIS)) == [STATIC_QRIS]


def test_rendering_is_deterministic() -> None:
    assert render_qr_png(STATIC_QRIS) == render_qr_png(STATIC_QRIS)


def test_large_enough_for_a_phone_and_square() -> None:
    width, height = png_size(render_qr_png(STATIC_QRIS))
    assert width == height
    assert 400 <= width <= 1280


def test_has_a_white_quiet_zone_of_four_modules() -> None:
    data = render_qr_png(STATIC_QRIS)
    width, _, rows, _ = png.Reader(bytes=data).read()
    rows = [list(row) for row in rows]
    # The top-left finder pattern starts the code: its corner is the first dark pixel.
    top = next(y for y, row in enumerate(rows) if 0 in row)
    left = rows[top].index(0)
    assert top == left
    assert top % QUIET_ZONE_MODULES == 0
    module = top // QUIET_ZONE_MODULES
    assert module >= 1
    assert width % module == 0
