"""Least privilege, read from the synthesized Terraform of both configurations.

Security groups: the load balancer admits 80 (and 443 with HTTPS) from anywhere,
the tasks admit 4000 from their own load balancer only, the database admits 5432
from the app subnets of both regions only; nothing else comes in. IAM: every
role is assumable by one service, allows no wildcard action, names every
resource by ARN except where AWS's API takes none (listed below, with why).
"""

from __future__ import annotations

import re

import pytest

from config import DeploymentConfig
from constructs_lib.network import carve_subnets
from tests.infra.conftest import Synthesized
from tests.security.policy_scan import STACKS

# Actions whose API names no resource, so "*" is their only possible resource.
ACCOUNT_WIDE_ACTIONS = {
    "ecr:GetAuthorizationToken": "returns a registry login token for the account; it takes no repository",
}
_REFERENCE = re.compile(r"^\$\{aws_security_group\.(\w+)\.id\}$")


@pytest.fixture(params=["default", "variant"])
def deployment(request: pytest.FixtureRequest) -> tuple[Synthesized, DeploymentConfig]:
    name = request.param
    return request.getfixturevalue("synthesized" if name == "default" else "variant"), request.getfixturevalue(f"{name}_config")


def _groups(synth: Synthesized, stack: str) -> dict[str, str]:
    """Logical id -> name of every security group in ``stack``."""
    return {logical: group["name"] for logical, group in synth.resources(stack, "aws_security_group").items()}


def _group_of(rule: dict) -> str:
    match = _REFERENCE.match(rule["security_group_id"])
    assert match, rule["security_group_id"]
    return match[1]


def test_no_inline_or_legacy_rules_and_no_ipv6_anywhere(deployment: tuple[Synthesized, DeploymentConfig]) -> None:
    synth, _ = deployment
    for stack in STACKS:
        assert not synth.resources(stack, "aws_security_group_rule"), stack
        for group in synth.resources(stack, "aws_security_group").values():
            assert "ingress" not in group and "egress" not in group, group["name"]
        for rule in synth.resources(stack, "aws_vpc_security_group_ingress_rule").values():
            assert "cidr_ipv6" not in rule and "prefix_list_id" not in rule, rule


def test_load_balancers_admit_only_http_and_https(deployment: tuple[Synthesized, DeploymentConfig]) -> None:
    synth, config = deployment
    groups = _groups(synth, "app")
    ports = [80, 443] if config.https_enabled else [80]
    for role in ("primary", "secondary"):
        rules = [
            r
            for r in synth.resources("app", "aws_vpc_security_group_ingress_rule").values()
            if groups[_group_of(r)] == f"{config.project_name}-{role}-alb"
        ]
        assert sorted((r["ip_protocol"], r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in rules) == [
            ("tcp", port, port, "0.0.0.0/0") for port in ports
        ]


def test_tasks_admit_only_the_app_port_from_their_own_load_balancer(deployment: tuple[Synthesized, DeploymentConfig]) -> None:
    synth, config = deployment
    groups = _groups(synth, "app")
    by_name = {name: logical for logical, name in groups.items()}
    for role in ("primary", "secondary"):
        rules = [
            r
            for r in synth.resources("app", "aws_vpc_security_group_ingress_rule").values()
            if groups[_group_of(r)] == f"{config.project_name}-{role}-tasks"
        ]
        assert len(rules) == 1
        (rule,) = rules
        assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 4000, 4000)
        assert "cidr_ipv4" not in rule
        assert (
            rule["referenced_security_group_id"] == f"${{aws_security_group.{by_name[f'{config.project_name}-{role}-alb']}.id}}"
        )
    load_balancer_egress = [
        r for r in synth.resources("app", "aws_vpc_security_group_egress_rule").values() if groups[_group_of(r)].endswith("-alb")
    ]
    assert {(r["from_port"], r["to_port"]) for r in load_balancer_egress} == {(4000, 4000)}
    assert all("referenced_security_group_id" in r and "cidr_ipv4" not in r for r in load_balancer_egress)


def test_only_the_rules_above_exist(deployment: tuple[Synthesized, DeploymentConfig]) -> None:
    """Every ingress rule of every stack: public HTTP(S), the app port, PostgreSQL from app subnets; nothing more."""
    synth, config = deployment
    ingress_ports = {
        stack: sorted(r["from_port"] for r in synth.resources(stack, "aws_vpc_security_group_ingress_rule").values())
        for stack in STACKS
    }
    public = [80, 443] if config.https_enabled else [80]
    assert ingress_ports == {
        "bootstrap": [],
        "foundation": [],
        "database": [5432] * 2 * config.az_count,
        "app": sorted([*public, 4000] * 2),
        "routing": [],
    }


def test_database_admits_exactly_the_app_subnets_of_both_regions(deployment: tuple[Synthesized, DeploymentConfig]) -> None:
    synth, config = deployment
    expected = sorted(
        [
            *carve_subnets(config.primary_vpc_cidr, config.az_count)["app"],
            *carve_subnets(config.secondary_vpc_cidr, config.az_count)["app"],
        ]
    )
    rules = synth.resources("database", "aws_vpc_security_group_ingress_rule").values()
    assert sorted(r["cidr_ipv4"] for r in rules) == expected
    assert {(r["ip_protocol"], r["from_port"], r["to_port"]) for r in rules} == {("tcp", 5432, 5432)}
    assert synth.one("database", "aws_db_instance")["publicly_accessible"] is False


