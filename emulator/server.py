"""The emulator's HTTP server: moto's server with our additions, on 127.0.0.1.

Requests for Global Accelerator go to :mod:`emulator.globalaccelerator`; every
other request goes to moto's own WSGI application, after :func:`install` has
added what moto lacks, fixed where it answers differently from AWS, and turned
on IAM enforcement (every request, from the first, is authenticated and
authorized).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any

# Read by moto when it builds an account's IAM backend, so set before any request:
# policies such as AmazonECSTaskExecutionRolePolicy then exist, as in AWS.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from emulator import access_control, appautoscaling_tags, fidelity, network, secret_versions
from emulator.client_ip_interfaces import DEFAULT_LINGER_SECONDS
from emulator.globalaccelerator import GlobalAcceleratorApp, is_global_accelerator_request

HOST = "127.0.0.1"
DEFAULT_PORT = 5010


class EmulatorApp:
    """WSGI application routing Global Accelerator requests to ours, the rest to moto."""

    def __init__(self, *, client_ip_interface_linger_seconds: float) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.global_accelerator = GlobalAcceleratorApp(client_ip_interface_linger_seconds=client_ip_interface_linger_seconds)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if is_global_accelerator_request(environ):
            return self.global_accelerator(environ, start_response)
        return self.moto(environ, start_response)


def install() -> None:
    """Patch moto once, before it serves a request."""
    appautoscaling_tags.install()
    fidelity.install()
    secret_versions.install()
    network.install()
    access_control.install()


def serve(port: int, *, client_ip_interface_linger_seconds: float = DEFAULT_LINGER_SECONDS) -> None:
    """Serve on 127.0.0.1:port in the foreground until SIGINT or SIGTERM."""
    # moto builds some URLs it returns (queue URLs, presigned URLs) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    install()
    server = make_server(
        HOST, port, EmulatorApp(client_ip_interface_linger_seconds=client_ip_interface_linger_seconds), threaded=True
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"AWS emulator ready on http://{HOST}:{port} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
