"""foundation: two VPCs through aliased providers, three subnet tiers, peering both ways."""

from __future__ import annotations

from cdktf import Testing

from tests.infra.conftest import Synthesized


def _by_provider(resources: dict[str, dict], alias: str) -> list[dict]:
    return [r for r in resources.values() if r.get("provider") == f"aws.{alias}"]


def test_one_aliased_provider_per_region(synthesized: Synthesized) -> None:
    providers = synthesized.stack("foundation")["provider"]["aws"]
    assert {(p["alias"], p["region"]) for p in providers} == {("primary", "eu-west-2"), ("secondary", "us-west-2")}


def test_every_resource_names_its_region_provider(synthesized: Synthesized) -> None:
    for stack in ("foundation", "database", "app", "routing", "bootstrap"):
        for type_, resources in synthesized.stack(stack)["resource"].items():
            for name, resource in resources.items():
                assert resource.get("provider", "").startswith("aws."), f"{stack}: {type_}.{name} has no aliased provider"


def test_vpcs_with_configured_cidrs_and_dns(synthesized: Synthesized) -> None:
    text = synthesized.text("foundation")
    for alias, cidr in (("primary", "10.0.0.0/16"), ("secondary", "10.1.0.0/16")):
        assert Testing.to_have_resource_with_properties(
            text,
            "aws_vpc",
            {"cidr_block": cidr, "enable_dns_support": True, "enable_dns_hostnames": True, "provider": f"aws.{alias}"},
        )


def test_three_tiers_across_two_zones_in_each_region(synthesized: Synthesized) -> None:
    subnets = synthesized.resources("foundation", "aws_subnet")
    for alias, prefix in (("primary", "10.0."), ("secondary", "10.1.")):
        mine = _by_provider(subnets, alias)
        tiers = sorted(s["tags"]["Tier"] for s in mine)
        assert tiers == ["app", "app", "isolated", "isolated", "public", "public"]
        for tier in ("public", "app", "isolated"):
            zones = {s["availability_zone"] for s in mine if s["tags"]["Tier"] == tier}
            assert len(zones) == 2, f"{alias} {tier} subnets share a zone"
        assert all(s["cidr_block"].startswith(prefix) for s in mine)
        assert not any(s.get("map_public_ip_on_launch") for s in mine)


def test_default_security_groups_are_closed(synthesized: Synthesized) -> None:
    groups = synthesized.resources("foundation", "aws_default_security_group")
    assert len(groups) == 2
    for group in groups.values():
        assert "ingress" not in group and "egress" not in group


def test_flow_logs_on_both_vpcs(synthesized: Synthesized) -> None:
    logs = synthesized.resources("foundation", "aws_flow_log")
    assert sorted(log["provider"] for log in logs.values()) == ["aws.primary", "aws.secondary"]
    assert all(log["traffic_type"] == "ALL" for log in logs.values())
    policies = synthesized.resources("foundation", "aws_iam_role_policy")
    for log in logs.values():
        (dependency,) = log["depends_on"]  # delivery starts once the role may write
        assert dependency.split(".", 1)[1] in policies and "FlowLogRolePolicy" in dependency


def test_no_nat_by_default_app_subnets_route_to_the_internet_gateway(synthesized: Synthesized) -> None:
    assert not synthesized.resources("foundation", "aws_nat_gateway")
    egress = [r for r in synthesized.resources("foundation", "aws_route").values() if r["destination_cidr_block"] == "0.0.0.0/0"]
    assert len(egress) == 6  # public + two app tables, per region
    assert all("aws_internet_gateway" in r["gateway_id"] for r in egress)


def test_nat_per_az_gives_each_app_zone_its_own_gateway(variant: Synthesized) -> None:
    nats = variant.resources("foundation", "aws_nat_gateway")
    assert len(nats) == 6  # three zones, two regions
    app_egress = [
        r
        for r in variant.resources("foundation", "aws_route").values()
        if r["destination_cidr_block"] == "0.0.0.0/0" and "nat_gateway_id" in r
    ]
    assert len({r["nat_gateway_id"] for r in app_egress}) == 6


