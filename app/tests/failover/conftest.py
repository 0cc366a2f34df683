"""The failover tests bring their own two clusters; the suite's shared cluster and its cleanup are not used."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .replication import ReplicatedPair


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Overrides the suite's per-test TRUNCATE of the shared cluster, which these tests never touch."""


@pytest.fixture
def pair() -> Iterator[ReplicatedPair]:
    """A primary and its streaming standby, for this test only (tests kill and promote them)."""
    clusters = ReplicatedPair()
    try:
        clusters.start()
        yield clusters
    finally:
        clusters.close()
