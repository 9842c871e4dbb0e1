"""Shared fixtures: the real data sets in ../shared/data, skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real customer data sets; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not available: {SHARED_DATA} is absent (a clone without ../shared)")
    return SHARED_DATA


# Property tests draw the same examples on every run (CI must not turn red by
# chance); HYPOTHESIS_PROFILE=explore draws new ones for local fuzzing.
from hypothesis import settings  # noqa: E402

settings.register_profile("default", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True)
settings.load_profile(__import__("os").environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def parallel_twins():
    """Run the parallel twin of every kernel that has one (the serial/parallel choice is
    otherwise made by timing, which a test cannot rely on)."""
    from hclust._threads import forced_twins

    with forced_twins(True):
        yield
def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest's hook signature
    """Say where the report's per-section screenshots are (tests/test_report_browser.py)."""
    if not any(getattr(report, "nodeid", "").startswith("tests/test_report_browser.py::test_screenshot")
               for reports in terminalreporter.stats.values() for report in reports):
        return
    cache = getattr(config, "cache", None)
    if cache is not None:
        terminalreporter.write_line(f"report screenshots for review: {cache.mkdir('report-screenshots')}")


@pytest.fixture(scope="module")
def client():
    """A Dask client of its own for each test module: a LocalCluster of 2 single-thread
    worker processes on loopback, no dashboard (the scheduler's HTTP server on a free port)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client
