"""AWS Global Accelerator: one anycast address pair in front of both regions' load balancers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.globalaccelerator_accelerator import GlobalacceleratorAccelerator
from cdktf_cdktf_provider_aws.globalaccelerator_endpoint_group import (
    GlobalacceleratorEndpointGroup,
    GlobalacceleratorEndpointGroupEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.globalaccelerator_listener import (
    GlobalacceleratorListener,
    GlobalacceleratorListenerPortRange,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.policy_checks import skip_check
from constructs_lib.ports import HTTPS_PORT


class GlobalAccelerator(Construct):
    """TCP listener on the site's ports, sticky by source IP, one endpoint group per region.

    Source-IP affinity keeps a browser on one region for its page and its
    WebSocket; client IP preservation lets the load balancers see real clients.
    Health checks use ``health_check_path`` on the first listener port, as the
    load balancers' own target health checks do.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        name: str,
        ports: Sequence[int],
        load_balancer_arns: Mapping[str, str],
        health_check_path: str,
    ) -> None:
        super().__init__(scope, id)
        self.accelerator = GlobalacceleratorAccelerator(
            self, "Accelerator", provider=provider, name=name, ip_address_type="IPV4", enabled=True
        )
        skip_check(
            self.accelerator,
            "CKV_AWS_75",
            "Flow logs need an S3 bucket with a delivery policy; client IPs reach the load balancers "
            "(client IP preservation) and the VPC flow logs of both regions record every connection",
        )
        listener = GlobalacceleratorListener(
            self,
            "Listener",
            provider=provider,
            accelerator_arn=self.accelerator.id,
            protocol="TCP",
            client_affinity="SOURCE_IP",
            port_range=[GlobalacceleratorListenerPortRange(from_port=port, to_port=port) for port in ports],
        )
        health_check_port = ports[0]
        self.endpoint_groups = {
            region: GlobalacceleratorEndpointGroup(
                self,
                f"EndpointGroup{index}",
                provider=provider,
                listener_arn=listener.id,
                endpoint_group_region=region,
                health_check_protocol="HTTPS" if health_check_port == HTTPS_PORT else "HTTP",
                health_check_port=health_check_port,
                health_check_path=health_check_path,
                health_check_interval_seconds=10,
                threshold_count=3,
                # Set once; afterwards the traffic dial is `make failover`'s and
                # `make failback`'s, so a deploy after a failover cannot send users
                # back to the region that lost its database.
                traffic_dial_percentage=100,
                lifecycle=TerraformResourceLifecycle(ignore_changes=["traffic_dial_percentage"]),
                endpoint_configuration=[
                    GlobalacceleratorEndpointGroupEndpointConfiguration(
                        endpoint_id=arn, client_ip_preservation_enabled=True, weight=100
                    )
                ],
            )
            for index, (region, arn) in enumerate(load_balancer_arns.items())
        }

    @property
    def dns_name(self) -> str:
        return self.accelerator.dns_name
