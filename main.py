"""Entry point: load the configuration, create the stacks, pass attributes between them, synth."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config import ConfigError, DeploymentConfig, load_config

if TYPE_CHECKING:
    from cdktf import App

APP_DIRECTORY = Path(__file__).resolve().parent / "app"


def build_app(config: DeploymentConfig, *, outdir: str | None = None) -> App:
    """The cdktf App with all five stacks; tests synthesize exactly what users deploy."""
    # Imported here so that a configuration error is reported before the
    # provider bindings (~20 s to load) are.
    from cdktf import App

    from stacks.app import AppStack
    from stacks.bootstrap import BootstrapStack
    from stacks.database import DatabaseStack
    from stacks.foundation import FoundationStack
    from stacks.routing import RoutingStack

    app = App(outdir=outdir) if outdir else App()
    BootstrapStack(app, "bootstrap", config=config)
    foundation = FoundationStack(app, "foundation", config=config)
    database = DatabaseStack(
        app,
        "database",
        config=config,
        network=foundation.primary,
        secondary_network=foundation.secondary,
        client_cidrs=foundation.app_subnet_cidrs,
    )
    app_stack = AppStack(
        app,
        "app",
        config=config,
        primary_network=foundation.primary,
        secondary_network=foundation.secondary,
        database=database.database,
        replica=database.replica,
        app_directory=APP_DIRECTORY,
    )
    RoutingStack(
        app,
        "routing",
        config=config,
        load_balancers=app_stack.load_balancers,
        ports=app_stack.load_balancers[config.primary_region].listener_ports,
    )
    return app


def main() -> int:
    context = _cdktf_context()
    try:
        config = load_config(os.environ, context)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    build_app(config).synth()
    return 0


def _cdktf_context() -> dict[str, Any]:
    """The ``context`` object of cdktf.json, which the cdktf CLI passes in CDKTF_CONTEXT_JSON."""
    raw = os.environ.get("CDKTF_CONTEXT_JSON", "{}")
    try:
        context: dict[str, Any] = json.loads(raw)
        return context
    except json.JSONDecodeError:
        return {}


if __name__ == "__main__":
    sys.exit(main())
