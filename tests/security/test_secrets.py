"""No secret value in the synthesized Terraform, so none can reach a plan or the state.

The database password and SECRET_KEY_BASE come from *ephemeral* random
passwords into *write-only* arguments; the GitHub credentials start as a placeholder, also write-only; tasks
get every secret by ARN (``valueFrom``). The one credential that does reach a
state is listed in ``IN_STATE_BY_DESIGN`` and in the README's Security section.
"""

from __future__ import annotations

import json
import re

import pytest

from constructs_lib.app_secrets import PLACEHOLDER
from constructs_lib.write_once_secret import SEED_STAGE
from tests.conftest import REPO
from tests.infra.conftest import Synthesized
from tests.security.policy_scan import STACKS

# Data sources whose result holds a credential; Terraform keeps data source results in state.
IN_STATE_BY_DESIGN = {
    "aws_ecr_authorization_token": "the docker provider's 12-hour ECR login, only when the image is built from app/",
}
_SECRET_ARGUMENTS = ("password", "master_password", "secret_string", "secret_binary", "random_password")
_SECRET_LOOKING_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL", re.IGNORECASE)
# Where the app finds the database credentials (read when it connects), not the credentials.
_NAMES_A_SECRET = {"DB_SECRET_ARN", "DB_SECRET_REGION"}


@pytest.fixture(params=["default", "variant"])
def synth(request: pytest.FixtureRequest) -> Synthesized:
    return request.getfixturevalue("synthesized" if request.param == "default" else "variant")


def _walk(value, path=""):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, f"{path}[{index}]")
    else:
        yield path, value


def test_no_argument_carries_a_secret_value(synth: Synthesized) -> None:
    for stack in STACKS:
        for path, _value in _walk(synth.stack(stack).get("resource", {})):
            argument = path.rsplit(".", 1)[-1]
            assert argument not in _SECRET_ARGUMENTS, f"{stack}: {path} would put a secret into state"


def test_secret_versions_are_write_only_ephemeral_or_placeholder(synth: Synthesized) -> None:
    versions = synth.resources("app", "aws_secretsmanager_secret_version")
    assert len(versions) == 3
    values = sorted(v["secret_string_wo"] for v in versions.values())
    assert values == sorted(
        [PLACEHOLDER, PLACEHOLDER, "${ephemeral.aws_secretsmanager_random_password.secret_key_base.random_password}"]
    )
    ephemeral = synth.stack("app")["ephemeral"]["aws_secretsmanager_random_password"]["secret_key_base"]
    assert ephemeral["password_length"] >= 64
    # The ephemeral value is used exactly once: in that write-only argument, nowhere else.
    assert synth.text("app").count("ephemeral.aws_secretsmanager_random_password.") == 1


def test_written_versions_are_never_left_unlabeled(synth: Synthesized) -> None:
    """After two put-secret-value calls the first version has no AWS label, and AWS deletes unlabeled
    versions; the provider would then write the initial value again as AWSCURRENT at the next deploy
    (hashicorp/terraform-provider-aws#37302). A label of our own keeps it."""
    versions = [
        *synth.resources("app", "aws_secretsmanager_secret_version").values(),
        *synth.resources("database", "aws_secretsmanager_secret_version").values(),
    ]
    assert len(versions) == 4
    for version in versions:
        assert version["version_stages"] == ["AWSCURRENT", SEED_STAGE]
        assert version["lifecycle"] == {"ignore_changes": ["version_stages"]}
        assert version["secret_string_wo_version"] == 1


def test_placeholder_is_the_only_literal_secret_value_and_only_in_write_only_arguments(synth: Synthesized) -> None:
    for stack in STACKS:
        hits = [path for path, value in _walk(synth.stack(stack)) if value == PLACEHOLDER]
        assert all(path.endswith(".secret_string_wo") for path in hits), hits


def test_database_password_reaches_only_write_only_arguments(synth: Synthesized) -> None:
    instance = synth.one("database", "aws_db_instance")
    assert "password" not in instance and "manage_master_user_password" not in instance
    text = synth.text("database")
    # Twice: the instance's password_wo and the credentials secret's secret_string_wo.
    assert text.count("ephemeral.aws_secretsmanager_random_password.database_password.random_password") == 2
    (version,) = synth.resources("database", "aws_secretsmanager_secret_version").values()
    assert "database_password" in version["secret_string_wo"] and "database_password" in instance["password_wo"]


def test_no_data_source_reads_a_secret_except_those_documented(synth: Synthesized) -> None:
    for stack in STACKS:
        for type_ in synth.stack(stack).get("data", {}):
            assert type_ not in (
                "aws_secretsmanager_secret_version",
                "aws_secretsmanager_random_password",
                "aws_ssm_parameter",
            ), stack
            if "token" in type_ or "password" in type_ or "secret" in type_:
                assert type_ in IN_STATE_BY_DESIGN, f"{stack}: data.{type_} puts a credential into state"
    security = (REPO / "README.md").read_text().split("## Security", 1)[-1]
    for type_ in IN_STATE_BY_DESIGN:
        assert type_ in security, f"README's Security section must say why {type_} is in state"


def test_tasks_get_secrets_by_arn_never_as_environment(synth: Synthesized) -> None:
    for task in synth.resources("app", "aws_ecs_task_definition").values():
        environment = re.findall(r'\{"name" = "(\w+)", "value" = ', task["container_definitions"])
        secrets = re.findall(r'\{"name" = "(\w+)", "valueFrom" = ', task["container_definitions"])
        assert environment and not [n for n in environment if _SECRET_LOOKING_NAME.search(n) and n not in _NAMES_A_SECRET], (
            environment
        )
        assert sorted(secrets) == ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "SECRET_KEY_BASE"]


def test_outputs_expose_no_secret(synth: Synthesized) -> None:
    for stack in STACKS:
        for name, output in synth.stack(stack).get("output", {}).items():
            value = json.dumps(output.get("value"))
            assert not re.search(r"secret_string|password|random_password|authorization_token", value), f"{stack}: {name}"
