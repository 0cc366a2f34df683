"""AWS Global Accelerator for the emulator: moto 5.2.1 has no such service.

Implements the standard-accelerator operations that the Terraform AWS provider
(hashicorp/aws 5.100.0) calls for ``aws_globalaccelerator_accelerator``,
``aws_globalaccelerator_listener`` and ``aws_globalaccelerator_endpoint_group``,
over the AWS JSON 1.1 protocol (``X-Amz-Target: GlobalAccelerator_V20180706.<Op>``),
following the API reference:
https://docs.aws.amazon.com/global-accelerator/latest/api/API_Operations.html

What the emulator does not do, and says so instead of faking it: it routes no
traffic and runs no health checks (endpoints stay ``HealthState: INITIAL``), and
it accepts only load balancer endpoints (the ones moto's elbv2 holds); custom
routing accelerators, BYOIP address pools and cross-account attachments are not
implemented (``ListCrossAccountResources`` answers with none, as AWS does for an
account that has no attachments). The provider waits for ``Status: DEPLOYED``
and reads ``IpSets`` and ``DnsName``; the hosted zone id it reports
(Z2BJ6XQ5FK7U4H) is a constant of its own, not part of the API's answer.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import _RESTError
from moto.elbv2.models import elbv2_backends
from moto.iam.access_control import IAMRequest
from moto.iam.models import get_account_id_from
from werkzeug.wrappers import Request, Response

from emulator import access_control
from emulator.client_ip_interfaces import ClientIpInterfaces

TARGET_PREFIX = "GlobalAccelerator_V20180706."
SIGNING_NAME = "globalaccelerator"
# "Global Accelerator is a global service that supports endpoints in multiple AWS
# Regions but you must specify the US West (Oregon) Region to create, update, or
# otherwise work with accelerators." (API reference, Welcome page)
API_REGION = "us-west-2"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$")
HEALTH_CHECK_PATH_PATTERN = re.compile(r"^/[-a-zA-Z0-9@:%_\\+.~#?&/=]*$")
LOAD_BALANCER_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"loadbalancer/(?:app|net)/[^/]+/[0-9a-f]+$"
)
# Anycast ranges that Global Accelerator allocates static addresses from.
IPV4_POOLS = (ipaddress.ip_network("75.2.0.0/16"), ipaddress.ip_network("99.83.0.0/16"))
IPV6_POOL = ipaddress.ip_network("2600:9000:a000::/40")


class GlobalAcceleratorError(Exception):
    """An error as the API reports it: HTTP 400 with ``__type`` naming the exception."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_argument(message: str) -> GlobalAcceleratorError:
    return GlobalAcceleratorError("InvalidArgumentException", message)


@dataclass
class EndpointGroup:
    arn: str
    region: str
    endpoints: list[dict[str, Any]]
    traffic_dial_percentage: float
    health_check_port: int
    health_check_protocol: str
    health_check_path: str | None
    health_check_interval_seconds: int
    threshold_count: int
    port_overrides: list[dict[str, int]]

    def describe(self) -> dict[str, Any]:
        described = {
            "EndpointGroupArn": self.arn,
            "EndpointGroupRegion": self.region,
            "EndpointDescriptions": [{**endpoint, "HealthState": "INITIAL"} for endpoint in self.endpoints],
            "TrafficDialPercentage": self.traffic_dial_percentage,
            "HealthCheckPort": self.health_check_port,
            "HealthCheckProtocol": self.health_check_protocol,
            "HealthCheckIntervalSeconds": self.health_check_interval_seconds,
            "ThresholdCount": self.threshold_count,
            "PortOverrides": self.port_overrides,
        }
        if self.health_check_path is not None:
            described["HealthCheckPath"] = self.health_check_path
        return described


@dataclass
class Listener:
    arn: str
    protocol: str
    port_ranges: list[dict[str, int]]
    client_affinity: str
    endpoint_groups: dict[str, EndpointGroup] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "ListenerArn": self.arn,
            "Protocol": self.protocol,
            "PortRanges": self.port_ranges,
            "ClientAffinity": self.client_affinity,
        }


