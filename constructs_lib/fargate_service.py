"""One region's copy of the app: an internet-facing load balancer in front of Fargate tasks."""

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
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition, EcsTaskDefinitionRuntimePlatform
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction, LbListenerDefaultActionRedirect
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from config import DeploymentConfig
from config.connection_budget import DEPLOYMENT_MAXIMUM_PERCENT
from constructs_lib.iam import Statement, service_role
from constructs_lib.logs import retained_log_group
from constructs_lib.network import ANYWHERE, RegionalNetwork
from constructs_lib.policy_checks import skip_check
from constructs_lib.ports import APP_PORT, HTTP_PORT, HTTPS_PORT
from constructs_lib.security_rules import allow_tcp

CONTAINER_NAME = "app"
HEALTH_CHECK_PATH = "/signin"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
_HTTP_UNTIL_CERTIFICATES = (
    "HTTP only until PRIMARY_CERTIFICATE_ARN and SECONDARY_CERTIFICATE_ARN are set (the accelerator's DNS "
    "name has no certificate); with them the ALB serves HTTPS (TLS 1.2+) and redirects HTTP to it"
)
_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repository>[^:@]+)")


def ecr_repository_arn(image_uri: str) -> str | None:
    """The ECR repository an image URI points into, or None for any other registry."""
    match = _ECR_IMAGE.match(image_uri)
    if match is None:
        return None
    return f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"


