"""uvicorn's WebSocket protocol, plus one way to write a ready-made frame to a socket.

One event goes to thousands of live sockets with the same bytes. Through ASGI,
every socket's copy passes Starlette's send chain, the session middleware's
send wrapper and uvicorn's `send` (which frames it again), about three quarters
of the per-listener cost. So the live socket frames an event once
(`text_frame`) and writes it to each socket's transport directly
(`FrameWriter.write`), the way a broadcasting WebSocket server does; everything
else (handshake, receiving, closing, pings, backpressure) stays uvicorn's.

`serve` passes `LiveWebSocketProtocol` as uvicorn's `ws` protocol class and
turns permessage-deflate off: a compressed socket needs its own copy of every
frame (its compressor keeps state), and zlib's buffers cost more than the rest
of an idle connection. A socket that negotiated an extension anyway gets no
writer, so the live socket falls back to plain ASGI sends for it.
"""

from __future__ import annotations

import struct

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

FRAME_WRITER = "livebeats.frame_writer"
"""Key of the connection's `FrameWriter` in the ASGI scope's "extensions"."""

TEXT_FIN = 0x81
"""First byte of a complete (FIN) text frame; servers never mask (RFC 6455 §5.1)."""


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked text frame (RFC 6455 §5.2) carrying `payload` (UTF-8)."""
    size = len(payload)
    if size < 126:
        return bytes((TEXT_FIN, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", TEXT_FIN, 126, size) + payload
    return struct.pack("!BBQ", TEXT_FIN, 127, size) + payload


class FrameWriter:
    """Writes whole frames to one accepted socket, or says it cannot (then send through ASGI)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write `frame` now; False if the socket is not open, closing, or its buffer is full.

        A full buffer (uvicorn paused writing: the peer does not read) is left to
        the connection's bounded outbox, so a stalled page is dropped, not buffered.
        """
        protocol = self._protocol
        if (
            not protocol.handshake_complete
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or protocol.transport.is_closing()
        ):
            return False
        protocol.transport.write(frame)
        return True


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol that hands each accepted-to-be socket a `FrameWriter`."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The request (headers and all) is in the ASGI scope now and uvicorn never reads it again.
        self.request = None  # type: ignore[assignment]  # uvicorn declares it always set; dropped to free the headers
        if self.response.status_code == 101 and not self.conn.extensions:
            # uvicorn types every scope extension as a dict of options; the ASGI spec leaves the value open.
            self.scope["extensions"][FRAME_WRITER] = FrameWriter(self)  # type: ignore[assignment]
