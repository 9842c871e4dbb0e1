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
