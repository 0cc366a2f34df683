"""app: per-region Fargate service behind an ALB, secrets by ARN, songs bucket, image source."""

from __future__ import annotations

import re

from cdktf import Testing

from config.connection_budget import DEPLOYMENT_MAXIMUM_PERCENT
from tests.infra.conftest import PREBUILT_IMAGE, Synthesized

REGIONS = {"aws.primary": "eu-west-2", "aws.secondary": "us-west-2"}


def test_one_cluster_service_and_load_balancer_per_region(synthesized: Synthesized) -> None:
    for type_ in ("aws_ecs_cluster", "aws_ecs_service", "aws_lb", "aws_lb_target_group", "aws_cloudwatch_log_group"):
        providers = sorted(r["provider"] for r in synthesized.resources("app", type_).values())
        assert providers == ["aws.primary", "aws.secondary"], type_


def test_service_rolls_back_failed_deployments_and_runs_the_configured_count(synthesized: Synthesized) -> None:
    assert Testing.to_have_resource_with_properties(
        synthesized.text("app"),
        "aws_ecs_service",
        {
            "launch_type": "FARGATE",
            "desired_count": 1,
            "deployment_circuit_breaker": {"enable": True, "rollback": True},
            "health_check_grace_period_seconds": 60,
        },
    )
    for service in synthesized.resources("app", "aws_ecs_service").values():
        assert service["network_configuration"]["assign_public_ip"] is True  # NAT_MODE=none
        assert service["load_balancer"][0]["container_port"] == 4000


def test_deploy_waits_for_running_tasks_of_the_new_revision(synthesized: Synthesized, variant: Synthesized) -> None:
    """`apply` returns once the tasks run, and fails when the circuit breaker rolled the new revision back."""
    for synth in (synthesized, variant):
        definitions = synth.resources("app", "aws_ecs_task_definition")
        for name, service in synth.resources("app", "aws_ecs_service").items():
            assert service["wait_for_steady_state"] is True, name
            (postcondition,) = service["lifecycle"]["postcondition"]
            match = re.fullmatch(
                r"\$\{self\.task_definition == aws_ecs_task_definition\.(\w+)\.arn\}", postcondition["condition"]
            )
            assert match and service["task_definition"] == f"${{aws_ecs_task_definition.{match[1]}.arn}}", postcondition
            assert definitions[match[1]]["provider"] == service["provider"]
            assert "rolled it back" in postcondition["error_message"]


def test_first_tasks_start_only_once_both_role_policies_exist(synthesized: Synthesized) -> None:
    """The task definition names the roles, not their policies: without depends_on ECS could start tasks that cannot pull, read secrets or log."""
    policies = synthesized.resources("app", "aws_iam_role_policy")
    for name, service in synthesized.resources("app", "aws_ecs_service").items():
        prefix = name.split("_", 1)[0]  # PrimaryService / SecondaryService
        waited = {
            dependency.split(".", 1)[1] for dependency in service["depends_on"] if dependency.startswith("aws_iam_role_policy.")
        }
        mine = {p for p in policies if p.startswith(f"{prefix}_ExecutionRolePolicy") or p.startswith(f"{prefix}_TaskRolePolicy")}
        assert len(mine) == 2 and waited == mine, (name, waited, mine)


def test_rolling_deploys_run_at_most_twice_the_tasks(synthesized: Synthesized) -> None:
    """The database connection budget counts on this ceiling."""
    for service in synthesized.resources("app", "aws_ecs_service").values():
        assert (service["deployment_maximum_percent"], service["deployment_minimum_healthy_percent"]) == (
            DEPLOYMENT_MAXIMUM_PERCENT,
            100,
        )


def test_tasks_stay_private_behind_nat(variant: Synthesized) -> None:
    for service in variant.resources("app", "aws_ecs_service").values():
        assert service["network_configuration"]["assign_public_ip"] is False
        assert service["desired_count"] == 2


def test_target_group_health_check_is_signin(synthesized: Synthesized) -> None:
    assert Testing.to_have_resource_with_properties(
        synthesized.text("app"),
        "aws_lb_target_group",
        {"target_type": "ip", "port": 4000, "protocol": "HTTP", "health_check": {"path": "/signin", "matcher": "200"}},
    )


def test_http_only_without_certificates(synthesized: Synthesized) -> None:
    listeners = synthesized.resources("app", "aws_lb_listener").values()
    assert sorted((lis["port"], lis["protocol"], lis["default_action"][0]["type"]) for lis in listeners) == [
        (80, "HTTP", "forward"),
        (80, "HTTP", "forward"),
    ]


