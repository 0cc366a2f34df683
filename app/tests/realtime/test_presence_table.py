"""The presence table's bookkeeping, without a database: gaps, snapshots, restarts, expiry."""

from __future__ import annotations

from livebeats.realtime.presence import SYNC_RETRY_SECONDS, PresenceTable

ALICE = {"id": 1, "username": "alice"}
BOB = {"id": 2, "username": "bob"}


def test_tabs_of_one_user_share_one_entry_until_the_last_leaves():
    table = PresenceTable()
    tab1, tab2 = object(), object()
    assert [op[0] for op in table.track("profile:1", tab1, ALICE)] == ["s"]
    assert table.track("profile:1", tab2, ALICE) == []
    assert table.untrack("profile:1", tab1) is None
    assert table.untrack("profile:1", tab2) == ["d", "profile:1", 1]
    assert table.users("profile:1") == []


def test_a_gap_in_delta_numbers_asks_for_a_snapshot_once_per_retry_period():
    table = PresenceTable()
    changed, wants_sync = table.apply_ops("b", "inc1", 1, [["s", "t", ALICE, {}, 1.0]], now=0.0)
    assert changed == {"t"} and not wants_sync
    _, wants_sync = table.apply_ops("b", "inc1", 3, [["s", "t", BOB, {}, 1.0]], now=1.0)
    assert wants_sync
    assert table.heartbeat("b", "inc1", 3, now=1.5)[1] is False, "already asked"
    assert table.heartbeat("b", "inc1", 3, now=1.0 + SYNC_RETRY_SECONDS + 0.1)[1] is True

    changed = table.apply_snapshot_part("b", "inc1", 3, 0, 2, [["t", ALICE, {"ping_ms": 5}, 2.0]], now=4.0)
    assert changed == set(), "nothing changes until the last part"
    changed = table.apply_snapshot_part("b", "inc1", 3, 1, 2, [["u", BOB, {}, 2.0]], now=4.0)
    assert changed == {"t", "u"}
    assert table.users("t") == [{**ALICE, "meta": {"ping_ms": 5}}]
    assert table.heartbeat("b", "inc1", 3, now=5.0)[1] is False


def test_a_heartbeat_ahead_of_what_we_saw_asks_for_a_snapshot():
    table = PresenceTable()
    assert table.heartbeat("b", "inc1", 0, now=0.0) == (set(), False)
    assert table.heartbeat("b", "inc1", 4, now=1.0)[1] is True


def test_a_node_restarted_under_the_same_id_replaces_its_old_entries():
    table = PresenceTable()
    table.apply_ops("b", "inc1", 1, [["s", "t", ALICE, {}, 1.0]], now=0.0)
    changed, wants_sync = table.apply_ops("b", "inc2", 1, [["s", "t", BOB, {}, 1.0]], now=1.0)
    assert changed == {"t"} and not wants_sync
    assert [u["id"] for u in table.users("t")] == [2]


def test_silent_nodes_expire_and_the_newest_meta_wins_across_nodes():
    table = PresenceTable()
    table.apply_ops("b", "i", 1, [["s", "t", ALICE, {"ping_ms": 80}, 5.0]], now=0.0)
    table.apply_ops("c", "i", 1, [["s", "t", ALICE, {"ping_ms": 20}, 9.0]], now=10.0)
    assert table.users("t") == [{**ALICE, "meta": {"ping_ms": 20}}]
    assert table.expire(now=14.0, timeout=15.0) == ([], set())
    assert table.expire(now=16.0, timeout=15.0) == (["b"], {"t"})
    assert table.users("t") == [{**ALICE, "meta": {"ping_ms": 20}}]
    assert table.expire(now=26.0, timeout=15.0) == (["c"], {"t"})
    assert table.users("t") == []


def test_the_merged_list_read_once_follows_every_later_change():
    """Read between every change: a list kept from an earlier read must never be served stale."""
    table = PresenceTable()
    tab = object()

    def names(topic: str = "t") -> list[tuple[str, dict]]:
        return [(user["username"], user["meta"]) for user in table.users(topic)]

    table.track("t", tab, BOB)
    assert names() == [("bob", {})]
    table.set_meta("t", tab, {"ping_ms": 7})
    assert names() == [("bob", {"ping_ms": 7})]
    table.apply_ops("b", "inc1", 1, [["s", "t", ALICE, {}, 1.0]], now=0.0)
    assert names() == [("alice", {}), ("bob", {"ping_ms": 7})]
    table.apply_ops("b", "inc1", 2, [["d", "t", 1]], now=0.0)
    assert names() == [("bob", {"ping_ms": 7})]
    table.apply_snapshot_part("b", "inc1", 2, 0, 1, [["t", ALICE, {"ping_ms": 3}, 2.0]], now=1.0)
    assert names() == [("alice", {"ping_ms": 3}), ("bob", {"ping_ms": 7})]
    table.forget_node("b")
    assert names() == [("bob", {"ping_ms": 7})]
    table.apply_ops("b", "inc2", 1, [["s", "t", ALICE, {}, 1.0]], now=2.0)
    assert table.expire(now=100.0, timeout=15.0) == (["b"], {"t"})
    assert names() == [("bob", {"ping_ms": 7})]
    table.untrack("t", tab)
    assert names() == []
    table.users("t").append({"id": 9})
    assert names() == [], "each caller gets its own list"


def test_last_users_may_lag_behind_changes_until_the_next_full_read():
    table = PresenceTable()
    tab1, tab2 = object(), object()
    table.track("t", tab1, BOB)
    assert [user["username"] for user in table.last_users("t")] == ["bob"], "never read: built fresh"
    table.track("t", tab2, ALICE)
    assert [user["username"] for user in table.last_users("t")] == ["bob"]
    assert [user["username"] for user in table.users("t")] == ["alice", "bob"]
    assert [user["username"] for user in table.last_users("t")] == ["alice", "bob"]
