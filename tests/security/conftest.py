"""The session's synthesized stacks (shared with tests/infra: one synth per configuration) and their policy scans."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from tests.infra.conftest import Synthesized, default_config, synthesized, variant, variant_config  # noqa: F401
from tests.security.policy_scan import PolicyScan, install_checkov, read_scan, start_scan

SCAN_REPORT = REPO / "artifacts" / "policy-scan.json"


@pytest.fixture(scope="session")
def policy_scans(synthesized: Synthesized, variant: Synthesized) -> dict[str, PolicyScan]:  # noqa: F811
    """checkov over both configurations, run side by side; counts go to artifacts/policy-scan.json."""
    install_checkov()
    runs = {
        name: (synth, start_scan(synth.outdir / "stacks")) for name, synth in (("default", synthesized), ("variant", variant))
    }
    scans = {name: read_scan(process, synth.outdir / "stacks") for name, (synth, process) in runs.items()}
    SCAN_REPORT.parent.mkdir(exist_ok=True)
    SCAN_REPORT.write_text(json.dumps({name: scan.counts() for name, scan in scans.items()}, indent=2) + "\n")
    return scans
