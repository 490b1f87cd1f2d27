"""Read QR codes back out of PNG bytes, as a phone's camera app would."""

from __future__ import annotations

import numpy as np
import png
import zxingcpp


def decode_qr(png_bytes: bytes) -> list[str]:
    """The text of every QR code in the image."""
    width, height, rows, info = png.Reader(bytes=png_bytes).asDirect()
    assert info["greyscale"] and not info["alpha"], "expected a greyscale PNG"
    peak = (1 << info["bitdepth"]) - 1
    pixels = np.array([[value * 255 // peak for value in row] for row in rows], dtype=np.uint8)
    assert pixels.shape == (height, width)
    # QR codes only: zxing otherwise sometimes also "finds" a Codabar inside a QR's modules.
    found = zxingcpp.read_barcodes(
        pixels, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [result.text for result in found]


def png_size(png_bytes: bytes) -> tuple[int, int]:
    """Width and height of a PNG."""
    width, height, _, _ = png.Reader(bytes=png_bytes).read()
    return width, height
