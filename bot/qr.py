"""QRIS codes drawn locally as PNG from Pivot's ``qrContent``.

We render rather than hot-link Pivot's ``qrUrl`` (an acquirer bank's image host). Pillow, as
measured the fastest renderer whose codes read back reliably: ~15 ms a QRIS code against ~34 ms
with pypng, and this runs on the event loop (BENCHMARKS.md, "QR renderers"). Its PNG is 1-bit
greyscale and the same bytes for the same content.
"""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.constants
import qrcode.image.pil

__all__ = ["QUIET_ZONE_MODULES", "render_qr_png"]

QUIET_ZONE_MODULES = 4  # the minimum the QR standard asks for; less breaks some scanners
# A static QRIS string is ~150-250 characters (QR version 8-10, ~60 modules with the quiet
# zone): 10 pixels a module gives ~600 px, sharp on a phone after Telegram's recompression.
_PIXELS_PER_MODULE = 10


def render_qr_png(content: str, *, image_factory: type[Any] = qrcode.image.pil.PilImage) -> bytes:
    """A PNG whose QR decodes to exactly ``content``.

    ``image_factory`` is there for the benchmark, which draws the same QR with pypng to compare.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=_PIXELS_PER_MODULE,
        border=QUIET_ZONE_MODULES,
        image_factory=image_factory,
    )
    code.add_data(content)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)  # PNG: the default kind of both factories
    return buffer.getvalue()
