"""checkov over synthesized stacks, reconciled with the exceptions written next to resources.

checkov 3.x reads no suppressions from CDK for Terraform JSON (its ``terraform_json``
runner reports a check on a resource carrying ``"//": {"checkov": {"skip": ...}}``
as failed), so the reconciliation is done here: a failed check is *accepted* when
its resource carries a skip with that id (written by ``constructs_lib.policy_checks``),
*unreviewed* otherwise; a skip without a failure to match is *stale*.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO

CHECKOV = REPO / "scripts" / "checkov.sh"
STACKS = ("bootstrap", "foundation", "database", "app", "routing")


@dataclass(frozen=True)
class Finding:
    stack: str
    check_id: str
    check_name: str
    resource: str  # cdktf logical id (unique within a stack), e.g. PrimaryService_LoadBalancer_AABAECA5

    def __str__(self) -> str:
        return f"{self.stack}: {self.check_id} ({self.check_name}) on {self.resource}"


@dataclass
class PolicyScan:
    """The outcome of one checkov run over every stack of one synth."""

    passed: list[Finding] = field(default_factory=list)
    failed: list[Finding] = field(default_factory=list)
    skips: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (stack, resource, check id) -> reason
    parsing_errors: list[str] = field(default_factory=list)

    @property
    def unreviewed(self) -> list[Finding]:
        return [f for f in self.failed if (f.stack, f.resource, f.check_id) not in self.skips]

    @property
    def accepted(self) -> list[Finding]:
        return [f for f in self.failed if (f.stack, f.resource, f.check_id) in self.skips]

    @property
    def stale_skips(self) -> list[tuple[str, str, str]]:
        failed = {(f.stack, f.resource, f.check_id) for f in self.failed}
        return [skip for skip in self.skips if skip not in failed]

    def counts(self) -> dict[str, dict[str, int]]:
        """passed / failed (unreviewed) / skipped (accepted with a reason) per stack."""
        passed = Counter(f.stack for f in self.passed)
        failed = Counter(f.stack for f in self.unreviewed)
        skipped = Counter(f.stack for f in self.accepted)
        return {s: {"passed": passed[s], "failed": failed[s], "skipped": skipped[s]} for s in STACKS}


def install_checkov() -> None:
    """Create checkov's own environment once, before scans run side by side.

    scripts/checkov.sh installs it on first use; two scans starting together on a
    fresh clone would both install into the same environment, and one would fail.
    """
    subprocess.run([str(CHECKOV), "--version"], check=True, capture_output=True, text=True, timeout=900)


def start_scan(stacks_dir: Path) -> subprocess.Popen:
    """Start checkov (offline, JSON report) over every stack's cdk.tf.json; finish with ``read_scan``."""
    files = [arg for stack in STACKS for arg in ("-f", str(stacks_dir / stack / "cdk.tf.json"))]
    return subprocess.Popen(
        [str(CHECKOV), *files, "--framework", "terraform_json", "--skip-download", "--output", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_scan(process: subprocess.Popen, stacks_dir: Path, timeout: float = 600) -> PolicyScan:
    stdout, stderr = process.communicate(timeout=timeout)
    # checkov exits 1 when a check fails; anything else (or no JSON) is a broken run.
    assert process.returncode in (0, 1), f"checkov failed ({process.returncode}):\n{stderr[-4000:]}"
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"checkov printed no JSON report:\n{stdout[-2000:]}\n{stderr[-4000:]}") from None
    assert isinstance(report, dict) and report.get("check_type") == "terraform_json", f"unexpected report: {str(report)[:500]}"
    scan = PolicyScan(parsing_errors=list(report["results"].get("parsing_errors", [])))
    for key, target in (("passed_checks", scan.passed), ("failed_checks", scan.failed)):
        for record in report["results"][key]:
            target.append(
                Finding(
                    stack=Path(record["file_abs_path"]).parent.name,
                    check_id=record["check_id"],
                    check_name=record["check_name"],
                    # Resource checks name "resource.<id>", graph checks "<type>.<id>": the id is unique.
                    resource=record["resource"].rsplit(".", 1)[-1],
                )
            )
    for stack in STACKS:
        synthesized = json.loads((stacks_dir / stack / "cdk.tf.json").read_text())
        for block in ("resource", "data"):
            for elements in synthesized.get(block, {}).values():
                for logical_id, element in elements.items():
                    for skip in element.get("//", {}).get("checkov", {}).get("skip", []):
                        scan.skips[(stack, logical_id, skip["id"])] = skip.get("comment", "")
    return scan
