"""IAM roles for AWS services, with least-privilege inline policies written as data.

Statements are plain ``{"actions": [...], "resources": [...]}`` dicts here and are
converted to the provider's struct classes in one place: a list of structs given
to jsii as snake_case dicts silently synthesizes as ``[{}]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct


class Statement(TypedDict):
    """One Allow statement: what may be done to which ARNs."""

    actions: list[str]
    resources: list[str]


@dataclass(frozen=True)
class ServiceRole:
    """A role and its inline policy (None when the role is allowed nothing).

    Whatever the service does with the role's permissions must depend on
    ``policy``, not only on ``role``: Terraform may create the role, hand its ARN
    on, and attach the policy later (they are separate resources).
    """

    role: IamRole
    policy: IamRolePolicy | None


def policy_document(
    scope: Construct, id: str, *, provider: AwsProvider, statements: Sequence[Statement]
) -> DataAwsIamPolicyDocument:
    """An Allow-only policy document from plain statements."""
    return DataAwsIamPolicyDocument(
        scope,
        id,
        provider=provider,
        statement=[
            DataAwsIamPolicyDocumentStatement(effect="Allow", actions=s["actions"], resources=s["resources"]) for s in statements
        ],
    )


def service_role(
    scope: Construct,
    id: str,
    *,
    provider: AwsProvider,
    name: str,
    service: str,
    statements: Sequence[Statement],
) -> ServiceRole:
    """A role that only ``service`` may assume, allowed exactly ``statements``."""
    trust = DataAwsIamPolicyDocument(
        scope,
        f"{id}Trust",
        provider=provider,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRole"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
            )
        ],
    )
    role = IamRole(scope, id, provider=provider, name=name, assume_role_policy=trust.json)
    if not statements:
        return ServiceRole(role=role, policy=None)
    permissions = policy_document(scope, f"{id}Permissions", provider=provider, statements=statements)
    policy = IamRolePolicy(scope, f"{id}Policy", provider=provider, name=f"{name}-policy", role=role.id, policy=permissions.json)
    return ServiceRole(role=role, policy=policy)
