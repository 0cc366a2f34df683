"""The one WebSocket per open page: realtime events out, playback commands and pings in.

`endpoint` admits a socket, `connection` serves it; the other modules are the parts they share.
"""
