"""The board's configuration file on flash (``config.json``): who it is and how it is wired.

Example (docs/firmware.md explains each key)::

    {"side": "left", "serial": "INS-L-000123",
     "pins": {"adc": 26, "mux": [2, 3, 4, 5], "led": 25},
     "sensors": 16, "bits": 12, "rate_hz": 100, "oversample": 4, "settle_us": 20}

Optional: "address" (default 0), "zero_max_counts" (ZERO answers BUSY when a sensor's mean
is above it; default 400), "pins.battery" (ADC pin of the battery divider) with "battery_divider"
(default 3, the Pico's VSYS/3), "temperature" (read the RP2040's sensor; default true), "positions" ([[x, y], ...] mm) and "areas" ([mm^2, ...]),
which the HELLO sends when present. Anything wrong raises ValueError with a one-line reason,
so a mis-flashed board says what to fix instead of streaming nonsense.
"""

import json

DEFAULTS = {"sensors": 16, "bits": 12, "rate_hz": 100, "oversample": 4, "settle_us": 20, "address": 0,
            "zero_max_counts": 400, "temperature": True, "battery_divider": 3.0}
RATES_HZ = (100, 200)  # the rates the scan loop is specified for (issue 13); others are refused


def load(path="config.json"):
    """The validated configuration read from ``path``."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ValueError(f"no configuration file {path} on the board: copy one (docs/firmware.md)") from None
    try:
        raw = json.loads(text)
    except ValueError:
        raise ValueError(f"configuration file {path} is not valid JSON") from None
    return check(raw)


def check(raw):
    """A complete configuration dict from ``raw`` (defaults filled in), or ValueError."""
    if not isinstance(raw, dict):
        raise ValueError("configuration must be a JSON object")
    cfg = dict(DEFAULTS)
    cfg.update(raw)
    if cfg.get("side") not in ("left", "right"):
        raise ValueError("config 'side' must be \"left\" or \"right\", got {!r}".format(cfg.get("side")))
    serial = cfg.get("serial")
    if not isinstance(serial, str) or not serial or len(serial.encode("utf-8")) > 255:
        raise ValueError("config 'serial' must be a non-empty string of at most 255 bytes")
    n = cfg["sensors"]
    if not isinstance(n, int) or not 1 <= n <= 16:
        raise ValueError(f"config 'sensors' must be 1..16 (one 16-channel multiplexer), got {n!r}")
    if cfg["bits"] not in (8, 12, 16):
        raise ValueError("config 'bits' must be 8, 12 or 16, got {!r}".format(cfg["bits"]))
    if cfg["rate_hz"] not in RATES_HZ:
        raise ValueError("config 'rate_hz' must be one of {!r}, got {!r}".format(RATES_HZ, cfg["rate_hz"]))
    if not isinstance(cfg["oversample"], int) or not 1 <= cfg["oversample"] <= 64:
        raise ValueError("config 'oversample' must be 1..64 ADC reads per sensel")
    if not isinstance(cfg["settle_us"], int) or not 0 <= cfg["settle_us"] <= 1000:
        raise ValueError("config 'settle_us' must be 0..1000 microseconds")
    if not isinstance(cfg["address"], int) or not 0 <= cfg["address"] < 0xFFFF:
        raise ValueError("config 'address' must be 0..65534")
    if not isinstance(cfg["zero_max_counts"], int) or not 0 < cfg["zero_max_counts"] < (1 << cfg["bits"]):
        raise ValueError("config 'zero_max_counts' must be 1..{} counts".format((1 << cfg["bits"]) - 1))
    pins = cfg.get("pins")
    if not isinstance(pins, dict) or not isinstance(pins.get("adc"), int):
        raise ValueError("config 'pins' must name the 'adc' pin (an integer)")
    mux = pins.get("mux")
    if not isinstance(mux, list) or not 1 <= len(mux) <= 4 or (1 << len(mux)) < n:
        raise ValueError("config 'pins.mux' must list the select pins S0.. (4 for 16 sensors)")
    for key, width in (("positions", 2), ("areas", 1)):
        values = cfg.get(key)
        if values is None:
            continue
        if not isinstance(values, list) or len(values) != n:
            raise ValueError(f"config '{key}' must list one entry per sensor ({n})")
        for v in values:
            ok = (isinstance(v, list) and len(v) == 2) if width == 2 else isinstance(v, (int, float))
            if not ok:
                raise ValueError(f"config '{key}' has a malformed entry {v!r}")
    return cfg