def _documents(synth: Synthesized) -> dict[str, dict]:
    return {
        f"{stack}.{name}": doc
        for stack in STACKS
        for name, doc in synth.stack(stack).get("data", {}).get("aws_iam_policy_document", {}).items()
    }


def test_no_wildcard_actions_and_no_star_resource_without_a_reason(deployment: tuple[Synthesized, DeploymentConfig]) -> None:
    synth, _ = deployment
    for name, document in _documents(synth).items():
        for statement in document["statement"]:
            assert statement.get("effect", "Allow") == "Allow", name
            assert "not_actions" not in statement and "not_resources" not in statement, name
            for action in statement.get("actions", []):
                assert "*" not in action, f"{name}: wildcard action {action}"
            if "*" in statement.get("resources", []):
                unexplained = set(statement["actions"]) - ACCOUNT_WIDE_ACTIONS.keys()
                assert not unexplained, f"{name}: {sorted(unexplained)} on '*' without a reason in ACCOUNT_WIDE_ACTIONS"


def test_roles_are_assumable_by_one_service_each_and_have_only_inline_policies(
    deployment: tuple[Synthesized, DeploymentConfig],
) -> None:
    synth, _ = deployment
    documents = _documents(synth)
    for stack in STACKS:
        assert not synth.resources(stack, "aws_iam_role_policy_attachment"), stack
        assert not synth.resources(stack, "aws_iam_policy"), stack
        for role in synth.resources(stack, "aws_iam_role").values():
            trust = documents[f"{stack}.{role['assume_role_policy'].split('.')[2]}"]
            (statement,) = trust["statement"]
            assert statement["actions"] == ["sts:AssumeRole"]
            (principal,) = statement["principals"]
            assert principal["type"] == "Service" and len(principal["identifiers"]) == 1, role["name"]


def test_execution_roles_read_exactly_the_app_secrets_and_their_own_log_group(
    deployment: tuple[Synthesized, DeploymentConfig],
) -> None:
    synth, config = deployment
    app = synth.stack("app")
    documents = app["data"]["aws_iam_policy_document"]
    secrets = {f"${{aws_secretsmanager_secret.{logical}.arn}}" for logical in synth.resources("app", "aws_secretsmanager_secret")}
    assert len(secrets) == 3
    log_groups = {group["provider"]: logical for logical, group in synth.resources("app", "aws_cloudwatch_log_group").items()}
    repository = (
        f"${{aws_ecr_repository.{next(iter(synth.resources('app', 'aws_ecr_repository')))}.arn}}"
        if config.app_image is None
        else "arn:aws:ecr:eu-west-2:123456789012:repository/livebeats/app"
    )
    for role, provider in (("PrimaryService", "aws.primary"), ("SecondaryService", "aws.secondary")):
        (permissions,) = [d for name, d in documents.items() if name.startswith(f"{role}_ExecutionRolePermissions")]
        statements = {tuple(s["actions"]): s["resources"] for s in permissions["statement"]}
        assert statements.pop(("logs:CreateLogStream", "logs:PutLogEvents")) == [
            f"${{aws_cloudwatch_log_group.{log_groups[provider]}.arn}}:*"
        ]
        # The database credentials are the task role's to read (the app reads them when it connects).
        assert set(statements.pop(("secretsmanager:GetSecretValue",))) == secrets
        assert statements.pop(("ecr:GetAuthorizationToken",)) == ["*"]
        assert statements.pop(("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")) == [
            repository
        ]
        assert not statements, f"{role} execution role has more: {statements}"


def test_task_roles_touch_only_the_songs_and_the_database_credentials(variant: Synthesized) -> None:
    """The built-image variant too (tests/infra/test_app.py covers the default)."""
    songs = next(iter(variant.resources("app", "aws_s3_bucket")))
    documents = variant.stack("app")["data"]["aws_iam_policy_document"]
    task_documents = [d for name, d in documents.items() if "_TaskRolePermissions" in name]
    assert len(task_documents) == 2
    for document in task_documents:
        assert [(sorted(s["actions"]), s["resources"]) for s in document["statement"]] == [
            (["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [f"${{aws_s3_bucket.{songs}.arn}}/songs/*"]),
            (["s3:ListBucket"], [f"${{aws_s3_bucket.{songs}.arn}}"]),
            (["secretsmanager:GetSecretValue"], [document["statement"][2]["resources"][0]]),
        ]
        assert re.fullmatch(
            r"\$\{data\.terraform_remote_state\.[^}]+Credentials[^}]+arn\}", document["statement"][2]["resources"][0]
        )


def test_flow_log_roles_write_only_their_own_log_group(synthesized: Synthesized) -> None:
    documents = synthesized.stack("foundation")["data"]["aws_iam_policy_document"]
    groups = synthesized.resources("foundation", "aws_cloudwatch_log_group")
    for network in ("PrimaryNetwork", "SecondaryNetwork"):
        (group,) = [logical for logical in groups if logical.startswith(f"{network}_FlowLogGroup")]
        (document,) = [d for name, d in documents.items() if name.startswith(f"{network}_FlowLogRolePermissions")]
        (statement,) = document["statement"]
        assert statement["resources"] == [
            f"${{aws_cloudwatch_log_group.{group}.arn}}",
            f"${{aws_cloudwatch_log_group.{group}.arn}}:*",
        ]
