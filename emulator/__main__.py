"""``python -m emulator [--port N]``: run the local AWS emulator in the foreground."""

from __future__ import annotations

import argparse
import os

from emulator.client_ip_interfaces import DEFAULT_LINGER_SECONDS
from emulator.server import DEFAULT_PORT, serve


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local AWS API emulator (moto's server plus Global Accelerator "
        "and fixes) for deploying the stacks without an AWS account.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("EMULATOR_PORT", DEFAULT_PORT)),
        help=f"port on 127.0.0.1 (default: $EMULATOR_PORT or {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--ga-interface-linger-seconds",
        type=float,
        default=float(os.environ.get("EMULATOR_GA_INTERFACE_LINGER_SECONDS", DEFAULT_LINGER_SECONDS)),
        help="how long Global Accelerator's client-IP-preservation network interfaces stay in a subnet "
        "after its last endpoint left, as on AWS (default: $EMULATOR_GA_INTERFACE_LINGER_SECONDS or "
        f"{DEFAULT_LINGER_SECONDS:g})",
    )
    arguments = parser.parse_args()
    if arguments.ga_interface_linger_seconds < 0:
        parser.error("--ga-interface-linger-seconds must be 0 or more")
    serve(arguments.port, client_ip_interface_linger_seconds=arguments.ga_interface_linger_seconds)


if __name__ == "__main__":
    main()
