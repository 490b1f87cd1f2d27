"""What every benchmark shares: result rows, statistics, the machine, and the command line.

A benchmark module defines ``async def measure(args) -> Outcome`` and calls ``bench_main``.
Run alone (``python -m bench.ingestion``) it prints its details and, last, its figure; run by
``python -m bench`` it also writes its rows as JSON for the report (``--json PATH``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE",
    "REPOSITORY",
    "Outcome",
    "Row",
    "bench_main",
    "machine",
    "median",
    "percentile",
    "say",
    "spread",
]

REPOSITORY = Path(__file__).resolve().parents[1]
# Generated databases and profiles; on the repository's disk (not a tmpfs), so durable commits
# pay the real fsync. Ignored by git.
CACHE = REPOSITORY / "bench" / ".cache"


@dataclass(frozen=True)
class Row:
    """One line of the BENCHMARKS.md table: a figure of a target row against its target."""

    what: str  # the target row of BENCHMARKS.md it belongs to
    figure: str  # what was measured
    target: str  # "≥ 0.5×", "≤ 20 ms"; "-" when the row sets none
    measured: str
    spread: str  # how much it varied between runs
    passed: bool | None  # None: reported only, no target

    @property
    def verdict(self) -> str:
        """pass, MISS, or "-" for a figure without a target."""
        if self.passed is None:
            return "-"
        return "pass" if self.passed else "MISS"


@dataclass(frozen=True)
class Outcome:
    """A benchmark's rows and the one-line figure it prints last."""

    rows: list[Row]
    figure: str


def median(values: Sequence[float]) -> float:
    """The median (0 for no values, so an empty run shows as an obvious miss)."""
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method: a value that was observed."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def spread(values: Sequence[float], unit: str = "", digits: int = 1) -> str:
    """``min-max over N runs``: what a reader needs to judge a median."""
    if not values:
        return "no runs"
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}{unit} over {len(values)} runs"


def machine() -> dict[str, str]:
    """CPU model, cores, Python and OS: the machine a section of BENCHMARKS.md was run on."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": str(os.cpu_count() or "?"),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def say(message: str) -> None:
    """Progress and details, flushed at once (the runner shows them as they come)."""
    print(message, flush=True)


def bench_main(
    description: str,
    measure: Callable[[argparse.Namespace], Coroutine[Any, Any, Outcome]],
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """Parse the command line, run ``measure``, print the rows and then the figure, last."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    outcome = asyncio.run(measure(args))
    for row in outcome.rows:
        say(f"  {row.figure}: {row.measured} (target {row.target}; {row.spread}) {row.verdict}")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(row) for row in outcome.rows]), encoding="utf-8")
    say(outcome.figure)
    return 0  # a miss is a result, not a failure of the benchmark


def read_rows(path: Path) -> list[Row]:
    """Rows a benchmark wrote with ``--json``."""
    return [Row(**fields) for fields in json.loads(path.read_text(encoding="utf-8"))]
