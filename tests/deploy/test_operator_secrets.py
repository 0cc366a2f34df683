"""What an operator puts in a secret survives the next deploy (issue 10, fault 2).

After two ``put-secret-value``s the version Terraform created has no
AWSCURRENT or AWSPREVIOUS label; Secrets Manager deletes unlabeled versions
(the emulator at once), and a provider that lost its version writes the
initial value again, as AWSCURRENT (hashicorp/terraform-provider-aws#37302):
the GitHub OAuth app would be unconfigured, and a new SECRET_KEY_BASE would
sign every user out. The operator's values must still be current after the
next deploy, and the plan must be clean.
"""

from __future__ import annotations

from typing import Any

OPERATOR_SECRETS = ("GITHUB_CLIENT_ID", "SECRET_KEY_BASE")


def injected_secret_arns(deployment: Any) -> dict[str, str]:
    """The secrets the primary region's task definition injects, by variable name."""
    ecs = deployment.client("ecs", deployment.config.primary_region)
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (service,) = ecs.describe_services(cluster=cluster, services=ecs.list_services(cluster=cluster)["serviceArns"])["services"]
    (container,) = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"][
        "containerDefinitions"
    ]
    return {secret["name"]: ":".join(secret["valueFrom"].split(":")[:7]) for secret in container["secrets"]}


def test_operator_values_survive_a_deploy(deployment: Any) -> None:
    arns = injected_secret_arns(deployment)
    assert deployment.output("app", "github_client_id_secret_arn") == arns["GITHUB_CLIENT_ID"]
    secrets = deployment.client("secretsmanager", deployment.config.primary_region)
    for name in OPERATOR_SECRETS:
        for attempt in (1, 2):
            secrets.put_secret_value(SecretId=arns[name], SecretString=f"operator-{name}-{attempt}")
        versions = secrets.list_secret_version_ids(SecretId=arns[name])["Versions"]
        assert all(version["VersionStages"] for version in versions), "the emulator keeps no unlabeled version"

    deployment.make("deploy-after-operator-secrets", "deploy")

    current = {name: secrets.get_secret_value(SecretId=arns[name])["SecretString"] for name in OPERATOR_SECRETS}
    assert current == {name: f"operator-{name}-2" for name in OPERATOR_SECRETS}
    returncode, output = deployment.plan("app")
    assert returncode == 0, f"the app stack's plan shows changes after the operator's puts:\n{output[-4000:]}"