def test_https_with_certificates_and_http_redirects(variant: Synthesized) -> None:
    listeners = list(variant.resources("app", "aws_lb_listener").values())
    https = [lis for lis in listeners if lis["port"] == 443]
    assert len(https) == 2
    assert {lis["certificate_arn"].split(":")[3] for lis in https} == {"eu-west-2", "us-west-2"}
    assert all(lis["ssl_policy"].startswith("ELBSecurityPolicy-TLS13") for lis in https)
    http = [lis for lis in listeners if lis["port"] == 80]
    assert all(lis["default_action"][0]["redirect"]["protocol"] == "HTTPS" for lis in http)
    for task in variant.resources("app", "aws_ecs_task_definition").values():
        assert '{"name" = "SECURE_COOKIES", "value" = "true"}' in task["container_definitions"]


def test_public_listening_reaches_the_tasks_only_when_asked_for(synthesized: Synthesized, variant: Synthesized) -> None:
    """PUBLIC_PROFILES is the app's setting too: the deployment passes it on, and off means absent (the app's default)."""
    for task in variant.resources("app", "aws_ecs_task_definition").values():
        assert '{"name" = "PUBLIC_PROFILES", "value" = "true"}' in task["container_definitions"]
    for task in synthesized.resources("app", "aws_ecs_task_definition").values():
        assert "PUBLIC_PROFILES" not in task["container_definitions"]


def test_load_balancers_are_reached_only_through_the_accelerator_and_drop_invalid_headers(synthesized: Synthesized) -> None:
    """Internal: no public addresses, no direct traffic; the accelerator is the only way in."""
    for lb in synthesized.resources("app", "aws_lb").values():
        assert lb["internal"] is True
        assert lb["drop_invalid_header_fields"] is True
        assert lb["enable_deletion_protection"] is True


def test_container_insights_only_when_asked_for(synthesized: Synthesized, variant: Synthesized) -> None:
    """Off by default: it costs more than it tells for a one-task service (README, What it costs)."""
    for synth, expected in ((synthesized, "disabled"), (variant, "enabled")):
        for cluster in synth.resources("app", "aws_ecs_cluster").values():
            assert cluster["setting"] == [{"name": "containerInsights", "value": expected}]


