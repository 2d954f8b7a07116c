"""The firmware's version: what HELLO's `firmware` field says and what the kiosk compares."""

VERSION = "0.2.0"  # also in firmware/manifest.py; a raise makes the kiosk offer the update
PROTOCOL_MIN = 1  # the protocol versions this firmware speaks (docs/protocol.md section 8)
PROTOCOL_MAX = 1
