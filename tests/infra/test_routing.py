"""routing: Global Accelerator (API in us-west-2) in front of both load balancers."""

from __future__ import annotations

import re

from cdktf import Testing

from tests.infra.conftest import APP_HOSTNAME, Synthesized


def test_accelerator_provider_is_us_west_2(synthesized: Synthesized) -> None:
    providers = synthesized.stack("routing")["provider"]["aws"]
    assert [(p["alias"], p["region"]) for p in providers] == [("global_accelerator", "us-west-2")]


def test_tcp_listener_on_80_with_source_ip_affinity(synthesized: Synthesized) -> None:
    assert Testing.to_have_resource_with_properties(
        synthesized.text("routing"),
        "aws_globalaccelerator_listener",
        {"protocol": "TCP", "client_affinity": "SOURCE_IP", "port_range": [{"from_port": 80, "to_port": 80}]},
    )


def test_listener_adds_443_with_https(variant: Synthesized) -> None:
    listener = variant.one("routing", "aws_globalaccelerator_listener")
    assert sorted(r["from_port"] for r in listener["port_range"]) == [80, 443]


def test_one_endpoint_group_per_region_with_its_load_balancer(synthesized: Synthesized) -> None:
    groups = synthesized.resources("routing", "aws_globalaccelerator_endpoint_group").values()
    assert sorted(g["endpoint_group_region"] for g in groups) == ["eu-west-2", "us-west-2"]
    for group in groups:
        assert group["health_check_path"] == "/signin"
        assert group["health_check_port"] == 80 and group["health_check_protocol"] == "HTTP"
        (endpoint,) = group["endpoint_configuration"]
        assert endpoint["client_ip_preservation_enabled"] is True
        assert endpoint["endpoint_id"].startswith("${data.terraform_remote_state.cross-stack-reference-input-app.outputs.")


def test_health_checks_use_https_when_http_redirects(variant: Synthesized) -> None:
    for group in variant.resources("routing", "aws_globalaccelerator_endpoint_group").values():
        assert (group["health_check_port"], group["health_check_protocol"]) == (443, "HTTPS")


def test_outputs_the_accelerator_dns_name(synthesized: Synthesized) -> None:
    output = synthesized.stack("routing")["output"]["accelerator_dns_name"]
    assert output["value"].startswith("${aws_globalaccelerator_accelerator.")
    assert output["value"].endswith(".dns_name}")


def test_site_url_is_http_on_the_accelerator_without_a_hostname(synthesized: Synthesized) -> None:
    output = synthesized.stack("routing")["output"]["site_url"]
    assert re.fullmatch(r"http://\$\{aws_globalaccelerator_accelerator\.\w+\.dns_name\}/", output["value"]), output["value"]
    assert "APP_HOSTNAME" in output["description"] and "operator" in output["description"]


def test_site_url_is_https_on_app_hostname_with_certificates(variant: Synthesized) -> None:
    """A certificate can only match the operator's name, never the accelerator's own."""
    assert variant.stack("routing")["output"]["site_url"]["value"] == f"https://{APP_HOSTNAME}/"


def test_a_deploy_leaves_the_traffic_dials_to_failover(synthesized: Synthesized) -> None:
    """After `make failover` sets the primary's dial to 0 %, a deploy must not set it back to 100 %."""
    for group in synthesized.resources("routing", "aws_globalaccelerator_endpoint_group").values():
        assert group["traffic_dial_percentage"] == 100
        assert group["lifecycle"] == {"ignore_changes": ["traffic_dial_percentage"]}