def test_peering_requester_in_primary_accepter_in_secondary(synthesized: Synthesized) -> None:
    connection = synthesized.one("foundation", "aws_vpc_peering_connection")
    assert connection["provider"] == "aws.primary"
    assert connection["peer_region"] == "us-west-2"
    assert connection["auto_accept"] is False
    accepter = synthesized.one("foundation", "aws_vpc_peering_connection_accepter")
    assert accepter["provider"] == "aws.secondary"
    assert accepter["auto_accept"] is True


def test_dns_resolution_across_the_peering_on_both_sides(synthesized: Synthesized) -> None:
    options = synthesized.resources("foundation", "aws_vpc_peering_connection_options").values()
    sides = {(o["provider"], side) for o in options for side in ("requester", "accepter") if side in o}
    assert sides == {("aws.primary", "requester"), ("aws.secondary", "accepter")}
    for option in options:
        block = option.get("requester") or option.get("accepter")
        assert block["allow_remote_vpc_dns_resolution"] is True


def test_every_route_table_routes_to_the_peer(synthesized: Synthesized) -> None:
    tables = synthesized.resources("foundation", "aws_route_table")
    routes = [r for r in synthesized.resources("foundation", "aws_route").values() if "vpc_peering_connection_id" in r]
    for alias, peer_cidr in (("primary", "10.1.0.0/16"), ("secondary", "10.0.0.0/16")):
        table_names = {name for name, t in tables.items() if t["provider"] == f"aws.{alias}"}
        routed = {
            r["route_table_id"].split(".")[1]
            for r in routes
            if r["provider"] == f"aws.{alias}" and r["destination_cidr_block"] == peer_cidr
        }
        assert routed == table_names, f"{alias} tables without a route to {peer_cidr}: {table_names - routed}"


def test_subnets_go_only_into_real_availability_zones_listed_whatever_their_state(synthesized: Synthesized) -> None:
    """No Local or Wavelength Zones (they sort among the AZs), and no `state` filter.

    A state filter drops a zone while it is impaired, shifting every later
    index and so replacing the subnets placed by index. AWS alone can show
    either (the emulator has no Local Zones and no zone changes state), so the
    synthesized data source is pinned here.
    """
    zones = synthesized.stack("foundation")["data"]["aws_availability_zones"]
    assert sorted(z["provider"] for z in zones.values()) == ["aws.primary", "aws.secondary"]
    for zone_list in zones.values():
        assert {f["name"]: f["values"] for f in zone_list["filter"]} == {
            "zone-type": ["availability-zone"],
            "opt-in-status": ["opt-in-not-required"],
        }
        assert "state" not in zone_list
        assert not zone_list.get("all_availability_zones")
    for subnet in synthesized.resources("foundation", "aws_subnet").values():
        assert subnet["availability_zone"].startswith("${element(data.aws_availability_zones.")


def test_a_subnet_never_moves_to_another_zone(synthesized: Synthesized, variant: Synthesized) -> None:
    """Should the zone list change after all, Terraform leaves existing subnets where they are."""
    for synth in (synthesized, variant):
        for name, subnet in synth.resources("foundation", "aws_subnet").items():
            assert "availability_zone" in subnet.get("lifecycle", {}).get("ignore_changes", []), name


def test_nat_gateways_and_their_addresses_wait_for_the_internet_gateway(variant: Synthesized) -> None:
    """The provider's docs ask for it; the emulator creates a NAT gateway without one, so synth pins it."""
    gateways = variant.resources("foundation", "aws_internet_gateway")
    gateway_of = {gateway["provider"]: f"aws_internet_gateway.{name}" for name, gateway in gateways.items()}
    assert len(gateway_of) == 2
    for type_ in ("aws_nat_gateway", "aws_eip"):
        resources = variant.resources("foundation", type_)
        assert len(resources) == 6  # three zones, two regions
        for name, resource in resources.items():
            assert resource.get("depends_on") == [gateway_of[resource["provider"]]], f"{type_}.{name}"
