"""EC2 networking rules AWS enforces and moto 5.2.1 did not.

- A public NAT gateway needs an internet gateway attached to its VPC when it
  is created: without one it goes to ``failed`` with ``Gateway.NotAttached``,
  "Network vpc-... has no Internet gateway attached"
  (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html;
  the provider's ``aws_nat_gateway`` docs tell to depend on the internet gateway
  for this reason). moto made every NAT gateway ``available``.
- A subnet that still holds Global Accelerator's client-IP-preservation
  network interfaces (:mod:`emulator.globalaccelerator` creates them) cannot
  be deleted: ``DependencyViolation``, "The subnet '...' has dependencies and
  cannot be deleted." (hashicorp/terraform-provider-aws#11476). moto deleted
  any subnet; the emulator checks only those interfaces, not every kind of
  interface AWS would count.
- DescribeNetworkInterfaces filters ``interface-type`` and ``requester-managed``
  (API_DescribeNetworkInterfaces), which moto did not implement; a destroy
  waits for those interfaces with them.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.models.nat_gateways import NatGateway, NatGatewayBackend
from moto.ec2.models.subnets import SubnetBackend

from emulator.fidelity import wrap

GLOBAL_ACCELERATOR_INTERFACE_TYPE = "global_accelerator_managed"


def create_nat_gateway(self: NatGatewayBackend, original: Any, *args: Any, **kwargs: Any) -> NatGateway:
    """A public NAT gateway in a VPC without an attached internet gateway fails."""
    gateway = original(self, *args, **kwargs)
    attached = any(igw.vpc is not None and igw.vpc.id == gateway.vpc_id for igw in self.internet_gateways.values())
    if gateway.connectivity_type in (None, "public") and not attached:
        gateway.state = "failed"
        gateway.failure_code = "Gateway.NotAttached"
        gateway.failure_message = f"Network {gateway.vpc_id} has no Internet gateway attached"
    return gateway


def delete_subnet(self: SubnetBackend, original: Any, subnet_id: str) -> Any:
    """DeleteSubnet fails while Global Accelerator's interfaces are in the subnet."""
    for interface in self.enis.values():
        if interface.subnet.id == subnet_id and interface.interface_type == GLOBAL_ACCELERATOR_INTERFACE_TYPE:
            raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
    return original(self, subnet_id)


def interface_filter_value(self: NetworkInterface, original: Any, filter_name: str, method_name: str | None = None) -> Any:
    if filter_name == "interface-type":
        return self.interface_type
    if filter_name == "requester-managed":
        return str(self.requester_managed).lower()
    return original(self, filter_name, method_name)


def install() -> None:
    wrap(NatGatewayBackend, "create_nat_gateway", create_nat_gateway)
    wrap(SubnetBackend, "delete_subnet", delete_subnet)
    wrap(NetworkInterface, "get_filter_value", interface_filter_value)
