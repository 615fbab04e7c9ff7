"""Fixtures the fault tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeslims import FakeSlims
from tests.faults.proxy import FaultProxy


@pytest.fixture
def proxy(slims: FakeSlims) -> Iterator[FaultProxy]:
    """A proxy in front of the test module's own fake SLiMS (its ``slims`` fixture)."""
    with FaultProxy(slims.url) as p:
        yield p
