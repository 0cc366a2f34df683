"""``make deploy | diff | destroy`` reuse the synth directory only while it holds the synth of the current inputs.

``scripts/stacks.py`` records the sha256 of a synth's inputs next to it; these tests
change each input in a copy of the repository and check that the digest changes with
it (so the next command synthesizes again), and that an unchanged one is reused. The
synth itself and its reuse by the commands are exercised in tests/deploy.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from config import DeploymentConfig, load_config
from tests.conftest import REPO

PREBUILT_IMAGE = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/livebeats/app:v1"


def load_stacks_script() -> Any:
    spec = importlib.util.spec_from_file_location("stacks_script", REPO / "scripts" / "stacks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stacks_script = load_stacks_script()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The files a synth reads, copied: editing them leaves the repository alone."""
    target = tmp_path / "repo"
    for name in stacks_script.SYNTH_SOURCES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    for package in (*stacks_script.SYNTH_SOURCE_PACKAGES, "app"):
        shutil.copytree(REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return target


@pytest.fixture
def config() -> DeploymentConfig:
    return load_config({"APP_IMAGE": PREBUILT_IMAGE, "PRIMARY_AWS_REGION": "eu-west-2", "STATE_BUCKET": "state"}, {})


def digest(config: DeploymentConfig, repo: Path) -> str:
    result: str = stacks_script.synth_inputs_digest(config, repo)
    return result


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_unchanged_inputs_reuse_the_recorded_synth_and_changed_ones_do_not(config: DeploymentConfig, tmp_path: Path) -> None:
    stacks = stacks_script.Stacks(config, {"CDKTF_OUTPUT": str(tmp_path / "cdktf.out")})
    assert not stacks.synth_is_current(), "nothing synthesized yet"
    record = tmp_path / "cdktf.out" / stacks_script.SYNTH_INPUTS_RECORD
    record.parent.mkdir()
    record.write_text(digest(config, REPO) + "\n")  # what synth() leaves
    assert stacks.synth_is_current()

    changed = stacks_script.Stacks(replace(config, desired_count=2), {"CDKTF_OUTPUT": str(tmp_path / "cdktf.out")})
    assert not changed.synth_is_current()


def test_a_copy_of_the_same_inputs_has_the_same_digest(config: DeploymentConfig, copy: Path) -> None:
    assert digest(config, copy) == digest(config, REPO)


@pytest.mark.parametrize(
    "edited",
    ["stacks/routing.py", "constructs_lib/network.py", "config/deployment.py", "main.py", "Pipfile.lock", "package-lock.json"],
)
def test_an_edited_source_or_lock_changes_the_digest(config: DeploymentConfig, copy: Path, edited: str) -> None:
    before = digest(config, copy)
    append(copy / edited, "\n")
    assert digest(config, copy) != before


def test_a_new_construct_module_changes_the_digest(config: DeploymentConfig, copy: Path) -> None:
    before = digest(config, copy)
    (copy / "constructs_lib" / "queue.py").write_text('"""A construct not written yet."""\n')
    assert digest(config, copy) != before


def test_a_setting_from_the_environment_or_the_cdktf_json_context_changes_the_digest(copy: Path) -> None:
    environment = {"APP_IMAGE": PREBUILT_IMAGE, "PRIMARY_AWS_REGION": "eu-west-2", "STATE_BUCKET": "state"}
    base = digest(load_config(environment, {}), copy)
    assert digest(load_config({**environment, "DESIRED_COUNT": "2"}, {}), copy) != base
    assert digest(load_config(environment, {"DESIRED_COUNT": "2"}), copy) != base
    append(copy / "cdktf.json", "\n")
    assert digest(load_config(environment, {}), copy) != base


def test_the_app_counts_only_when_the_image_is_built_from_it(config: DeploymentConfig, copy: Path) -> None:
    built = replace(config, app_image=None)
    prebuilt_before, built_before = digest(config, copy), digest(built, copy)
    append(copy / "app" / "livebeats" / "web.py", "\n")
    assert digest(config, copy) == prebuilt_before, "a prebuilt image does not change with the app's source"
    assert digest(built, copy) != built_before, "the image tag is the build context's digest"
