"""``routing``: Global Accelerator in front of both regions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import TerraformOutput
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.accelerator import GlobalAccelerator
from constructs_lib.load_balancer import HEALTH_CHECK_PATH, ApplicationLoadBalancer
from stacks.base import RemoteStateStack, aws_provider


class RoutingStack(RemoteStateStack):
    """Sends each visitor to the nearest healthy region; its DNS name is the site's address."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        load_balancers: Mapping[str, ApplicationLoadBalancer],
        ports: Sequence[int],
    ) -> None:
        super().__init__(scope, id, config=config)
        provider = aws_provider(self, alias="global_accelerator", region=config.global_accelerator_region, config=config)
        self.accelerator = GlobalAccelerator(
            self,
            "Accelerator",
            provider=provider,
            name=config.project_name,
            ports=ports,
            load_balancer_arns={region: lb.arn for region, lb in load_balancers.items()},
            health_check_path=HEALTH_CHECK_PATH,
        )
        TerraformOutput(
            self,
            "accelerator_dns_name",
            value=self.accelerator.dns_name,
            description="The accelerator's DNS name: where APP_HOSTNAME's DNS record (an alias or CNAME) points",
        )
        TerraformOutput(
            self,
            "site_url",
            value=self.site_url(config),
            description="The address users open. The DNS record that points APP_HOSTNAME at the accelerator (an alias "
            "or CNAME to accelerator_dns_name) is the operator's to create: this deployment manages no DNS zone",
        )

    def site_url(self, config: DeploymentConfig) -> str:
        """``https://<APP_HOSTNAME>/`` with certificates, else ``http://<APP_HOSTNAME or the accelerator's name>/``.

        HTTPS needs APP_HOSTNAME (the configuration refuses certificates
        without it): a browser checks the certificate against the name it
        opened, and ACM issues certificates only for domains whose owner
        validates them, never for the accelerator's ``awsglobalaccelerator.com``
        name.
        """
        if config.https_enabled:
            return f"https://{config.app_hostname}/"
        return f"http://{config.app_hostname or self.accelerator.dns_name}/"
