"""One region's copy of the app: Fargate tasks behind that region's load balancer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from cdktf import Fn, Postcondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition, EcsTaskDefinitionRuntimePlatform
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from config.connection_budget import DEPLOYMENT_MAXIMUM_PERCENT
from constructs_lib.iam import Statement, service_role
from constructs_lib.load_balancer import ApplicationLoadBalancer
from constructs_lib.logs import retained_log_group
from constructs_lib.network import ANYWHERE, RegionalNetwork
from constructs_lib.policy_checks import skip_check
from constructs_lib.ports import APP_PORT
from constructs_lib.security_rules import allow_tcp

CONTAINER_NAME = "app"
_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repository>[^:@]+)")


def ecr_repository_arn(image_uri: str) -> str | None:
    """The ECR repository an image URI points into, or None for any other registry."""
    match = _ECR_IMAGE.match(image_uri)
    if match is None:
        return None
    return f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"


class FargateService:
    """The task definition, its roles and log group, the tasks' security group, the service and its autoscaling.

    The tasks register in ``load_balancer``'s target group, which checks their
    health. A failed deployment rolls back by itself (deployment circuit
    breaker) and fails the apply (see ``_deployment_lifecycle``).
    ``autoscaling_max_count`` None runs exactly ``desired_count`` tasks.

    Not a construct of its own: it builds into ``scope`` (``app/PrimaryService``),
    where these resources were created before the service and the load balancer
    were separated, so their Terraform addresses stay as deployed; a new path
    segment would replace the running service.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        provider: AwsProvider,
        name: str,
        cluster: EcsCluster,
        network: RegionalNetwork,
        load_balancer: ApplicationLoadBalancer,
        image_uri: str,
        image_repository_arn: str | None,
        environment: Mapping[str, str],
        secrets: Mapping[str, str],
        secret_arns: Sequence[str],
        task_statements: Sequence[Statement],
        cpu: int,
        memory: int,
        cpu_architecture: str,
        desired_count: int,
        autoscaling_max_count: int | None,
        log_retention_days: int,
    ) -> None:
        self.log_group = retained_log_group(
            scope, "Logs", provider=provider, name=f"/ecs/{name}", retention_days=log_retention_days
        )
        execution_role = service_role(
            scope,
            "ExecutionRole",
            provider=provider,
            name=f"{name}-execution",
            service="ecs-tasks.amazonaws.com",
            statements=_execution_statements(self.log_group, image_uri, image_repository_arn, secret_arns),
        )
        task_role = service_role(
            scope,
            "TaskRole",
            provider=provider,
            name=f"{name}-task",
            service="ecs-tasks.amazonaws.com",
            statements=task_statements,
        )
        self.task_definition = EcsTaskDefinition(
            scope,
            "TaskDefinition",
            provider=provider,
            family=name,
            cpu=str(cpu),
            memory=str(memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=EcsTaskDefinitionRuntimePlatform(operating_system_family="LINUX", cpu_architecture=cpu_architecture),
            execution_role_arn=execution_role.role.arn,
            task_role_arn=task_role.role.arn,
            container_definitions=Fn.jsonencode(
                [
                    {
                        "name": CONTAINER_NAME,
                        "image": image_uri,
                        "essential": True,
                        "portMappings": [{"containerPort": APP_PORT, "hostPort": APP_PORT, "protocol": "tcp"}],
                        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {
                                "awslogs-group": self.log_group.name,
                                "awslogs-region": provider.region,
                                "awslogs-stream-prefix": CONTAINER_NAME,
                            },
                        },
                    }
                ]
            ),
        )
        self.security_group = self._security_group(scope, provider, name, network, load_balancer)
        self.service = EcsService(
            scope,
            "Service",
            provider=provider,
            name=name,
            cluster=cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=[subnet.id for subnet in network.app_subnets],
                security_groups=[self.security_group.id],
                assign_public_ip=network.tasks_need_public_ip,
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=load_balancer.target_group.arn, container_name=CONTAINER_NAME, container_port=APP_PORT
                )
            ],
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            # Also in the database connection budget: a rolling deploy runs old and new tasks side by side.
            deployment_maximum_percent=DEPLOYMENT_MAXIMUM_PERCENT,
            health_check_grace_period_seconds=60,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # `terraform apply` returns once the tasks run (see _deployment_lifecycle).
            wait_for_steady_state=True,
            # The first tasks start as soon as the service exists: the target group
            # must be behind a listener, ECS must be able to pull the image, read
            # the secrets and write logs (execution role policy), and the app to
            # reach S3 (task role policy) by then.
            depends_on=[
                *load_balancer.listeners,
                *(role.policy for role in (execution_role, task_role) if role.policy is not None),
            ],
            lifecycle=_deployment_lifecycle(self.task_definition, autoscaling=autoscaling_max_count is not None),
        )
        if network.tasks_need_public_ip:
            skip_check(
                self.service,
                "CKV_AWS_333",
                "NAT_MODE=none (the default, as the original): without a NAT gateway tasks reach ECR, Secrets "
                f"Manager and GitHub through a public IP; their security group admits only port {APP_PORT} from the "
                "load balancer. NAT_MODE=single or per_az keeps tasks private",
            )
        if autoscaling_max_count is not None:
            self._autoscaling(scope, provider, name, cluster, min_count=desired_count, max_count=autoscaling_max_count)

    def _security_group(
        self,
        scope: Construct,
        provider: AwsProvider,
        name: str,
        network: RegionalNetwork,
        load_balancer: ApplicationLoadBalancer,
    ) -> SecurityGroup:
        """The tasks admit the app port from the load balancer only, which may send to nothing else."""
        group = SecurityGroup(
            scope,
            "TaskSecurityGroup",
            provider=provider,
            name=f"{name}-tasks",
            description="The app port from the load balancer only",
            vpc_id=network.vpc.id,
            tags={"Name": f"{name}-tasks"},
        )
        allow_tcp(
            scope,
            "LoadBalancerToTasks",
            provider=provider,
            group=load_balancer.security_group,
            direction="out",
            port=APP_PORT,
            description="To the app port of the tasks",
            peer=group,
        )
        allow_tcp(
            scope,
            "TasksFromLoadBalancer",
            provider=provider,
            group=group,
            direction="in",
            port=APP_PORT,
            description="The app port from the load balancer",
            peer=load_balancer.security_group,
        )
        VpcSecurityGroupEgressRule(
            scope,
            "TasksOut",
            provider=provider,
            security_group_id=group.id,
            description="All traffic to any IPv4 address (AWS APIs and GitHub over HTTPS, PostgreSQL in both VPCs)",
            ip_protocol="-1",
            cidr_ipv4=ANYWHERE,
        )
        return group

    def _autoscaling(
        self, scope: Construct, provider: AwsProvider, name: str, cluster: EcsCluster, *, min_count: int, max_count: int
    ) -> None:
        """Target tracking on the service's average CPU, between the desired and the maximum count."""
        target = AppautoscalingTarget(
            scope,
            "ScalingTarget",
            provider=provider,
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{cluster.name}/{self.service.name}",
            min_capacity=min_count,
            max_capacity=max_count,
        )
        AppautoscalingPolicy(
            scope,
            "CpuScaling",
            provider=provider,
            name=f"{name}-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=60,
                scale_in_cooldown=120,
                scale_out_cooldown=60,
                predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type="ECSServiceAverageCPUUtilization"
                ),
            ),
        )


