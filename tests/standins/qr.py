"""Read QR codes back out of PNG bytes, as a phone's camera app would, and where ink lies."""

from __future__ import annotations

import numpy as np
import png
import zxingcpp

WHITE = 255


def greyscale_pixels(png_bytes: bytes) -> np.ndarray:
    """The pixels of a greyscale PNG, rows of 0 (black) to 255 (white)."""
    width, height, rows, info = png.Reader(bytes=png_bytes).asDirect()
    assert info["greyscale"] and not info["alpha"], "expected a greyscale PNG"
    peak = (1 << info["bitdepth"]) - 1
    pixels = np.array([[value * 255 // peak for value in row] for row in rows], dtype=np.uint8)
    assert pixels.shape == (height, width)
    return pixels


def decode_qr(png_bytes: bytes) -> list[str]:
    """The text of every QR code in the image."""
    # QR codes only: zxing otherwise sometimes also "finds" a Codabar inside a QR's modules.
    found = zxingcpp.read_barcodes(
        greyscale_pixels(png_bytes),
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
    )
    return [result.text for result in found]


def png_size(png_bytes: bytes) -> tuple[int, int]:
    """Width and height of a PNG."""
    width, height, _, _ = png.Reader(bytes=png_bytes).read()
    return width, height


def ink_bands(pixels: np.ndarray) -> list[tuple[int, int]]:
    """The runs of rows with any ink (a pixel not white), top to bottom, each as (first row,
    row after the last): a QR, each line of text and a dark band make one each."""
    inked = [bool((row < WHITE).any()) for row in pixels]
    bands: list[tuple[int, int]] = []
    for row, has_ink in enumerate(inked):
        if has_ink and bands and bands[-1][1] == row:
            bands[-1] = (bands[-1][0], row + 1)
        elif has_ink:
            bands.append((row, row + 1))
    return bands
