"""Policy-scan (checkov) exceptions, written next to the resource they concern, with their reason.

An exception is data in the synthesized JSON, in the form proposed upstream for
CDK for Terraform (bridgecrewio/checkov#4634)::

    "//": {"checkov": {"skip": [{"id": "CKV_AWS_91", "comment": "<why>"}]}}

checkov 3.x's ``terraform_json`` runner does not read it (it reports such a
finding as failed), so ``tests/security`` reconciles checkov's findings with
these entries: a failed check passes review only when its resource carries a
skip for exactly that check, and a skip whose check does not fail is stale.
"""

from __future__ import annotations

import re

from cdktf import TerraformDataSource, TerraformElement, TerraformStack

_CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
_SKIPS_ATTRIBUTE = "_checkov_skips"


def skip_check(element: TerraformElement, check_id: str, reason: str) -> None:
    """Record that ``check_id`` does not apply to ``element``, and why (a sentence a reviewer accepts)."""
    if not _CHECK_ID.match(check_id):
        raise ValueError(f"{check_id!r} is not a checkov check id such as CKV_AWS_91 or CKV2_AWS_28")
    if len(reason.split()) < 4:
        raise ValueError(f"skipping {check_id} needs a reason a reviewer can judge, got {reason!r}")
    skips: list[dict[str, str]] = getattr(element, _SKIPS_ATTRIBUTE, [])
    if any(skip["id"] == check_id for skip in skips):
        raise ValueError(f"{check_id} is already skipped on {element.node.path}")
    skips = [*skips, {"id": check_id, "comment": reason}]
    setattr(element, _SKIPS_ATTRIBUTE, skips)
    if isinstance(element, TerraformDataSource):
        # cdktf writes a data source's "//" block after its overrides; the stack's come last.
        address = f"data.{element.terraform_resource_type}.{element.friendly_unique_id}"
        TerraformStack.of(element).add_override(f"{address}.//.checkov.skip", skips)
    else:
        element.add_override("//.checkov.skip", skips)
