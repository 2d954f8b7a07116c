"""The firmware's version: what HELLO's `firmware` field says and what the kiosk compares."""

VERSION = "0.1.0"
PROTOCOL_MIN = 1  # the protocol versions this firmware speaks (docs/protocol.md section 8)
PROTOCOL_MAX = 1
