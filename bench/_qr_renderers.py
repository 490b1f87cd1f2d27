"""QR renderers compared for benchmark 4: speed, PNG size, and whether a scanner reads them back.

``qrcode+Pillow`` is the bot's own ``bot.qr.qr_image`` saved as a 1-bit PNG; ``qrcode+pypng``
is the same QR through qrcode's pypng image factory (what the bot used before), and segno is
drawn with the same error correction (M), 10 pixels a module and a 4-module quiet zone. The
labelled photo the bot sends (``bot.qr.render_labelled_qr_png``, a simulated code's label of
five lines) is timed beside them. Each is decoded with the tests' ``decode_qr`` (zxing-cpp, as
a phone's camera app would read it).
"""

from __future__ import annotations

import contextlib
import io
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import png
import qrcode
import qrcode.constants
import qrcode.image.pure
import segno

from bot.qr import PIXELS_PER_MODULE, QUIET_ZONE_MODULES, QrLabel, qr_image, render_labelled_qr_png
from pivot_client.simulator import build_static_qris
from tests.standins import decode_qr

__all__ = ["RENDERERS", "RendererReport", "compare_renderers", "qris_samples"]

_LABEL = QrLabel(
    "Untuk: Pelanggan 12",
    ("Nominal: Rp 25.000", "Nama penerima: SIMULASI KODEBAYAR", "NMID: ID1234567890123"),
    "SIMULASI",
)


def _qrcode_pillow(content: str) -> bytes:
    buffer = io.BytesIO()
    qr_image(content).convert("1").save(buffer, "PNG")
    return buffer.getvalue()


def _qrcode_pypng(content: str) -> bytes:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=PIXELS_PER_MODULE,
        border=QUIET_ZONE_MODULES,
        image_factory=qrcode.image.pure.PyPNGImage,
    )
    code.add_data(content)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


def _segno(content: str) -> bytes:
    # boost_error=False: segno would otherwise raise the error level, which qrcode does not.
    code = segno.make(content, error="m", micro=False, boost_error=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=PIXELS_PER_MODULE, border=QUIET_ZONE_MODULES)
    return buffer.getvalue()


RENDERERS: dict[str, Callable[[str], bytes]] = {
    "qrcode+pypng": _qrcode_pypng,
    "qrcode+Pillow (bot.qr now)": _qrcode_pillow,
    "segno": _segno,
    "labelled photo (bot.qr now, label included)": lambda content: render_labelled_qr_png(
        content, _LABEL
    ),
}


@dataclass(frozen=True)
class RendererReport:
    """How one renderer did over the samples."""

    name: str
    median_ms: float
    decoded: int  # images whose QR read back as exactly the content
    stray: int  # images where the decoder also "found" another barcode
    samples: int
    median_bytes: int
    median_side: int  # pixels


def qris_samples(count: int) -> list[str]:
    """Static QRIS strings like Pivot's, with merchant names and references of varied length."""
    rng = random.Random(6)
    samples = []
    for number in range(count):
        name = "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ ") for _ in range(rng.randint(5, 25))
        )
        samples.append(
            build_static_qris(
                merchant_id=f"{rng.randrange(10**15):015d}",
                nmid=f"ID{rng.randrange(10**13):013d}",
                reference=f"kb{number:06d}{rng.randrange(16**8):08x}"[: rng.randint(8, 25)],
                merchant_name=name.strip() or "WARUNG",
                city=rng.choice(["JAKARTA", "BANDUNG", "SURABAYA", "DENPASAR", "MAKASSAR"]),
            )
        )
    return samples


def compare_renderers(samples: list[str], passes: int) -> list[RendererReport]:
    """Render every sample ``passes`` times with each renderer; decode the last rendering."""
    reports = []
    for name, render in RENDERERS.items():
        timings, sizes, sides, decoded, stray = [], [], [], 0, 0
        for content in samples:
            for _ in range(passes):
                started = time.perf_counter()
                image = render(content)
                timings.append((time.perf_counter() - started) * 1e3)
            sizes.append(len(image))
            sides.append(png.Reader(bytes=image).read()[0])
            # decode_qr refuses (AssertionError) an image that is not a greyscale PNG.
            with contextlib.suppress(AssertionError):
                found = decode_qr(image)
                decoded += content in found
                # zxing reads every format: a stray Codabar inside a QR is read too.
                stray += len(found) > found.count(content)
        reports.append(
            RendererReport(
                name=name,
                median_ms=statistics.median(timings),
                decoded=decoded,
                stray=stray,
                samples=len(samples),
                median_bytes=int(statistics.median(sizes)),
                median_side=int(statistics.median(sides)),
            )
        )
    return reports
