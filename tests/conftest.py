"""Session-wide environment for every suite under tests/.

Runs before any test module imports cdktf: the jsii runtime copies the
environment once, when cdktf is first imported.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _terraform_cli_config() -> None:
    """Point Terraform at the provider mirror when this machine has one (the project's script decides)."""
    path = subprocess.run(
        [str(REPO / "scripts" / "terraform-cli-config.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    if path:
        os.environ["TF_CLI_CONFIG_FILE"] = path


_terraform_cli_config()
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
