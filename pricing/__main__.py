"""``python -m pricing`` (``make cost``): synthesize the current configuration and print its monthly bill.

The configuration is read exactly as ``main.py`` reads it (environment, then
the ``context`` of ``cdktf.json``), so ``NAT_MODE=per_az make cost`` prices
what ``NAT_MODE=per_az make deploy`` would create.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from config import ConfigError, DeploymentConfig, load_config
from pricing.bill import Bill, price_deployment
from pricing.report import format_bill
from pricing.table import load_price_table

REPO = Path(__file__).resolve().parents[1]


def synthesized_stacks(config: DeploymentConfig) -> dict[str, dict]:
    """The Terraform JSON of every stack, as ``main.build_app`` synthesizes it for ``config``."""
    from main import build_app

    with tempfile.TemporaryDirectory(prefix="cost-") as outdir:
        build_app(config, outdir=outdir).synth()
        return {path.parent.name: json.loads(path.read_text()) for path in sorted(Path(outdir, "stacks").glob("*/cdk.tf.json"))}


def bill_for(config: DeploymentConfig) -> Bill:
    return price_deployment(synthesized_stacks(config), load_price_table())


def describe(config: DeploymentConfig) -> str:
    """The heading: which configuration is priced (the settings that move the bill)."""
    return (
        f"Monthly bill of the synthesized deployment: {config.primary_region} + {config.secondary_region}, "
        f"{config.az_count} zones, NAT_MODE={config.nat_mode}, {config.desired_count} task(s) per region "
        f"({config.task_cpu} CPU / {config.task_memory} MiB, {config.cpu_architecture}), {config.db_instance_class} "
        f"{'Multi-AZ' if config.db_multi_az else 'single-AZ'}, HTTPS {'on' if config.https_enabled else 'off'}"
    )


def main(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    context = json.loads((REPO / "cdktf.json").read_text()).get("context", {})
    try:
        config = load_config(environ, context)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    bill = bill_for(config)
    print(format_bill(bill, title=describe(config)))
    return 1 if bill.unpriced else 0


if __name__ == "__main__":
    sys.exit(main())
