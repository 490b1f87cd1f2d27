"""Benchmark 4: code creation inside the bot, with the QR, and the QR renderers compared.

The whole bot (``bot.app.Runtime``) runs against the Pivot simulator, which answers at once
over loopback in this process. Timed per code, as the ``/new`` handler does it:
``CodeIssuer.issue`` (PENDING row, Pivot's create, activation) + ``bot.cards.render_card`` +
``bot.cards.render_qr_photo`` for a QRIS, the labelled QR photo the seller gets (a VA has no
image; the simulator's codes are simulated, so the photo has its "SIMULASI" band too). The
simulator's share is measured apart (``create_static_payment`` wrapped with a timer) and
reported, not subtracted. The access token and payment-method configs are fetched once before
timing, as a running bot has them cached.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from bench._common import CACHE, REPOSITORY, Outcome, Row, bench_main, median, percentile, say
from bench._common import spread as spread_of
from bench._payments import bot_for_bench
from bench._qr_renderers import compare_renderers, qris_samples
from bot.cards import render_card, render_qr_photo
from bot.drafts import Draft
from storage import CodeKind, Seller
from tests.standins import BotEnv, add_seller

WHAT = "code creation inside the bot, QR included"
TARGET_MS = 50.0
SELLER = 40_000
_QR = " + labelled QR PNG"


class Stopwatch:
    """Adds up the time spent in one awaited callable (the simulator's round trips)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """``call``, timed."""

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


async def create(env: BotEnv, seller: Seller, draft: Draft, key: str) -> None:
    """One code, as the handler makes it: issued, its card written, its labelled QR drawn."""
    code = await env.services.codes.issue(seller, draft, key)
    render_card(code, seller.language, zone=ZoneInfo(seller.timezone))
    if code.qr_content:
        render_qr_photo(code, seller.language)


async def time_codes(
    env: BotEnv, seller: Seller, kind: CodeKind, run: int, count: int, gateway: Stopwatch
) -> tuple[list[float], list[float]]:
    """Milliseconds per code, and of that in the simulator, for ``count`` new codes."""
    totals, in_gateway = [], []
    for number in range(count):
        draft = Draft(
            kind=kind,
            bank="BCA" if kind is CodeKind.VA else None,
            customer=f"Pelanggan {run}-{number}",
            amount=None if number % 2 else 25_000,
            open_amount=bool(number % 2),
        )
        gateway.seconds = 0.0
        started = time.perf_counter()
        await create(env, seller, draft, f"bench-{kind}-{run}-{number}")
        totals.append((time.perf_counter() - started) * 1e3)
        in_gateway.append(gateway.seconds * 1e3)
    return totals, in_gateway


async def measure(args: argparse.Namespace) -> Outcome:
    """Codes through the running bot, then the renderers side by side."""
    say(f"code creation: {args.runs} runs of {args.codes} QRIS and {args.codes} VA codes")
    results: dict[CodeKind, list[tuple[float, float, float]]] = {
        CodeKind.QRIS: [],
        CodeKind.VA: [],
    }
    # One seller makes every code: lift the per-seller limits a real seller lives under.
    async with bot_for_bench(
        flood_control=False, seller_codes_per_day=100_000, seller_open_va_per_bank=100_000
    ) as env:
        seller = await add_seller(env.services.db, SELLER)
        gateway = Stopwatch()
        pivot = env.services.pivot
        pivot.create_static_payment = gateway.wrap(pivot.create_static_payment)  # type: ignore[method-assign,assignment]
        for kind in (CodeKind.QRIS, CodeKind.VA):
            await time_codes(env, seller, kind, -1, 2, gateway)  # token and configs cached
        for run in range(args.runs):
            for kind in (CodeKind.QRIS, CodeKind.VA):
                totals, in_gateway = await time_codes(env, seller, kind, run, args.codes, gateway)
                results[kind].append((median(totals), percentile(totals, 99), median(in_gateway)))
                say(
                    f"  run {run} {kind}: median {median(totals):.1f} ms, p99"
                    f" {percentile(totals, 99):.1f} ms, of which the simulator"
                    f" {median(in_gateway):.1f} ms"
                )
        if args.profile:
            await _profile(env, seller, gateway)
    rows = []
    for kind, runs in results.items():
        medians = [run[0] for run in runs]
        value = median(medians)
        rows.append(
            Row(
                WHAT,
                f"{kind}: issue + card{_QR if kind is CodeKind.QRIS else ''}, median",
                f"≤ {TARGET_MS:.0f} ms",
                f"{value:.1f} ms (p99 {median([run[1] for run in runs]):.1f} ms; simulator"
                f" {median([run[2] for run in runs]):.1f} ms of it)",
                spread_of(medians, " ms"),
                value <= TARGET_MS,
            )
        )
    rows += renderer_rows(args.samples)
    qris = median([run[0] for run in results[CodeKind.QRIS]])
    return Outcome(rows, f"code creation, QRIS with its QR: median {qris:.1f} ms")


def renderer_rows(samples: int) -> list[Row]:
    """One row per QR renderer: median time, decoded share, PNG size."""
    say(f"  QR renderers on {samples} QRIS strings:")
    rows = []
    for report in compare_renderers(qris_samples(samples), passes=3):
        say(
            f"    {report.name}: {report.median_ms:.1f} ms, decoded {report.decoded}/"
            f"{report.samples} ({report.stray} with a stray extra barcode), "
            f"{report.median_bytes} bytes, {report.median_side} px"
        )
        rows.append(
            Row(
                "QR renderers compared",
                report.name,
                "-",
                f"{report.median_ms:.1f} ms; read back {report.decoded}/{report.samples}"
                f" ({report.stray} with a stray extra barcode); {report.median_bytes} B,"
                f" {report.median_side} px",
                f"{report.samples} QRIS strings × 3",
                None,
            )
        )
    return rows


async def _profile(env: BotEnv, seller: Seller, gateway: Stopwatch) -> None:
    from pyinstrument import Profiler

    profile = CACHE / "profiles" / "code-creation.txt"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.0005, async_mode="enabled")
    with profiler:
        await time_codes(env, seller, CodeKind.QRIS, 99, 20, gateway)
    profile.write_text(profiler.output_text(unicode=True), encoding="utf-8")
    say(f"  profile of 20 QRIS codes: {profile.relative_to(REPOSITORY)}")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--codes", type=int, default=20, help="codes of each kind per run")
    parser.add_argument("--samples", type=int, default=30, help="QRIS strings per renderer")
    parser.add_argument("--profile", action="store_true", help="profile 20 QRIS codes")


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__ or "", measure, _arguments))
