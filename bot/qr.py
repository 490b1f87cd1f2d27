"""QRIS codes drawn locally as PNG from Pivot's ``qrContent``.

We render rather than hot-link Pivot's ``qrUrl`` (an acquirer bank's image host). pypng keeps
the dependency small and its output is byte-for-byte deterministic for the same content.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.pure

__all__ = ["QUIET_ZONE_MODULES", "render_qr_png"]

QUIET_ZONE_MODULES = 4  # the minimum the QR standard asks for; less breaks some scanners
# A static QRIS string is ~150-250 characters (QR version 8-10, ~60 modules with the quiet
# zone): 10 pixels a module gives ~600 px, sharp on a phone after Telegram's recompression.
_PIXELS_PER_MODULE = 10


def render_qr_png(content: str) -> bytes:
    """A PNG whose QR decodes to exactly ``content``."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=_PIXELS_PER_MODULE,
        border=QUIET_ZONE_MODULES,
        image_factory=qrcode.image.pure.PyPNGImage,
    )
    code.add_data(content)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()
