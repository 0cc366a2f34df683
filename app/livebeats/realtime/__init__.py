"""Realtime events and presence shared by every node through PostgreSQL LISTEN/NOTIFY.

The app creates one `RealtimeHub` per process and one `Client` per WebSocket
connection; see `hub.py` for how the pieces fit.
"""

from .bus import BusUnavailable
from .client import Client
from .hub import RealtimeHub
from .wire import MAX_PAYLOAD_BYTES, PayloadTooLarge

__all__ = ["BusUnavailable", "Client", "MAX_PAYLOAD_BYTES", "PayloadTooLarge", "RealtimeHub"]
