"""The engines plugin (tests/engines.py): one test id per engine, the PostgreSQL half left out
with one line when PostgreSQL is missing, and a CI run without it failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.standins import postgres

SAMPLE = """
import pytest

def test_on_each(engine):
    assert engine in ("sqlite", "postgresql")

@pytest.mark.sqlite_only
def test_about_sqlite(engine):
    assert engine == "sqlite"

def test_needs_the_server(postgres_server):
    pass
"""


@pytest.fixture
def sample(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project of three tests using the plugin; outside CI unless a test says otherwise."""
    monkeypatch.delenv("CI", raising=False)
    # Only the plugin under test: the installed ones would cost a second a run.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_sample=SAMPLE)
    return pytester


def binaries_found(monkeypatch: pytest.MonkeyPatch, found: bool) -> None:
    """Make the sample's run find PostgreSQL (a made-up folder) or not."""
    answer = Path("/usr/lib/postgresql/99/bin") if found else None
    monkeypatch.setattr(postgres, "find_binaries", lambda: answer)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The sample run in this process (a new interpreter would spend seconds on imports)."""
    return pytester.runpytest_inprocess("-p", "tests.engines", "-p", "no:cacheprovider", *args)


def test_each_engine_has_its_own_test_id_and_the_server_tests_their_mark(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    binaries_found(monkeypatch, found=True)
    result = run(sample, "--collect-only", "-q", "-m", "not postgresql")
    result.stdout.fnmatch_lines(
        [
            "test_sample.py::test_on_each[[]sqlite[]]",
            "test_sample.py::test_about_sqlite[[]sqlite[]]",
        ]
    )
    result.stdout.fnmatch_lines(["*2/4 tests collected (2 deselected)*"])

    result = run(sample, "--collect-only", "-q", "-m", "postgresql")
    result.stdout.fnmatch_lines(
        ["test_sample.py::test_on_each[[]postgresql[]]", "test_sample.py::test_needs_the_server"]
    )


def test_without_postgresql_its_half_is_left_out_with_one_line(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    binaries_found(monkeypatch, found=False)
    result = run(sample)
    result.assert_outcomes(passed=2, deselected=2)
    assert result.stdout.str().count("apt-get install postgresql") == 1
    result.stdout.fnmatch_lines(["*PostgreSQL's binaries were not found*"])


def test_under_ci_a_missing_postgresql_fails_the_run(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    binaries_found(monkeypatch, found=False)
    monkeypatch.setenv("CI", "true")
    result = run(sample)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*CI=true*PostgreSQL*not found*apt-get install postgresql*"])
