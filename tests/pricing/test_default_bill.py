"""The default deployment's bill: what the README states, Graviton tasks and image, and `make cost` for a variant."""

from __future__ import annotations

import re

import pytest

from config import ConfigError, load_config
from pricing import load_price_table, price_deployment
from pricing.__main__ import main
from tests.conftest import REPO
from tests.pricing.conftest import DEFAULT_ENVIRONMENT


def _readme_cost_section() -> str:
    readme = (REPO / "README.md").read_text()
    return readme.split("## What it costs", 1)[1].split("\n## ", 1)[0]


def _figure(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"README 'What it costs' lacks {pattern!r}"
    return float(match[1])


def test_the_readme_states_the_default_bill(default_stacks: dict[str, dict]) -> None:
    bill = price_deployment(default_stacks, load_price_table())
    section = _readme_cost_section()
    idle = _figure(r"\*\*The default deployment \(eu-west-2 \+ us-west-2\) costs \$([\d.]+) a month idle\*\*", section)
    load = _figure(r"\*\*\$([\d.]+) a month at the stated load\*\*", section)
    assert (idle, load) == (round(bill.idle_total, 2), round(bill.load_total, 2))
    assert _figure(r"\| default \| ([\d.]+) \|", section) == idle


def test_every_resource_of_the_default_is_priced_or_known_free(default_stacks: dict[str, dict]) -> None:
    bill = price_deployment(default_stacks, load_price_table())
    assert not bill.unpriced
    assert bill.public_ipv4_addresses() == 4  # 1 per task, the accelerator's 2; the ALBs are internal


def test_default_tasks_run_on_graviton_with_an_image_built_for_it(default_stacks: dict[str, dict]) -> None:
    app = default_stacks["app"]["resource"]
    architectures = {task["runtime_platform"]["cpu_architecture"] for task in app["aws_ecs_task_definition"].values()}
    assert architectures == {"ARM64"}
    (image,) = app["docker_image"].values()
    assert (image["platform"], image["build"]["platform"]) == ("linux/arm64", "linux/arm64")


def test_cpu_architecture_is_checked_before_synth() -> None:
    with pytest.raises(ConfigError, match=r"^CPU_ARCHITECTURE: must be one of ARM64, X86_64, got 'arm'"):
        load_config({**DEFAULT_ENVIRONMENT, "CPU_ARCHITECTURE": "arm"}, {})


def test_make_cost_prints_the_bill_of_a_variant(default_stacks: dict[str, dict], capsys: pytest.CaptureFixture[str]) -> None:
    # default_stacks first: the provider bindings are loaded once for the session.
    assert main({**DEFAULT_ENVIRONMENT, "NAT_MODE": "per_az", "DB_MULTI_AZ": "true"}) == 0
    printed = capsys.readouterr().out
    assert "NAT_MODE=per_az" in printed and "db.t4g.micro Multi-AZ" in printed
    assert printed.count("NAT gateway hours") == 4
    total = re.search(r"TOTAL per month \(USD\)\s+([\d.]+)\s+([\d.]+)", printed)
    assert total, printed
    section = _readme_cost_section()
    assert float(total[1]) == _figure(r"\| `NAT_MODE=per_az DB_MULTI_AZ=true` \| ([\d.]+) \|", section)