def _deployment_lifecycle(task_definition: EcsTaskDefinition, *, autoscaling: bool) -> TerraformResourceLifecycle:
    """A deploy succeeds only when the new revision runs; autoscaling owns the running count.

    With ``wait_for_steady_state`` the provider (hashicorp/aws 5.100) polls
    until the service has one deployment and as many running tasks as
    desired; a deployment whose tasks keep crashing does not get there and
    the apply fails when the wait times out. When the circuit breaker rolls
    a deployment back, the previous revision *is* steady and the provider
    alone would report success (hashicorp/terraform-provider-aws#20858);
    the service's task definition is then the previous one, so the
    postcondition fails the apply (as terraform-aws-modules/terraform-aws-ecs#325
    proposes). Left open by that provider: the counts are sampled, so a
    task RUNNING for a moment between crashes can pass one sample; newer
    provider releases wait on the deployment's own rollout state.
    """
    return TerraformResourceLifecycle(
        ignore_changes=["desired_count"] if autoscaling else None,
        postcondition=[
            Postcondition(
                condition=f"${{self.task_definition == {task_definition.arn}}}",
                error_message="The service did not reach a steady state on the new task definition: the deployment "
                "circuit breaker rolled it back. See the service's events and the tasks' stopped reasons and logs.",
            )
        ],
    )


def _execution_statements(
    log_group: CloudwatchLogGroup, image_uri: str, repository_arn: str | None, secret_arns: Sequence[str]
) -> list[Statement]:
    """What ECS needs to start a task: pull the image, write its logs, read its secrets."""
    statements: list[Statement] = [
        {"actions": ["logs:CreateLogStream", "logs:PutLogEvents"], "resources": [f"{log_group.arn}:*"]},
        {"actions": ["secretsmanager:GetSecretValue"], "resources": list(secret_arns)},
    ]
    repository_arn = repository_arn or ecr_repository_arn(image_uri)
    if repository_arn is not None:
        statements += [
            # GetAuthorizationToken is account-wide by AWS's design: it names no repository.
            {"actions": ["ecr:GetAuthorizationToken"], "resources": ["*"]},
            {
                "actions": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                "resources": [repository_arn],
            },
        ]
    return statements