def test_task_environment_and_secrets(synthesized: Synthesized) -> None:
    for task in synthesized.resources("app", "aws_ecs_task_definition").values():
        expression = task["container_definitions"]
        region = REGIONS[task["provider"]]
        assert f'{{"name" = "AWS_REGION", "value" = "{region}"}}' in expression
        assert '{"name" = "PRIMARY_REGION", "value" = "eu-west-2"}' in expression
        assert '{"name" = "POOL_SIZE", "value" = "5"}' in expression
        assert '"containerPort" = 4000' in expression
        assert re.search(r'"name" = "DB_HOST", "value" = data\.terraform_remote_state\.[^}]*address', expression)
        for name in ("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "SECRET_KEY_BASE"):
            assert re.search(rf'"name" = "{name}", "valueFrom" = aws_secretsmanager_secret\.\w+\.arn', expression), name
        # Database credentials are read by the app when it connects, never injected at start.
        assert "DB_USERNAME" not in expression and "DB_PASSWORD" not in expression
        assert re.search(
            r'"name" = "DB_SECRET_ARN", "value" = data\.terraform_remote_state\.[^}]*Credentials_\w+arn\}', expression
        )
        assert '{"name" = "DB_SECRET_REGION", "value" = "eu-west-2"}' in expression
        assert '{"name" = "DB_SSLMODE", "value" = "verify-full"}' in expression
        public = "10.0.0.0/20,10.0.16.0/20" if region == "eu-west-2" else "10.1.0.0/20,10.1.16.0/20"
        assert f'{{"name" = "FORWARDED_ALLOW_IPS", "value" = "{public}"}}' in expression  # only the ALB's subnets
        assert f'"image" = "{PREBUILT_IMAGE}"' in expression
        assert "SECURE_COOKIES" not in expression  # plain HTTP: a Secure cookie would never come back
        assert task["cpu"] == "256" and task["memory"] == "512"


def test_secrets_exist_once_in_the_primary_and_never_hold_values_in_terraform(synthesized: Synthesized) -> None:
    secrets = synthesized.resources("app", "aws_secretsmanager_secret")
    # Unique names: a destroyed secret's name stays taken for its 7-day recovery window.
    assert sorted(s["name_prefix"] for s in secrets.values()) == [
        "livebeats/github-client-id-",
        "livebeats/github-client-secret-",
        "livebeats/secret-key-base-",
    ]
    assert not any("name" in s for s in secrets.values())
    assert {s["recovery_window_in_days"] for s in secrets.values()} == {7}
    assert {s["provider"] for s in secrets.values()} == {"aws.primary"}
    key_base = [
        v for v in synthesized.resources("app", "aws_secretsmanager_secret_version").values() if "SecretKeyBase" in v["secret_id"]
    ]
    assert key_base[0]["secret_string_wo"].startswith("${ephemeral.aws_secretsmanager_random_password.")


def test_execution_role_reads_exactly_its_secrets_by_arn(synthesized: Synthesized) -> None:
    documents = synthesized.stack("app")["data"]["aws_iam_policy_document"]
    for role in ("PrimaryService", "SecondaryService"):
        permissions = next(d for name, d in documents.items() if name.startswith(f"{role}_ExecutionRolePermissions"))
        statements = {tuple(s["actions"]): s["resources"] for s in permissions["statement"]}
        secrets = statements[("secretsmanager:GetSecretValue",)]
        assert len(secrets) == 3 and not any(r == "*" for r in secrets)
        assert statements[("logs:CreateLogStream", "logs:PutLogEvents")][0].endswith(".arn}:*")
        assert statements[("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")] == [
            "arn:aws:ecr:eu-west-2:123456789012:repository/livebeats/app"
        ]


def test_task_role_touches_the_songs_and_reads_the_database_credentials(synthesized: Synthesized) -> None:
    """Objects under songs/, listing the songs bucket (the cleaner; 404 rather than 403 for a deleted
    song), and the database credentials the app reads whenever it connects."""
    documents = synthesized.stack("app")["data"]["aws_iam_policy_document"]
    for role in ("PrimaryService", "SecondaryService"):
        permissions = next(d for name, d in documents.items() if name.startswith(f"{role}_TaskRolePermissions"))
        objects, listing, credentials = permissions["statement"]
        assert sorted(objects["actions"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
        (resource,) = objects["resources"]
        assert re.fullmatch(r"\$\{aws_s3_bucket\.Songs_\w+\.arn\}/songs/\*", resource), resource
        assert listing["actions"] == ["s3:ListBucket"]
        assert listing["resources"] == [resource.removesuffix("/songs/*")]
        assert credentials["actions"] == ["secretsmanager:GetSecretValue"]
        assert re.fullmatch(r"\$\{data\.terraform_remote_state\.[^}]+Credentials[^}]+arn\}", credentials["resources"][0])


def test_songs_bucket_is_private_and_encrypted(synthesized: Synthesized) -> None:
    bucket = synthesized.one("app", "aws_s3_bucket")
    assert bucket["bucket_prefix"] == "livebeats-songs-"
    block = synthesized.one("app", "aws_s3_bucket_public_access_block")
    assert all(
        block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert (
        synthesized.one("app", "aws_s3_bucket_server_side_encryption_configuration")["rule"][0][
            "apply_server_side_encryption_by_default"
        ]["sse_algorithm"]
        == "AES256"
    )


def test_prebuilt_image_needs_no_docker_provider(synthesized: Synthesized) -> None:
    app = synthesized.stack("app")
    assert "docker" not in app["provider"]
    assert "docker" not in app["terraform"]["required_providers"]
    assert "aws_ecr_repository" not in app["resource"]


def test_without_app_image_the_app_is_built_and_pushed_to_ecr(variant: Synthesized) -> None:
    app = variant.stack("app")
    repository = variant.one("app", "aws_ecr_repository")
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"]["scan_on_push"] is True
    image = variant.one("app", "docker_image")
    assert image["build"]["context"].endswith("/app")
    tag = image["name"].rsplit(":", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{16}", tag)
    assert variant.one("app", "docker_registry_image")["name"].startswith("${docker_image.")
    assert app["terraform"]["required_providers"]["docker"]["source"] == "kreuzwerker/docker"
    for task in variant.resources("app", "aws_ecs_task_definition").values():
        assert "docker_registry_image." in task["container_definitions"]


def test_autoscaling_between_desired_and_max_count(synthesized: Synthesized, variant: Synthesized) -> None:
    targets = synthesized.resources("app", "aws_appautoscaling_target").values()
    assert sorted((t["min_capacity"], t["max_capacity"], t["provider"]) for t in targets) == [
        (1, 2, "aws.primary"),
        (1, 2, "aws.secondary"),
    ]
    assert not variant.resources("app", "aws_appautoscaling_target")  # MAX_COUNT == DESIRED_COUNT: off