@dataclass
class Accelerator:
    arn: str
    name: str
    enabled: bool
    ip_address_type: str
    ip_sets: list[dict[str, Any]]
    dns_name: str
    dual_stack_dns_name: str | None
    created: float
    last_modified: float
    tags: dict[str, str]
    attributes: dict[str, Any] = field(default_factory=lambda: {"FlowLogsEnabled": False})
    listeners: dict[str, Listener] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The ``Accelerator`` structure; ``Status`` is always ``DEPLOYED`` because
        the emulator applies every change before it answers (AWS reports
        ``IN_PROGRESS`` until the change has propagated)."""
        described = {
            "AcceleratorArn": self.arn,
            "Name": self.name,
            "IpAddressType": self.ip_address_type,
            "Enabled": self.enabled,
            "IpSets": self.ip_sets,
            "DnsName": self.dns_name,
            "Status": "DEPLOYED",
            "CreatedTime": self.created,
            "LastModifiedTime": self.last_modified,
            "Events": [],
        }
        if self.dual_stack_dns_name:
            described["DualStackDnsName"] = self.dual_stack_dns_name
        return described


def load_balancer_exists(account_id: str, region: str, arn: str) -> bool:
    """Whether moto's elbv2 holds this load balancer in that account and region."""
    return arn in elbv2_backends[account_id][region].load_balancers


def is_known_region(account_id: str, region: str) -> bool:
    return region in elbv2_backends[account_id].regions


