"""checkov finds nothing that is neither fixed nor skipped, with a reason, next to its resource."""

from __future__ import annotations

import pytest

from tests.security.policy_scan import STACKS, PolicyScan

CONFIGURATIONS = ("default", "variant")


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_checkov_scanned_every_stack(policy_scans: dict[str, PolicyScan], configuration: str) -> None:
    scan = policy_scans[configuration]
    assert not scan.parsing_errors
    assert {f.stack for f in scan.passed} == set(STACKS)


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_every_failed_check_is_skipped_next_to_its_resource(policy_scans: dict[str, PolicyScan], configuration: str) -> None:
    unreviewed = policy_scans[configuration].unreviewed
    assert not unreviewed, (
        "checkov findings neither fixed nor skipped (constructs_lib.policy_checks.skip_check, with a reason):\n"
        + "\n".join(map(str, unreviewed))
    )


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_no_skip_outlives_its_finding(policy_scans: dict[str, PolicyScan], configuration: str) -> None:
    """A skip whose check passes (or no longer applies) hides nothing and must go, so skips never rot."""
    stale = policy_scans[configuration].stale_skips
    assert not stale, "skips without a failing check: " + ", ".join(f"{s}: {c} on {r}" for s, r, c in stale)


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_every_skip_gives_a_reason(policy_scans: dict[str, PolicyScan], configuration: str) -> None:
    vague = {key: reason for key, reason in policy_scans[configuration].skips.items() if len(reason.split()) < 8}
    assert not vague, f"skips need a reason a reviewer can judge: {vague}"
