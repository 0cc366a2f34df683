"""The whole deployment, as users run it, on the local emulator.

``make deploy`` (the session's ``deployment``), every stack re-planned with no changes, a
second operator's ``make deploy`` from a fresh clone that finds the state and changes
nothing, and (at the end of the session) ``make destroy`` leaving nothing of ours.
Terraform's real plan/apply does the work; the emulator stands in for AWS.

It takes 10-20 minutes on two cores; ``pytest --ignore=tests/deploy`` leaves it out while
iterating on something else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.conftest import STACKS, Deployment, fresh_clone

CYCLE_TIMEOUT_SECONDS = 3600


@pytest.mark.timeout(CYCLE_TIMEOUT_SECONDS)
def test_every_stack_replans_with_no_changes(deployment: Deployment) -> None:
    changed = {}
    for stack in ("bootstrap", *STACKS):
        returncode, output = deployment.plan(stack)
        assert returncode in (0, 2), f"terraform plan of {stack} failed:\n{output[-4000:]}"
        if returncode == 2:
            changed[stack] = output[-4000:]
    assert not changed, "a second plan shows changes:\n" + "\n".join(f"--- {s}\n{o}" for s, o in changed.items())


@pytest.mark.timeout(CYCLE_TIMEOUT_SECONDS)
def test_a_second_operator_deploys_from_a_fresh_clone_and_changes_nothing(deployment: Deployment, tmp_path: Path) -> None:
    # Another machine: no cdktf.out, no .local, nothing but the repository and the state bucket.
    clone = fresh_clone(tmp_path / "second-operator")
    redeploy = deployment.make("redeploy-from-fresh-clone", "deploy", cwd=clone)
    assert "creating the state bucket" not in redeploy and "importing it" not in redeploy, redeploy[-4000:]
    for word in ("Creating...", "Modifying...", "Destroying...", "Importing..."):
        assert word not in redeploy, f"the second deploy changed something ({word}):\n{redeploy[-4000:]}"
    assert redeploy.count("No changes.") == 1 + len(STACKS), redeploy[-4000:]
