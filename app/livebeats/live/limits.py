"""How many live sockets a browser and an account may hold, and how fast a page may send.

A browser may hold at most MAX_SOCKETS_PER_SESSION of these sockets on a node
and an account MAX_SOCKETS_PER_USER (`OpenSockets`): more is a runaway script,
not a reader. A signed-out visitor's socket (PUBLIC_PROFILES) has neither a
session nor an account to count by, so `PublicSockets` counts them per client
address and in all, on each node.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Hashable
from typing import TypeVar

from starlette.websockets import WebSocket

from livebeats.services import node_wide

MAX_SOCKETS_PER_SESSION = 10
MAX_SOCKETS_PER_USER = 25
MAX_PUBLIC_SOCKETS_PER_ADDRESS = 20
"""Signed-out sockets one client address may hold on a node: a household or an office behind one NAT."""
MAX_PUBLIC_SOCKETS = 2000
"""Signed-out sockets a node holds in all, so that visitors cannot crowd out the signed-in users' sockets."""
MESSAGE_BURST = 20
MESSAGES_PER_SECOND = 10.0
"""A page sends a ping every 5 s and a command per click; more than this is a runaway script."""


class OpenSockets:
    """How many live sockets each session and each user holds on this node."""

    def __init__(self) -> None:
        self._per_session: collections.Counter[str] = collections.Counter()
        self._per_user: collections.Counter[int] = collections.Counter()

    @staticmethod
    def of(websocket: WebSocket) -> OpenSockets:
        return node_wide(websocket, "live_open_sockets", OpenSockets)

    def admit(self, user_id: int, session: str) -> str | None:
        """Count one more socket, or say (as a close reason, under 123 bytes) why not."""
        if self._per_session[session] >= MAX_SOCKETS_PER_SESSION:
            return f"Too many tabs: at most {MAX_SOCKETS_PER_SESSION} live pages per browser."
        if self._per_user[user_id] >= MAX_SOCKETS_PER_USER:
            return f"Too many tabs: at most {MAX_SOCKETS_PER_USER} live pages per account."
        self._per_session[session] += 1
        self._per_user[user_id] += 1
        return None

    def release(self, user_id: int, session: str) -> None:
        _release(self._per_session, session)
        _release(self._per_user, user_id)


class PublicSockets:
    """How many signed-out (public listening) sockets each client address, and all of them, hold on this node.

    The address is the one uvicorn reports: the load balancer's X-Forwarded-For
    client when FORWARDED_ALLOW_IPS trusts it, else the peer's.
    """

    def __init__(self) -> None:
        self._per_address: collections.Counter[str] = collections.Counter()
        self._total = 0

    @staticmethod
    def of(websocket: WebSocket) -> PublicSockets:
        return node_wide(websocket, "live_public_sockets", PublicSockets)

    def admit(self, address: str) -> str | None:
        """Count one more socket, or say (as a close reason, under 123 bytes) why not."""
        if self._total >= MAX_PUBLIC_SOCKETS:
            return "Too many visitors on this server right now; sign in, or try again later."
        if self._per_address[address] >= MAX_PUBLIC_SOCKETS_PER_ADDRESS:
            return f"Too many tabs: at most {MAX_PUBLIC_SOCKETS_PER_ADDRESS} signed-out live pages per address."
        self._per_address[address] += 1
        self._total += 1
        return None

    def release(self, address: str) -> None:
        self._total -= 1
        _release(self._per_address, address)


Key = TypeVar("Key", bound=Hashable)


def _release(counter: collections.Counter[Key], key: Key) -> None:
    """Count one socket of `key` less, forgetting a key with none (a node sees many browsers come and go)."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class MessageRate:
    """Token bucket for one socket's messages: MESSAGE_BURST at once, refilled at MESSAGES_PER_SECOND."""

    def __init__(self) -> None:
        self._allowance = float(MESSAGE_BURST)
        self._allowance_at = time.monotonic()

    def take(self) -> bool:
        """Count one message; False if it is over the rate (and is to be ignored)."""
        now = time.monotonic()
        self._allowance = min(MESSAGE_BURST, self._allowance + (now - self._allowance_at) * MESSAGES_PER_SECOND)
        self._allowance_at = now
        if self._allowance < 1:
            return False
        self._allowance -= 1
        return True
