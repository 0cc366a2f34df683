"""Secrets whose first value Terraform writes once, and which the operator owns afterwards.

Two AWS behaviours shape this module:

* **Names outlive a destroy.** A deleted secret waits out its recovery window
  (7 days here outside THROWAWAY), and CreateSecret refuses its name until then
  ("You can't create this secret because a secret with this name is already
  scheduled for deletion"). So names come from ``name_prefix`` (Terraform adds a
  unique suffix): destroy, then deploy again within the week, creates new secrets.
* **Unlabeled versions are deleted.** "Secrets Manager never removes labeled
  versions, but unlabeled versions are considered deprecated" and are removed
  (Secrets Manager user guide, "Versions"). After an operator's second
  ``put-secret-value`` the version Terraform created has neither AWSCURRENT nor
  AWSPREVIOUS; once AWS removes it, the provider drops it from state and the
  next deploy would write the initial value again, as AWSCURRENT
  (hashicorp/terraform-provider-aws#37302). The version Terraform writes
  therefore also carries ``SEED_STAGE``, a label nobody moves, so it is never
  unlabeled; ``version_stages`` is ignored after creation because AWSCURRENT
  moves to the operator's versions by design.

The local emulator removes unlabeled versions at once (stricter than AWS), so
the deploy tests see this fault immediately if the label is ever lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import Fn, TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret, SecretsmanagerSecretReplica
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from constructs_lib.policy_checks import skip_check

SEED_STAGE = "TERRAFORM_SEED"
"""Staging label kept on the version Terraform wrote, so Secrets Manager never deletes it."""

CURRENT_STAGE = "AWSCURRENT"

_KMS_REASON = (
    "Encrypted with the AWS-managed key aws/secretsmanager; read only by this account's roles, by ARN. "
    "A customer-managed key is needed for cross-account access, which nothing here uses"
)


def replica_arn(arn: str, *, source_region: str, region: str) -> str:
    """The ARN of a secret's replica in ``region``: "the same as the primary secret except for the Region"
    (Secrets Manager user guide, "Replicate secrets across Regions"). The provider does not export it."""
    return Fn.replace(arn, f":{source_region}:", f":{region}:")


def ephemeral_password(scope: Construct, name: str, *, provider: AwsProvider, length: int) -> str:
    """A reference to a random password that exists only during one plan or apply.

    An ephemeral resource's value is never stored in the plan or the state; it
    may only flow into write-only arguments (Terraform >= 1.11). Letters and
    digits only: RDS refuses ``/``, ``"``, ``@`` and spaces in a master password.
    cdktf 0.21 has no class for ephemeral resources, so the block is added to the
    synthesized JSON directly and referenced by its Terraform address.
    """
    TerraformStack.of(scope).add_override(
        f"ephemeral.aws_secretsmanager_random_password.{name}",
        {"provider": f"aws.{provider.alias}", "password_length": length, "exclude_punctuation": True},
    )
    return f"ephemeral.aws_secretsmanager_random_password.{name}.random_password"


def write_once_secret(
    scope: Construct,
    id: str,
    *,
    provider: AwsProvider,
    name_prefix: str,
    description: str,
    initial_value: str,
    recovery_window_days: int,
    rotation_note: str,
    replica_regions: Sequence[str] = (),
) -> SecretsmanagerSecret:
    """A secret (``id``) and its first version (``{id}Value``), written once, never overwritten.

    ``replica_regions``: Secrets Manager keeps a read-only copy of the secret in
    each, with every version and label, so tasks there read it in their own
    region even when the primary region is gone; its ARN is the primary's with
    the region replaced (:func:`replica_arn`).

    ``initial_value`` goes to the write-only ``secret_string_wo`` at version 1, so
    it is in no plan and no state; a later deploy sends nothing. ``rotation_note``
    says who rotates the value and how (the policy scan asks for a rotation).
    """
    secret = SecretsmanagerSecret(
        scope,
        id,
        provider=provider,
        name_prefix=name_prefix,
        description=description,
        recovery_window_in_days=recovery_window_days,
        replica=[SecretsmanagerSecretReplica(region=region) for region in replica_regions] or None,
    )
    skip_check(secret, "CKV_AWS_149", _KMS_REASON)
    skip_check(secret, "CKV2_AWS_57", rotation_note)
    SecretsmanagerSecretVersion(
        scope,
        f"{id}Value",
        provider=provider,
        secret_id=secret.id,
        secret_string_wo=initial_value,
        secret_string_wo_version=1,
        version_stages=[CURRENT_STAGE, SEED_STAGE],
        lifecycle=TerraformResourceLifecycle(ignore_changes=["version_stages"]),
    )
    return secret