class LoadBalancedFargateService(Construct):
    """ECS cluster, task definition, service, ALB and target group, roles and security groups.

    Health checks hit ``GET /signin``, which the app answers without touching
    the database, so a slow database never takes every task out of rotation.
    A failed deployment rolls back by itself (deployment circuit breaker).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        config: DeploymentConfig,
        name: str,
        network: RegionalNetwork,
        image_uri: str,
        image_repository_arn: str | None,
        environment: Mapping[str, str],
        secrets: Mapping[str, str],
        secret_arns: Sequence[str],
        task_statements: Sequence[Statement],
        certificate_arn: str | None,
    ) -> None:
        super().__init__(scope, id)
        self.cluster = EcsCluster(
            self,
            "Cluster",
            provider=provider,
            name=name,
            setting=[EcsClusterSetting(name="containerInsights", value="enabled" if config.container_insights else "disabled")],
        )
        if not config.container_insights:
            skip_check(
                self.cluster,
                "CKV_AWS_65",
                "CONTAINER_INSIGHTS=false by default: its per-task metrics cost about $11 a month per cluster (37 "
                "billed metrics) for a one-task service, while autoscaling and the service's CPU and memory metrics "
                "are free without it; CONTAINER_INSIGHTS=true turns it on",
            )
        self.log_group = retained_log_group(
            self, "Logs", provider=provider, name=f"/ecs/{name}", retention_days=config.log_retention_days
        )
        execution_role = service_role(
            self,
            "ExecutionRole",
            provider=provider,
            name=f"{name}-execution",
            service="ecs-tasks.amazonaws.com",
            statements=self._execution_statements(image_uri, image_repository_arn, secret_arns),
        )
        task_role = service_role(
            self,
            "TaskRole",
            provider=provider,
            name=f"{name}-task",
            service="ecs-tasks.amazonaws.com",
            statements=task_statements,
        )
        task_definition = EcsTaskDefinition(
            self,
            "TaskDefinition",
            provider=provider,
            family=name,
            cpu=str(config.task_cpu),
            memory=str(config.task_memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=config.cpu_architecture
            ),
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

        https = certificate_arn is not None
        self.load_balancer_security_group = SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            provider=provider,
            name=f"{name}-alb",
            description="Public HTTP(S) in; only the app port of the tasks out",
            vpc_id=network.vpc.id,
            tags={"Name": f"{name}-alb"},
        )
        self.task_security_group = SecurityGroup(
            self,
            "TaskSecurityGroup",
            provider=provider,
            name=f"{name}-tasks",
            description="The app port from the load balancer only",
            vpc_id=network.vpc.id,
            tags={"Name": f"{name}-tasks"},
        )
        for port in (HTTP_PORT, HTTPS_PORT) if https else (HTTP_PORT,):
            public_ingress = allow_tcp(
                self,
                f"PublicIngress{port}",
                provider=provider,
                group=self.load_balancer_security_group,
                direction="in",
                port=port,
                description=f"Port {port} from anywhere: the accelerator preserves client IPs",
                cidr=ANYWHERE,
            )
            if port == HTTP_PORT:
                skip_check(
                    public_ingress,
                    "CKV_AWS_260",
                    "The site is public: the accelerator preserves client IPs, so the load balancer must admit "
                    "port 80 from any address (it redirects to HTTPS when certificates are configured)",
                )
        allow_tcp(
            self,
            "LoadBalancerToTasks",
            provider=provider,
            group=self.load_balancer_security_group,
            direction="out",
            port=APP_PORT,
            description="To the app port of the tasks",
            peer=self.task_security_group,
        )
        allow_tcp(
            self,
            "TasksFromLoadBalancer",
            provider=provider,
            group=self.task_security_group,
            direction="in",
            port=APP_PORT,
            description="The app port from the load balancer",
            peer=self.load_balancer_security_group,
        )
        VpcSecurityGroupEgressRule(
            self,
            "TasksOut",
            provider=provider,
            security_group_id=self.task_security_group.id,
            description="HTTPS to AWS APIs and GitHub, PostgreSQL over the peering",
            ip_protocol="-1",
            cidr_ipv4=ANYWHERE,
        )

        # Internal: reachable only through the accelerator, which supports internal
        # ALBs ("An Application Load Balancer endpoint can be internet-facing or
        # internal", Global Accelerator guide, endpoint requirements) as long as the
        # VPC has an internet gateway. No public addresses to pay for, and no direct
        # traffic, which the same guide advises against (connection collisions).
        self.load_balancer = Lb(
            self,
            "LoadBalancer",
            provider=provider,
            name=f"{name}-alb"[:32],
            internal=True,
            load_balancer_type="application",
            security_groups=[self.load_balancer_security_group.id],
            subnets=[subnet.id for subnet in network.public_subnets],
            drop_invalid_header_fields=True,
            enable_deletion_protection=not config.throwaway,
            idle_timeout=120,
        )
        self._load_balancer_exceptions(throwaway=config.throwaway, https=https)
        target_group = LbTargetGroup(
            self,
            "TargetGroup",
            provider=provider,
            name=f"{name}-app"[:32],
            port=APP_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=network.vpc.id,
            deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=HEALTH_CHECK_PATH,
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
        )
        if not https:
            skip_check(target_group, "CKV_AWS_378", _HTTP_UNTIL_CERTIFICATES)
        forward = LbListenerDefaultAction(type="forward", target_group_arn=target_group.arn)
        http_listener = LbListener(
            self,
            "Http",
            provider=provider,
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(port=str(HTTPS_PORT), protocol="HTTPS", status_code="HTTP_301"),
                )
                if https
                else forward
            ],
        )
        if not https:
            skip_check(http_listener, "CKV_AWS_2", _HTTP_UNTIL_CERTIFICATES)
            skip_check(http_listener, "CKV_AWS_103", _HTTP_UNTIL_CERTIFICATES)
        listeners = [http_listener]
        if https:
            listeners.append(
                LbListener(
                    self,
                    "Https",
                    provider=provider,
                    load_balancer_arn=self.load_balancer.arn,
                    port=HTTPS_PORT,
                    protocol="HTTPS",
                    ssl_policy=TLS_POLICY,
                    certificate_arn=certificate_arn,
                    default_action=[forward],
                )
            )
        self.listener_ports = [HTTPS_PORT, HTTP_PORT] if https else [HTTP_PORT]

        self.service = EcsService(
            self,
            "Service",
            provider=provider,
            name=name,
            cluster=self.cluster.arn,
            task_definition=task_definition.arn,
            desired_count=config.desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=[subnet.id for subnet in network.app_subnets],
                security_groups=[self.task_security_group.id],
                assign_public_ip=network.tasks_need_public_ip,
            ),
            load_balancer=[
                EcsServiceLoadBalancer(target_group_arn=target_group.arn, container_name=CONTAINER_NAME, container_port=APP_PORT)
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
            # The first tasks start as soon as the service exists: ECS must be able
            # to pull the image, read the secrets and write logs (execution role
            # policy), and the app to reach S3 (task role policy) by then.
            depends_on=[*listeners, *(role.policy for role in (execution_role, task_role) if role.policy is not None)],
            lifecycle=self._deployment_lifecycle(task_definition, autoscaling=config.autoscaling_enabled),
        )
        if network.tasks_need_public_ip:
            skip_check(
                self.service,
                "CKV_AWS_333",
                "NAT_MODE=none (the default, as the original): without a NAT gateway tasks reach ECR, Secrets "
                f"Manager and GitHub through a public IP; their security group admits only port {APP_PORT} from the "
                "load balancer. NAT_MODE=single or per_az keeps tasks private",
            )
        if config.autoscaling_enabled:
            self._autoscaling(provider, config, name)

    @staticmethod
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

    def _load_balancer_exceptions(self, *, throwaway: bool, https: bool) -> None:
        """The policy-scan findings the load balancer behind the accelerator is accepted with, and why."""
        skip_check(
            self.load_balancer,
            "CKV_AWS_91",
            "Access logs need a log bucket per region with the ELB log-delivery policy; connections are already "
            "recorded by the VPC flow logs, so per-request ALB logs are the operator's choice",
        )
        if throwaway:
            skip_check(self.load_balancer, "CKV_AWS_150", "THROWAWAY=true: a disposable environment is destroyed by design")
        if not https:
            skip_check(self.load_balancer, "CKV2_AWS_20", _HTTP_UNTIL_CERTIFICATES)

    def _execution_statements(self, image_uri: str, repository_arn: str | None, secret_arns: Sequence[str]) -> list[Statement]:
        """What ECS needs to start a task: pull the image, write its logs, read its secrets."""
        statements: list[Statement] = [
            {"actions": ["logs:CreateLogStream", "logs:PutLogEvents"], "resources": [f"{self.log_group.arn}:*"]},
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

    def _autoscaling(self, provider: AwsProvider, config: DeploymentConfig, name: str) -> None:
        target = AppautoscalingTarget(
            self,
            "ScalingTarget",
            provider=provider,
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster.name}/{self.service.name}",
            min_capacity=config.desired_count,
            max_capacity=config.max_count,
        )
        AppautoscalingPolicy(
            self,
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
