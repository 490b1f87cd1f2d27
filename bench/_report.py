"""BENCHMARKS.md: a hand-written top part, then one dated section appended per ``make bench``."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench._common import REPOSITORY, Row, machine

__all__ = ["REPORT", "append_section", "table"]

REPORT = REPOSITORY / "BENCHMARKS.md"
_HEADER = """# Benchmarks

Measured by `make bench` (`bench/`, see `bench/README.md`) against the targets stated here.

<!-- Sections below are appended by `make bench` (bench/_report.py), newest last. -->
"""


def _commit() -> str:
    """The commit measured, marked when the tree had changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git as the shell finds it
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} (with uncommitted changes)" if dirty else head


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: Sequence[Row]) -> str:
    """The Markdown table of ``rows``."""
    lines = [
        "| target row | figure | target | measured (median) | spread | result |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = (row.what, row.figure, row.target, row.measured, row.spread, row.verdict)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def append_section(rows: Sequence[Row], started: datetime, seconds: float, ran: str) -> Path:
    """Append this run's section (machine, commit, table) to BENCHMARKS.md."""
    box = machine()
    misses = [row for row in rows if row.passed is False]
    section = "\n".join(
        [
            "",
            f"## {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {ran}",
            "",
            f"Machine: {box['cpu']}, {box['cores']} cores; Python {box['python']};"
            f" {box['os']}. Commit {_commit()}. The whole run took {seconds / 60:.1f} min.",
            "",
            table(rows),
            "",
            f"Misses: {len(misses)} of {sum(row.passed is not None for row in rows)} figures"
            " with a target" + (": " + "; ".join(row.figure for row in misses) if misses else "."),
            "",
        ]
    )
    if not REPORT.exists():
        REPORT.write_text(_HEADER, encoding="utf-8")
    with REPORT.open("a", encoding="utf-8") as report:
        report.write(section)
    return REPORT
