"""Shared test fixtures: the real-instrument data folder and dask compute counting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``$PEROVSCOPE_TEST_DATA`` or ``../shared/data`` beside the repository; None when absent."""
    env = os.environ.get("PEROVSCOPE_TEST_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-instrument data folder; tests using it skip with a reason when it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("real instrument data not found: set PEROVSCOPE_TEST_DATA or place ../shared/data "
                    "beside the repository")
    return path


@pytest.fixture
def data_file(data_dir):
    """Return a function mapping a MANIFEST-relative name to its path (skips if that file is missing)."""

    def _get(rel: str) -> Path:
        p = data_dir / rel
        if not p.exists():
            pytest.skip(f"{rel} not present in {data_dir}")
        return p

    return _get