class GlobalAcceleratorBackend:
    """One account's accelerators; every public method is one API operation."""

    def __init__(
        self,
        account_id: str,
        client_ip_interfaces: ClientIpInterfaces,
        load_balancer_exists: Callable[[str, str, str], bool] = load_balancer_exists,
    ) -> None:
        self.account_id = account_id
        self.accelerators: dict[str, Accelerator] = {}
        self.idempotency_tokens: dict[str, str] = {}
        self.client_ip_interfaces = client_ip_interfaces
        self._load_balancer_exists = load_balancer_exists

    # Accelerators

    def create_accelerator(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateAccelerator: the same IdempotencyToken returns the same accelerator."""
        token = required(params, "IdempotencyToken")
        if token in self.idempotency_tokens and self.idempotency_tokens[token] in self.accelerators:
            return {"Accelerator": self.accelerators[self.idempotency_tokens[token]].describe()}
        name = valid_name(required(params, "Name"))
        ip_address_type = one_of(params, "IpAddressType", ("IPV4", "DUAL_STACK"), "IPV4")
        enabled = boolean(params, "Enabled", True)
        tags = tag_map(params.get("Tags", []))
        ip_sets = allocate_ip_sets(ip_address_type, params.get("IpAddresses", []))
        host = uuid.uuid4().hex[:17]
        now = time.time()
        accelerator = Accelerator(
            arn=f"arn:aws:globalaccelerator::{self.account_id}:accelerator/{uuid.uuid4()}",
            name=name,
            enabled=enabled,
            ip_address_type=ip_address_type,
            ip_sets=ip_sets,
            dns_name=f"a{host}.awsglobalaccelerator.com",
            dual_stack_dns_name=(f"a{host}.dualstack.awsglobalaccelerator.com" if ip_address_type == "DUAL_STACK" else None),
            created=now,
            last_modified=now,
            tags=tags,
        )
        self.accelerators[accelerator.arn] = accelerator
        self.idempotency_tokens[token] = accelerator.arn
        return {"Accelerator": accelerator.describe()}

    def describe_accelerator(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Accelerator": self._accelerator(params).describe()}

    def list_accelerators(self, params: dict[str, Any]) -> dict[str, Any]:
        accelerators = [a.describe() for a in self.accelerators.values()]
        return paginate(params, "Accelerators", accelerators)

    def update_accelerator(self, params: dict[str, Any]) -> dict[str, Any]:
        accelerator = self._accelerator(params)
        if "Name" in params:
            accelerator.name = valid_name(params["Name"])
        if "IpAddressType" in params:
            accelerator.ip_address_type = one_of(params, "IpAddressType", ("IPV4", "DUAL_STACK"))
        accelerator.enabled = boolean(params, "Enabled", accelerator.enabled)
        accelerator.last_modified = time.time()
        return {"Accelerator": accelerator.describe()}

    def delete_accelerator(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteAccelerator: "you must disable the accelerator and remove all
        dependent resources (listeners and endpoint groups)" first."""
        accelerator = self._accelerator(params)
        if accelerator.enabled:
            raise GlobalAcceleratorError(
                "AcceleratorNotDisabledException",
                f"Accelerator {accelerator.arn} is enabled; disable it "
                "(UpdateAccelerator with Enabled=false) before deleting it.",
            )
        if accelerator.listeners:
            raise GlobalAcceleratorError(
                "AssociatedListenerFoundException",
                f"Accelerator {accelerator.arn} has listeners ({', '.join(accelerator.listeners)}); delete them first.",
            )
        del self.accelerators[accelerator.arn]
        return {}

    def describe_accelerator_attributes(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"AcceleratorAttributes": dict(self._accelerator(params).attributes)}

    def update_accelerator_attributes(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateAcceleratorAttributes: FlowLogsS3Bucket "must be specified if
        FlowLogsEnabled is true"."""
        accelerator = self._accelerator(params)
        attributes = dict(accelerator.attributes)
        attributes["FlowLogsEnabled"] = boolean(params, "FlowLogsEnabled", attributes["FlowLogsEnabled"])
        for key in ("FlowLogsS3Bucket", "FlowLogsS3Prefix"):
            if key in params:
                attributes[key] = string(params, key, max_length=255)
        if attributes["FlowLogsEnabled"] and not attributes.get("FlowLogsS3Bucket"):
            raise invalid_argument("FlowLogsS3Bucket is required when FlowLogsEnabled is true.")
        accelerator.attributes = attributes
        return {"AcceleratorAttributes": dict(attributes)}

    # Listeners

    def create_listener(self, params: dict[str, Any]) -> dict[str, Any]:
        required(params, "IdempotencyToken")
        accelerator = self._accelerator(params)
        protocol = one_of(params, "Protocol", ("TCP", "UDP"))
        port_ranges = valid_port_ranges(params.get("PortRanges"))
        client_affinity = one_of(params, "ClientAffinity", ("NONE", "SOURCE_IP"), "NONE")
        self._check_ports_unique(accelerator, protocol, port_ranges, replacing=None)
        listener = Listener(
            arn=f"{accelerator.arn}/listener/{uuid.uuid4().hex[:8]}",
            protocol=protocol,
            port_ranges=port_ranges,
            client_affinity=client_affinity,
        )
        accelerator.listeners[listener.arn] = listener
        return {"Listener": listener.describe()}

    def describe_listener(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Listener": self._listener(params)[1].describe()}

    def list_listeners(self, params: dict[str, Any]) -> dict[str, Any]:
        accelerator = self._accelerator(params)
        listeners = [listener.describe() for listener in accelerator.listeners.values()]
        return paginate(params, "Listeners", listeners)

    def update_listener(self, params: dict[str, Any]) -> dict[str, Any]:
        accelerator, listener = self._listener(params)
        protocol = one_of(params, "Protocol", ("TCP", "UDP"), listener.protocol)
        port_ranges = valid_port_ranges(params["PortRanges"]) if "PortRanges" in params else listener.port_ranges
        client_affinity = one_of(params, "ClientAffinity", ("NONE", "SOURCE_IP"), listener.client_affinity)
        self._check_ports_unique(accelerator, protocol, port_ranges, replacing=listener.arn)
        listener.protocol = protocol
        listener.port_ranges = port_ranges
        listener.client_affinity = client_affinity
        return {"Listener": listener.describe()}

    def delete_listener(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteListener fails with AssociatedEndpointGroupFoundException while the
        listener has endpoint groups."""
        accelerator, listener = self._listener(params)
        if listener.endpoint_groups:
            raise GlobalAcceleratorError(
                "AssociatedEndpointGroupFoundException",
                f"Listener {listener.arn} has endpoint groups ({', '.join(listener.endpoint_groups)}); delete them first.",
            )
        del accelerator.listeners[listener.arn]
        return {}

    # Endpoint groups

    def create_endpoint_group(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateEndpointGroup: one endpoint group per Region per listener."""
        required(params, "IdempotencyToken")
        _, listener = self._listener(params)
        region = required(params, "EndpointGroupRegion")
        if not is_known_region(self.account_id, region):
            raise invalid_argument(f"EndpointGroupRegion {region!r} is not an AWS Region.")
        if any(group.region == region for group in listener.endpoint_groups.values()):
            raise GlobalAcceleratorError(
                "EndpointGroupAlreadyExistsException",
                f"Listener {listener.arn} already has an endpoint group in {region}.",
            )
        health_check_protocol = one_of(params, "HealthCheckProtocol", ("TCP", "HTTP", "HTTPS"), "TCP")
        group = EndpointGroup(
            arn=f"{listener.arn}/endpoint-group/{uuid.uuid4().hex[:12]}",
            region=region,
            endpoints=self._endpoints(region, params.get("EndpointConfigurations", [])),
            traffic_dial_percentage=number_between(params, "TrafficDialPercentage", 0, 100, 100.0),
            health_check_port=integer_between(params, "HealthCheckPort", 1, 65535, listener.port_ranges[0]["FromPort"]),
            health_check_protocol=health_check_protocol,
            health_check_path=health_check_path(params, health_check_protocol, None),
            health_check_interval_seconds=integer_between(params, "HealthCheckIntervalSeconds", 10, 30, 30),
            threshold_count=integer_between(params, "ThresholdCount", 1, 10, 3),
            port_overrides=valid_port_overrides(params.get("PortOverrides", []), listener),
        )
        listener.endpoint_groups[group.arn] = group
        self._update_client_ip_interfaces()
        return {"EndpointGroup": group.describe()}

    def describe_endpoint_group(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"EndpointGroup": self._endpoint_group(params)[1].describe()}

    def list_endpoint_groups(self, params: dict[str, Any]) -> dict[str, Any]:
        _, listener = self._listener(params)
        groups = [group.describe() for group in listener.endpoint_groups.values()]
        return paginate(params, "EndpointGroups", groups)

    def update_endpoint_group(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateEndpointGroup: EndpointConfigurations, when given, replaces the
        whole list of endpoints."""
        listener, group = self._endpoint_group(params)
        if "EndpointConfigurations" in params:
            group.endpoints = self._endpoints(group.region, params["EndpointConfigurations"])
        group.traffic_dial_percentage = number_between(params, "TrafficDialPercentage", 0, 100, group.traffic_dial_percentage)
        group.health_check_port = integer_between(params, "HealthCheckPort", 1, 65535, group.health_check_port)
        group.health_check_protocol = one_of(params, "HealthCheckProtocol", ("TCP", "HTTP", "HTTPS"), group.health_check_protocol)
        group.health_check_path = health_check_path(params, group.health_check_protocol, group.health_check_path)
        group.health_check_interval_seconds = integer_between(
            params, "HealthCheckIntervalSeconds", 10, 30, group.health_check_interval_seconds
        )
        group.threshold_count = integer_between(params, "ThresholdCount", 1, 10, group.threshold_count)
        if "PortOverrides" in params:
            group.port_overrides = valid_port_overrides(params["PortOverrides"], listener)
        self._update_client_ip_interfaces()
        return {"EndpointGroup": group.describe()}

    def delete_endpoint_group(self, params: dict[str, Any]) -> dict[str, Any]:
        listener, group = self._endpoint_group(params)
        del listener.endpoint_groups[group.arn]
        self._update_client_ip_interfaces()
        return {}

    def _update_client_ip_interfaces(self) -> None:
        """Interfaces in the subnets of every endpoint that preserves client IPs (:mod:`emulator.client_ip_interfaces`)."""
        self.client_ip_interfaces.want(
            [
                (group.region, endpoint["EndpointId"])
                for accelerator in self.accelerators.values()
                for listener in accelerator.listeners.values()
                for group in listener.endpoint_groups.values()
                for endpoint in group.endpoints
                if endpoint["ClientIPPreservationEnabled"]
            ]
        )

    # Tags and cross-account resources

    def tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        accelerator = self._tagged(params)
        tags = {**accelerator.tags, **tag_map(required(params, "Tags"))}
        if len(tags) > 200:
            raise invalid_argument("An accelerator can have at most 200 tags.")
        accelerator.tags = tags
        return {}

    def untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        accelerator = self._tagged(params)
        for key in required(params, "TagKeys"):
            accelerator.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._tagged(params).tags
        return {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}

    def list_cross_account_resources(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListCrossAccountResources: resources that other accounts' cross-account
        attachments share with this one; the emulator has no attachments."""
        required(params, "ResourceOwnerAwsAccountId")
        return {"CrossAccountResources": []}

    # Look-ups and checks

    def _accelerator(self, params: dict[str, Any]) -> Accelerator:
        arn = required(params, "AcceleratorArn")
        if arn not in self.accelerators:
            raise GlobalAcceleratorError("AcceleratorNotFoundException", f"Accelerator {arn} not found.")
        return self.accelerators[arn]

    def _tagged(self, params: dict[str, Any]) -> Accelerator:
        """Tags belong to accelerators (and cross-account attachments, not emulated)."""
        return self._accelerator({"AcceleratorArn": required(params, "ResourceArn")})

    def _listener(self, params: dict[str, Any]) -> tuple[Accelerator, Listener]:
        arn = required(params, "ListenerArn")
        for accelerator in self.accelerators.values():
            if arn in accelerator.listeners:
                return accelerator, accelerator.listeners[arn]
        raise GlobalAcceleratorError("ListenerNotFoundException", f"Listener {arn} not found.")

    def _endpoint_group(self, params: dict[str, Any]) -> tuple[Listener, EndpointGroup]:
        arn = required(params, "EndpointGroupArn")
        for accelerator in self.accelerators.values():
            for listener in accelerator.listeners.values():
                if arn in listener.endpoint_groups:
                    return listener, listener.endpoint_groups[arn]
        raise GlobalAcceleratorError("EndpointGroupNotFoundException", f"Endpoint group {arn} not found.")

    def _check_ports_unique(
        self,
        accelerator: Accelerator,
        protocol: str,
        port_ranges: list[dict[str, int]],
        replacing: str | None,
    ) -> None:
        """InvalidPortRangeException: "The port numbers that you specified are not
        valid numbers or are not unique for this accelerator." Checked per protocol,
        as a TCP and a UDP listener may share a port."""
        for other in accelerator.listeners.values():
            if other.arn == replacing or other.protocol != protocol:
                continue
            for mine in port_ranges:
                for theirs in other.port_ranges:
                    if mine["FromPort"] <= theirs["ToPort"] and theirs["FromPort"] <= mine["ToPort"]:
                        raise GlobalAcceleratorError(
                            "InvalidPortRangeException",
                            f"Ports {mine['FromPort']}-{mine['ToPort']}/{protocol} overlap "
                            f"listener {other.arn} ({theirs['FromPort']}-{theirs['ToPort']}).",
                        )

    def _endpoints(self, region: str, configurations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """EndpointConfiguration: at most 10; EndpointId of a load balancer must be
        its ARN, in the endpoint group's Region; Weight 0-255 (default 128);
        ClientIPPreservationEnabled defaults to true for Application Load
        Balancers."""
        if len(configurations) > 10:
            raise invalid_argument("An endpoint group can have at most 10 endpoints.")
        endpoints: list[dict[str, Any]] = []
        for configuration in configurations:
            endpoint_id = required(configuration, "EndpointId")
            match = LOAD_BALANCER_ARN_PATTERN.match(endpoint_id)
            if not match:
                raise invalid_argument(
                    f"EndpointId {endpoint_id!r} is not a load balancer ARN; the emulator "
                    "supports only Application and Network Load Balancer endpoints."
                )
            if match["region"] != region:
                raise invalid_argument(
                    f"Load balancer {endpoint_id} is in {match['region']}, not in the endpoint group's Region {region}."
                )
            if not self._load_balancer_exists(match["account"], region, endpoint_id):
                raise invalid_argument(f"Load balancer {endpoint_id} does not exist.")
            if any(e["EndpointId"] == endpoint_id for e in endpoints):
                raise invalid_argument(f"Endpoint {endpoint_id} is listed twice.")
            is_application = ":loadbalancer/app/" in endpoint_id
            endpoints.append(
                {
                    "EndpointId": endpoint_id,
                    "Weight": integer_between(configuration, "Weight", 0, 255, 128),
                    "ClientIPPreservationEnabled": boolean(configuration, "ClientIPPreservationEnabled", is_application),
                }
            )
        return endpoints


# Input checks shared by the operations; each raises InvalidArgumentException.


def required(params: dict[str, Any], key: str) -> Any:
    if params.get(key) in (None, ""):
        raise invalid_argument(f"{key} is required.")
    return params[key]


def string(params: dict[str, Any], key: str, *, max_length: int) -> str:
    value = params[key]
    if not isinstance(value, str) or len(value) > max_length:
        raise invalid_argument(f"{key} must be a string of at most {max_length} characters.")
    return value


def valid_name(name: Any) -> str:
    """Name: "a maximum of 64 characters, must contain only alphanumeric
    characters, periods (.), or hyphens (-), and must not begin or end with a
    hyphen or period." """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise invalid_argument(
            f"Name {name!r} is not valid: use 1-64 letters, digits, periods or hyphens, "
            "not starting or ending with a hyphen or period."
        )
    return name


def one_of(params: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = params.get(key, default)
    if value not in allowed:
        raise invalid_argument(f"{key} {value!r} is not valid; allowed: {', '.join(allowed)}.")
    return value


def boolean(params: dict[str, Any], key: str, default: bool) -> bool:
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise invalid_argument(f"{key} must be true or false.")
    return value


def integer_between(params: dict[str, Any], key: str, low: int, high: int, default: int) -> int:
    value = params.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid_argument(f"{key} {value!r} is not valid; allowed: {low}-{high}.")
    return value


def number_between(params: dict[str, Any], key: str, low: float, high: float, default: float) -> float:
    value = params.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise invalid_argument(f"{key} {value!r} is not valid; allowed: {low}-{high}.")
    return float(value)


def health_check_path(params: dict[str, Any], protocol: str, current: str | None) -> str | None:
    """HealthCheckPath: for HTTP/HTTPS health checks; "The default value is slash (/)"."""
    if "HealthCheckPath" in params:
        path = params["HealthCheckPath"]
        if not isinstance(path, str) or len(path) > 255 or not HEALTH_CHECK_PATH_PATTERN.match(path):
            raise invalid_argument(f"HealthCheckPath {path!r} is not valid; it must start with '/'.")
        return path
    if current is None and protocol in ("HTTP", "HTTPS"):
        return "/"
    return current


def valid_port_ranges(port_ranges: Any) -> list[dict[str, int]]:
    """PortRanges: 1-10 ranges, each FromPort <= ToPort within 1-65535."""
    if not isinstance(port_ranges, list) or not 1 <= len(port_ranges) <= 10:
        raise invalid_argument("PortRanges must list 1 to 10 port ranges.")
    valid = []
    for port_range in port_ranges:
        from_port, to_port = port_range.get("FromPort"), port_range.get("ToPort")
        if not all(isinstance(p, int) and 1 <= p <= 65535 for p in (from_port, to_port)) or from_port > to_port:
            raise GlobalAcceleratorError(
                "InvalidPortRangeException",
                f"Port range {from_port}-{to_port} is not valid; ports are 1-65535, FromPort <= ToPort.",
            )
        valid.append({"FromPort": from_port, "ToPort": to_port})
    return valid


def valid_port_overrides(overrides: list[dict[str, Any]], listener: Listener) -> list[dict[str, int]]:
    """PortOverride: at most 10; "The listener port must be within the listener's
    port range"; both ports 1-65535."""
    if len(overrides) > 10:
        raise invalid_argument("An endpoint group can have at most 10 port overrides.")
    valid = []
    for override in overrides:
        listener_port = integer_between(override, "ListenerPort", 1, 65535, 0)
        endpoint_port = integer_between(override, "EndpointPort", 1, 65535, 0)
        if not any(r["FromPort"] <= listener_port <= r["ToPort"] for r in listener.port_ranges):
            raise invalid_argument(f"ListenerPort {listener_port} is outside the listener's port ranges.")
        valid.append({"ListenerPort": listener_port, "EndpointPort": endpoint_port})
    return valid


def tag_map(tags: list[dict[str, str]]) -> dict[str, str]:
    """Tag: Key 1-128 characters, Value 0-256 characters."""
    mapped = {}
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise invalid_argument(f"Tag key {key!r} is not valid; use 1-128 characters.")
        if not isinstance(value, str) or len(value) > 256:
            raise invalid_argument(f"Tag value for {key!r} is not valid; use 0-256 characters.")
        mapped[key] = value
    return mapped


def allocate_ip_sets(ip_address_type: str, requested: list[str]) -> list[dict[str, Any]]:
    """Two static IPv4 addresses per accelerator (or the BYOIP ones requested, at
    most two), plus two IPv6 addresses for DUAL_STACK."""
    if len(requested) > 2:
        raise invalid_argument("IpAddresses can list at most two addresses.")
    try:
        ipv4 = [str(ipaddress.IPv4Address(address)) for address in requested]
    except ValueError as error:
        raise invalid_argument(f"IpAddresses: {error}") from error
    ipv4 += [str(pool[random.randrange(1, pool.num_addresses - 1)]) for pool in IPV4_POOLS[len(ipv4) :]]
    ip_sets = [{"IpFamily": "IPv4", "IpAddressFamily": "IPv4", "IpAddresses": ipv4}]
    if ip_address_type == "DUAL_STACK":
        ipv6 = [str(IPV6_POOL[random.randrange(1, 2**64)]) for _ in range(2)]
        ip_sets.append({"IpFamily": "IPv6", "IpAddressFamily": "IPv6", "IpAddresses": ipv6})
    return ip_sets


def paginate(params: dict[str, Any], key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """MaxResults 1-100; NextToken resumes where the previous page ended."""
    max_results = integer_between(params, "MaxResults", 1, 100, 100)
    token = params.get("NextToken")
    start = int(token) if isinstance(token, str) and token.isdigit() else 0
    page: dict[str, Any] = {key: items[start : start + max_results]}
    if start + max_results < len(items):
        page["NextToken"] = str(start + max_results)
    return page


OPERATIONS: dict[str, Callable[[GlobalAcceleratorBackend, dict[str, Any]], dict[str, Any]]] = {
    "CreateAccelerator": GlobalAcceleratorBackend.create_accelerator,
    "DescribeAccelerator": GlobalAcceleratorBackend.describe_accelerator,
    "ListAccelerators": GlobalAcceleratorBackend.list_accelerators,
    "UpdateAccelerator": GlobalAcceleratorBackend.update_accelerator,
    "DeleteAccelerator": GlobalAcceleratorBackend.delete_accelerator,
    "DescribeAcceleratorAttributes": GlobalAcceleratorBackend.describe_accelerator_attributes,
    "UpdateAcceleratorAttributes": GlobalAcceleratorBackend.update_accelerator_attributes,
    "CreateListener": GlobalAcceleratorBackend.create_listener,
    "DescribeListener": GlobalAcceleratorBackend.describe_listener,
    "ListListeners": GlobalAcceleratorBackend.list_listeners,
    "UpdateListener": GlobalAcceleratorBackend.update_listener,
    "DeleteListener": GlobalAcceleratorBackend.delete_listener,
    "CreateEndpointGroup": GlobalAcceleratorBackend.create_endpoint_group,
    "DescribeEndpointGroup": GlobalAcceleratorBackend.describe_endpoint_group,
    "ListEndpointGroups": GlobalAcceleratorBackend.list_endpoint_groups,
    "UpdateEndpointGroup": GlobalAcceleratorBackend.update_endpoint_group,
    "DeleteEndpointGroup": GlobalAcceleratorBackend.delete_endpoint_group,
    "TagResource": GlobalAcceleratorBackend.tag_resource,
    "UntagResource": GlobalAcceleratorBackend.untag_resource,
    "ListTagsForResource": GlobalAcceleratorBackend.list_tags_for_resource,
    "ListCrossAccountResources": GlobalAcceleratorBackend.list_cross_account_resources,
}


def credential_scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(region, service) from a SigV4 Authorization header, if there is one."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", authorization)
    return (match[1], match[2]) if match else None


def access_key(environ: dict[str, Any]) -> str | None:
    match = re.search(r"Credential=([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return match[1] if match else None


def is_global_accelerator_request(environ: dict[str, Any]) -> bool:
    """Global Accelerator requests name it in X-Amz-Target or in the SigV4 scope."""
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGET_PREFIX):
        return True
    scope = credential_scope(environ)
    return scope is not None and scope[1] == SIGNING_NAME


class GlobalAcceleratorApp:
    """WSGI application answering Global Accelerator requests, one backend per account."""

    def __init__(self, *, client_ip_interface_linger_seconds: float) -> None:
        self.backends: dict[str, GlobalAcceleratorBackend] = {}
        self.client_ip_interface_linger_seconds = client_ip_interface_linger_seconds
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        operation = request.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
        try:
            scope = credential_scope(request.environ)
            if scope is not None and scope[0] != API_REGION:
                raise GlobalAcceleratorError(
                    "UnrecognizedClientException",
                    f"Global Accelerator's API is served in {API_REGION} only, not in "
                    f"{scope[0]}; point the client at region {API_REGION}.",
                )
            if operation not in OPERATIONS:
                raise GlobalAcceleratorError(
                    "UnknownOperationException",
                    f"The emulator does not implement Global Accelerator operation "
                    f"{operation!r}; it implements {', '.join(OPERATIONS)}.",
                )
            params = json.loads(request.get_data() or b"{}")
            backend = self._backend(request)
            if access_control.enforced():
                authorize(request, backend.account_id, operation)
            with self._lock:
                result = OPERATIONS[operation](backend, params)
        except _RESTError as error:
            status = error.code or 403
            return json_response({"__type": error.error_type, "Message": error.message}, status, error.error_type)
        except GlobalAcceleratorError as error:
            return json_response({"__type": error.code, "Message": error.message}, 400, error.code)
        except json.JSONDecodeError:
            return json_response(
                {"__type": "SerializationException", "Message": "Request body is not JSON."},
                400,
                "SerializationException",
            )
        return json_response(result, 200)

    def _backend(self, request: Request) -> GlobalAcceleratorBackend:
        account_id = request.headers.get("x-moto-account-id") or get_account_id_from(access_key(request.environ) or "")
        account_id = account_id or DEFAULT_ACCOUNT_ID
        if account_id not in self.backends:
            interfaces = ClientIpInterfaces(account_id, self.client_ip_interface_linger_seconds)
            self.backends[account_id] = GlobalAcceleratorBackend(account_id, interfaces)
        return self.backends[account_id]


def authorize(request: Request, account_id: str, operation: str) -> None:
    """Authenticate and authorize as moto does every other service (:mod:`emulator.access_control`):
    ``globalaccelerator:<Operation>`` on the resource ``*``."""
    iam_request = IAMRequest(
        account_id=account_id,
        method=request.method,
        path=request.full_path.rstrip("?"),
        data={},
        body=request.get_data(),
        headers=request.headers,
        action=operation,
    )
    iam_request.check_signature()
    iam_request.check_action_permitted("*")


def json_response(body: dict[str, Any], status: int, error_type: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/x-amz-json-1.1")
