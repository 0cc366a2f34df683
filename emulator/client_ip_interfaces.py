"""Global Accelerator's client-IP-preservation network interfaces, and how long they outlive endpoints.

"To support client IP address preservation, Global Accelerator creates
elastic network interfaces in your AWS account—one for each subnet where an
endpoint is present": one per subnet of each Application Load Balancer
endpoint that preserves client IPs, shared by every such endpoint in that
subnet (https://docs.aws.amazon.com/global-accelerator/latest/dg/best-practices-aga.html).
When the last endpoint leaves a subnet, AWS deletes its interface only some
time later; until then the subnet cannot be deleted (``DependencyViolation``,
hashicorp/terraform-provider-aws#11476), which is why destroying the network
right after the accelerator fails. The emulator keeps each interface for
``linger_seconds`` after its last endpoint left (AWS takes minutes to hours; a
short default keeps a test's destroy quick while still showing the failure).

Interfaces have ``InterfaceType`` ``global_accelerator_managed`` and are
requester-managed; the description is the emulator's own wording.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends

from emulator.network import GLOBAL_ACCELERATOR_INTERFACE_TYPE

DEFAULT_LINGER_SECONDS = 20.0
DESCRIPTION = "Global Accelerator client IP preservation"

# (Region, subnet id): where an interface is wanted or exists.
SubnetKey = tuple[str, str]


def load_balancer_subnets(account_id: str, region: str, arn: str) -> list[str]:
    """Subnet ids of a load balancer that moto's elbv2 holds (none once it is gone)."""
    load_balancer = elbv2_backends[account_id][region].load_balancers.get(arn)
    return [subnet.id for subnet in load_balancer.subnets] if load_balancer else []


@dataclass
class ClientIpInterfaces:
    """One account's interfaces: created when wanted, removed ``linger_seconds`` after they no longer are."""

    account_id: str
    linger_seconds: float
    interfaces: dict[SubnetKey, str] = field(default_factory=dict)
    removals: dict[SubnetKey, threading.Timer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def want(self, endpoints: list[tuple[str, str]]) -> None:
        """Make the interfaces match the ALB endpoints (Region, ARN) that preserve client IPs now."""
        wanted = {(region, subnet) for region, arn in endpoints for subnet in load_balancer_subnets(self.account_id, region, arn)}
        with self._lock:
            for key in wanted:
                if key in self.removals:
                    self.removals.pop(key).cancel()
                if key not in self.interfaces:
                    self.interfaces[key] = self._create(*key)
            for key in self.interfaces.keys() - wanted - self.removals.keys():
                timer = threading.Timer(self.linger_seconds, self._remove, args=(key,))
                timer.daemon = True
                self.removals[key] = timer
                timer.start()

    def _create(self, region: str, subnet_id: str) -> str:
        ec2 = ec2_backends[self.account_id][region]
        interface = ec2.create_network_interface(ec2.get_subnet(subnet_id), private_ip_address=None, description=DESCRIPTION)
        interface.interface_type = GLOBAL_ACCELERATOR_INTERFACE_TYPE
        interface.requester_managed = True
        return interface.id

    def _remove(self, key: SubnetKey) -> None:
        with self._lock:
            if self.removals.pop(key, None) is None:
                return
            interface_id = self.interfaces.pop(key)
            ec2_backends[self.account_id][key[0]].enis.pop(interface_id, None)
