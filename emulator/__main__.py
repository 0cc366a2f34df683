"""``python -m emulator [--port N]``: run the local AWS emulator in the foreground."""

from __future__ import annotations

import argparse
import os

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
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
