"""Shared fixtures.

``shared_data`` is the validation collection beside the repository
(``../shared/data``); checks over it skip with a clear reason only where it is
absent. Small subsets live in ``tests/data`` with their attribution.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(os.environ.get("GAITKIOSK_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"validation data not found at {SHARED_DATA} (set GAITKIOSK_SHARED_DATA)")
    return SHARED_DATA
