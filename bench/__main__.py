"""``python -m bench [name ...]`` (``make bench``): every benchmark, in BENCHMARKS.md's order.

Each benchmark runs in a child process of its own (so memory and event loops do not carry
over), prints its details and then its figure, and hands its rows back as JSON. A benchmark
that crashes shows as a failed row. At the end, a dated section is appended to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench._common import CACHE, REPOSITORY, Row, read_rows, say
from bench._report import append_section, table

# Module names, in the order of the targets in BENCHMARKS.md.
BENCHMARKS = ("ingestion", "latency", "burst", "fanout", "code_creation", "scale", "postgres")


def run_one(name: str, folder: Path) -> list[Row]:
    """Run ``bench.<name>`` as a child process; its rows, or one failed row if it crashed."""
    output = folder / f"{name}.json"
    code = subprocess.run(  # noqa: S603 - this interpreter, a module named in BENCHMARKS
        [sys.executable, "-m", f"bench.{name}", "--json", str(output)], cwd=REPOSITORY
    ).returncode
    if output.exists():
        return read_rows(output)
    return [Row(name, "the benchmark itself", "runs", f"crashed (exit {code})", "-", False)]


def main() -> int:
    """Run the chosen benchmarks (all by default) and append the results to BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(BENCHMARKS)} (all)")
    names = parser.parse_args().names or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"no benchmark {', '.join(sorted(unknown))}; there are {BENCHMARKS}")
    CACHE.mkdir(parents=True, exist_ok=True)
    started, clock = datetime.now(UTC), time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        for name in names:
            say(f"\n=== bench.{name}")
            rows += run_one(name, Path(folder))
    seconds = time.perf_counter() - clock
    ran = "all benchmarks" if names == list(BENCHMARKS) else "only " + ", ".join(names)
    report = append_section(rows, started, seconds, ran)
    say(f"\n{table(rows)}\n")
    misses = sum(row.passed is False for row in rows)
    say(f"appended to {report.relative_to(REPOSITORY)}; {seconds / 60:.1f} min")
    say(f"{misses} figures miss their targets" if misses else "every figure meets its target")
    # A miss is a result, written down and explained; only a benchmark that crashed fails.
    return 1 if any(row.measured.startswith("crashed") for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
