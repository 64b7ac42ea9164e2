"""Fixtures of the train tests."""

from __future__ import annotations

import pytest
from toy_mix import toy_mix

from biasinherit.records import Record


@pytest.fixture(scope="session")
def toy_records() -> list[Record]:
    return toy_mix()
