"""The failover tests bring their own two clusters; the suite's shared cluster and its cleanup are not used."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Overrides the suite's per-test TRUNCATE of the shared cluster, which these tests never touch."""
