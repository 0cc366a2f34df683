"""One region's entrance: an internal Application Load Balancer behind the accelerator."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction, LbListenerDefaultActionRedirect
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from constructs_lib.network import ANYWHERE, RegionalNetwork
from constructs_lib.policy_checks import skip_check
from constructs_lib.ports import APP_PORT, HTTP_PORT, HTTPS_PORT
from constructs_lib.security_rules import allow_tcp

HEALTH_CHECK_PATH = "/signin"
"""Answered by the app without touching the database, so a slow database never takes every task out of rotation."""
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ELB_NAME_LENGTH = 32
"""The longest name a load balancer or a target group may have."""
_HTTP_UNTIL_CERTIFICATES = (
    "HTTP only until PRIMARY_CERTIFICATE_ARN and SECONDARY_CERTIFICATE_ARN are set (the accelerator's DNS "
    "name has no certificate); with them the ALB serves HTTPS (TLS 1.2+) and redirects HTTP to it"
)


class ApplicationLoadBalancer:
    """The ALB, its security group, the target group the tasks register in, and its HTTP(S) listeners.

    With a certificate it serves HTTPS and redirects HTTP to it; without, it
    serves HTTP. Its security group admits the listener ports from anywhere and
    lets nothing out until a service opens its own port (``FargateService``).

    Not a construct of its own: it builds into ``scope`` (``app/PrimaryService``),
    where these resources were created before the load balancer and the service
    were separated, so their Terraform addresses stay as deployed; a new path
    segment would replace the live load balancer.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        provider: AwsProvider,
        name: str,
        network: RegionalNetwork,
        certificate_arn: str | None,
        deletion_protection: bool,
    ) -> None:
        https = certificate_arn is not None
        self.security_group = SecurityGroup(
            scope,
            "LoadBalancerSecurityGroup",
            provider=provider,
            name=f"{name}-alb",
            description="Public HTTP(S) in; only the app port of the tasks out",
            vpc_id=network.vpc.id,
            tags={"Name": f"{name}-alb"},
        )
        # The accelerator listens on the same ports and health-checks the first one.
        self.listener_ports = [HTTPS_PORT, HTTP_PORT] if https else [HTTP_PORT]
        for port in sorted(self.listener_ports):
            public_ingress = allow_tcp(
                scope,
                f"PublicIngress{port}",
                provider=provider,
                group=self.security_group,
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

        # Internal: reachable only through the accelerator, which supports internal
        # ALBs ("An Application Load Balancer endpoint can be internet-facing or
        # internal", Global Accelerator guide, endpoint requirements) as long as the
        # VPC has an internet gateway. No public addresses to pay for, and no direct
        # traffic, which the same guide advises against (connection collisions).
        self.load_balancer = Lb(
            scope,
            "LoadBalancer",
            provider=provider,
            name=f"{name}-alb"[:ELB_NAME_LENGTH],
            internal=True,
            load_balancer_type="application",
            security_groups=[self.security_group.id],
            subnets=[subnet.id for subnet in network.public_subnets],
            drop_invalid_header_fields=True,
            enable_deletion_protection=deletion_protection,
            idle_timeout=120,
        )
        self._accepted_findings(deletion_protection=deletion_protection, https=https)
        self.target_group = LbTargetGroup(
            scope,
            "TargetGroup",
            provider=provider,
            name=f"{name}-app"[:ELB_NAME_LENGTH],
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
            skip_check(self.target_group, "CKV_AWS_378", _HTTP_UNTIL_CERTIFICATES)
        self.listeners = self._listeners(scope, provider, certificate_arn)

    def _listeners(self, scope: Construct, provider: AwsProvider, certificate_arn: str | None) -> list[LbListener]:
        """HTTP, forwarding to the tasks or, with a certificate, redirecting to HTTPS, which forwards."""
        forward = LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
        http_listener = LbListener(
            scope,
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
                if certificate_arn is not None
                else forward
            ],
        )
        if certificate_arn is None:
            skip_check(http_listener, "CKV_AWS_2", _HTTP_UNTIL_CERTIFICATES)
            skip_check(http_listener, "CKV_AWS_103", _HTTP_UNTIL_CERTIFICATES)
            return [http_listener]
        https_listener = LbListener(
            scope,
            "Https",
            provider=provider,
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn,
            default_action=[forward],
        )
        return [http_listener, https_listener]

    def _accepted_findings(self, *, deletion_protection: bool, https: bool) -> None:
        """The policy-scan findings the load balancer behind the accelerator is accepted with, and why."""
        skip_check(
            self.load_balancer,
            "CKV_AWS_91",
            "Access logs need a log bucket per region with the ELB log-delivery policy; connections are already "
            "recorded by the VPC flow logs, so per-request ALB logs are the operator's choice",
        )
        if not deletion_protection:
            skip_check(self.load_balancer, "CKV_AWS_150", "THROWAWAY=true: a disposable environment is destroyed by design")
        if not https:
            skip_check(self.load_balancer, "CKV2_AWS_20", _HTTP_UNTIL_CERTIFICATES)

    @property
    def arn(self) -> str:
        return self.load_balancer.arn

    @property
    def dns_name(self) -> str:
        return self.load_balancer.dns_name
