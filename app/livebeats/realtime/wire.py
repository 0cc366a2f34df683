"""The JSON envelopes that travel between nodes through PostgreSQL NOTIFY.

NOTIFY payloads must be shorter than 8000 bytes, and a rejected NOTIFY would
fail far from the code that built the message. So every envelope is encoded
here, once, and measured against a limit with room to spare; an oversize one is
refused with an error that names the topic, the size and the limit.

Envelope keys are one letter because every byte is sent to every node:
``n`` sending node, ``k`` kind, then kind-specific fields (see `hub.py`).
"""

from __future__ import annotations

import json
from typing import Any

MAX_PAYLOAD_BYTES = 7000
"""Largest envelope we send; PostgreSQL's hard limit is 7999 bytes."""


class PayloadTooLarge(ValueError):
    """A realtime message does not fit in one NOTIFY."""


def encode(envelope: dict[str, Any], *, what: str) -> str:
    """JSON-encode an envelope, refusing one that is too large or not JSON.

    `what` names the message in errors, e.g. "message for topic 'profile:42'".
    """
    try:
        text = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} is not JSON-serializable: {exc}") from exc
    size = len(text.encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"{what} is {size} bytes as JSON; realtime messages are limited to "
            f"{MAX_PAYLOAD_BYTES} bytes (PostgreSQL NOTIFY allows under 8000). "
            "Send ids and deltas and let clients fetch the rest."
        )
    return text


def encoded_size(value: Any) -> int:
    """Bytes `value` takes inside an envelope; used to pack batches under the limit."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
