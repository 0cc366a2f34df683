"""Every synthesized stack is valid Terraform for hashicorp/aws 5.100.0 (checked by terraform itself)."""

from __future__ import annotations

import pytest
from cdktf import Testing

from tests.infra.conftest import Synthesized


@pytest.mark.parametrize("stack", ["bootstrap", "foundation", "database", "app", "routing"])
def test_stack_is_valid_terraform(synthesized: Synthesized, stack: str) -> None:
    construct = synthesized.app.node.find_child(stack)
    assert Testing.to_be_valid_terraform(Testing.full_synth(construct))
