"""pyserial URL handlers (``protocol_<scheme>.py``) for the kiosk's own schemes."""
