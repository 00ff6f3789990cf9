"""Fixtures for end-to-end pipeline tests."""

import os
from pathlib import Path

import pytest

from pipeline_workspace import SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared public data sets; required in CI, skipped elsewhere when absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data folder {SHARED_DATA} is missing in CI")
        pytest.skip(f"shared data folder {SHARED_DATA} is not present")
    return SHARED_DATA
