"""``gaitkiosk devices``: which sensors are attached, and which ones the config names.

    gaitkiosk devices              attached USB sensors (by VID:PID) + configured ports, each asked for its HELLO
    gaitkiosk devices --no-probe   list only, open nothing
    gaitkiosk devices --udev       udev lines naming this unit's sensors /dev/gaitkiosk/mat ... (docs/install.md)
    gaitkiosk devices --json

Probing opens each port for a moment and asks the device who it is (GET_HELLO)
without starting it; a port held by the running kiosk service shows as busy.
"""

from __future__ import annotations

import os
import sys

from gaitkiosk import checks
from gaitkiosk.errors import KioskError, UsageError

HELP = "list attached sensors (USB VID/PID, serial, the identity in their HELLO) and the configured ones"


def add_arguments(parser) -> None:
    parser.add_argument("--no-probe", dest="probe", action="store_false",
                        help="do not open the ports to ask the devices for their identity")
    from gaitkiosk.config import ALLOWED

    parser.add_argument("--timeout", type=ALLOWED["devices.hello_timeout_s"], default=None, metavar="S",
                        help="seconds to wait for each device's HELLO (default: config devices.hello_timeout_s)")
    parser.add_argument("--udev", action="store_true",
                        help="print udev rule lines that give the attached sensors stable names")
    setup = parser.add_argument_group("walk-across set-up of a walkway (docs/walkway.md)")
    setup.add_argument("--walkway-setup", nargs="+", metavar="PORT", default=None,
                       help="the mat tiles' ports in any order: walk across from the rear end to the screen "
                            "a few times; prints their [[devices.tiles]] in walking order with each rotation")
    setup.add_argument("--seconds", type=checks.positive(most=600.0, unit="seconds"), default=20.0,
                       help="with --walkway-setup: how long to watch the walk (default 20)")
    setup.add_argument("--out", metavar="FILE", default=None,
                       help="with --walkway-setup: also write the [[devices.tiles]] tables to FILE (for the config)")


def _configured(config: dict) -> list[tuple[str, str]]:
    devices = config["devices"]
    out = []
    if devices["mat"]:
        out.append(("mat", devices["mat"]))
    # a walkway's tiles (docs/walkway.md), each probed on its own port, in the walkway's order
    for index, tile in enumerate(devices.get("tiles") or []):
        out.append((f"mat tile {index + 1}", tile["port"]))
    for index, url in enumerate(devices["insoles"]):
        out.append((("insole_left", "insole_right")[index] if index < 2 else f"insole_{index}", url))
    return out


def _probe(url: str, timeout: float, options: dict, cache: dict) -> dict:
    from device.errors import DeviceError
    from device.reader import probe

    key = os.path.realpath(url) if "://" not in url else url
    if key in cache:
        return cache[key]
    try:
        st = probe(url, timeout, **options)
        result = {"state": "ok" if st.hello is not None else "no answer", "reason": st.reason, "hello": st.identity()}
        from gaitkiosk.firmware_bundle import outdated_note

        result["firmware_note"] = outdated_note(st.hello)
    except DeviceError as exc:
        from device.reader import PortBusyError

        state = "busy" if isinstance(exc, PortBusyError) else "error"
        if "://" not in url and not os.path.exists(url):
            state = "missing"
        result = {"state": state, "reason": str(exc), "hello": {}}
    cache[key] = result
    return result


def _hello_text(hello: dict) -> str:
    if not hello:
        return ""
    shape = f"{hello['rows']}x{hello['cols']}" if hello["kind"] == "mat" else f"{hello['rows']} sensors"
    return f"{hello['kind']} {hello['serial']} fw {hello['firmware']} {shape} @ {hello['rate_hz']:g} Hz"


def run(args, ctx) -> int:
    from device import ports
    from device.handlers.protocol_sim import apply_config_defaults
    from device.reader import reader_options

    devices = ctx.config["devices"]
    timeout = args.timeout if args.timeout is not None else devices["hello_timeout_s"]
    options = reader_options(devices)
    if args.walkway_setup:
        return _walkway_setup(args, ctx, options)
    if args.out is not None:
        raise UsageError("--out goes with --walkway-setup")
    cache: dict[str, dict] = {}

    attached = []
    for port in ports.list_sensor_ports(devices["usb_ids"]):
        entry = port.as_dict()
        if args.probe:
            entry["probe"] = _probe(port.device, timeout, options, cache)
        attached.append(entry)

    configured = []
    for role, url in _configured(ctx.config):
        entry = {"role": role, "url": url, "virtual": url.split("://")[0] in ("sim", "replay")}
        if args.probe:
            entry["probe"] = _probe(apply_config_defaults(url, ctx.config["sim"]), timeout, options, cache)
        configured.append(entry)

    rules = []
    if args.udev:
        named = [(e, e.get("probe", {}).get("hello", {}).get("kind")) for e in attached if e["serial_number"]]
        named = [(e, kind) for e, kind in named if kind]
        # Several mats are a walkway's tiles (docs/walkway.md): mat-1, mat-2 ... by USB serial
        # number; the technician renumbers them from the rear and lists them so in devices.tiles.
        mats = sorted((e for e, kind in named if kind == "mat"), key=lambda e: e["serial_number"])
        tile_names = {id(e): f"mat-{n}" for n, e in enumerate(mats, start=1)} if len(mats) > 1 else {}
        for entry, kind in named:
            rules.append(ports.udev_rule(kind, ports.SensorPort(**{
                k: entry[k] for k in ("device", "vid", "pid", "serial_number")}), tile_names.get(id(entry))))

    data = {"usb_ids": devices["usb_ids"], "attached": attached, "configured": configured}
    if args.udev:
        data["udev_rules"] = rules
    ctx.emit(data, _text(data, args))
    return 0


def _text(data: dict, args) -> str:
    lines = [f"Attached sensors (USB {', '.join(data['usb_ids'])}):"]
    if not data["attached"]:
        lines.append("  none found - check the USB cables; `lsusb` shows what is plugged in, and "
                     "devices.usb_ids in the config must list its VID:PID")
    for e in data["attached"]:
        names = " ".join(e["stable_names"])
        probe = e.get("probe")
        ident = "" if probe is None else (_hello_text(probe["hello"]) or f"{probe['state']}: {probe['reason']}")
        if probe and probe.get("firmware_note"):
            ident += "  " + probe["firmware_note"]
        lines.append(f"  {e['device']:<14} {e['usb_id']}  serial {e['serial_number'] or '-':<18} {ident}  {names}".rstrip())
    lines.append("Configured (config devices.mat, devices.insoles):")
    for e in data["configured"]:
        probe = e.get("probe")
        if probe is None:
            status = "virtual" if e["virtual"] else ("present" if os.path.exists(e["url"]) or "://" in e["url"] else "missing")
        else:
            status = _hello_text(probe["hello"]) or f"{probe['state']}: {probe['reason']}"
            if probe.get("firmware_note"):
                status += "  " + probe["firmware_note"]
        lines.append(f"  {e['role']:<13} {e['url']:<32} {status}")
    if args.udev:
        lines.append("udev rules (put them in /etc/udev/rules.d/99-gaitkiosk.rules, section 2; see docs/install.md):")
        if data["udev_rules"]:
            lines.extend(f"  {rule}" for rule in data["udev_rules"])
        else:
            lines.append("  none: no attached sensor both has a USB serial number and answered with its HELLO")
    return "\n".join(lines)


def _walkway_setup(args, ctx, options: dict) -> int:
    """Read every tile while someone walks across; print (and --out: write) the learned layout."""
    import time
    from pathlib import Path

    import numpy as np

    from device.reader import DeviceReader
    from device.tile_layout import LayoutError, learn, tiles_toml

    ports = list(args.walkway_setup)
    if len(set(ports)) != len(ports):
        raise UsageError("--walkway-setup: a port is given twice")
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        raise UsageError(f"--out {out}: directory {out.parent} does not exist")
    options = dict(options, queue_frames=max(options["queue_frames"], int(args.seconds * 500) + 1000))
    readers = []
    try:
        for port in ports:
            readers.append(DeviceReader(port, name=port, **options).open())
        hellos = [r.wait_ready(options["hello_timeout_s"] + 1.0) for r in readers]
        for port, hello in zip(ports, hellos, strict=True):
            if hello.kind.label != "mat":
                raise UsageError(f"{port} is a {hello.kind.label}, not a mat tile")
        if len({h.rate_hz for h in hellos}) != 1:
            raise UsageError("the tiles run at different rates: set one rate for all (docs/walkway.md)")
        if not ctx.json:
            print(f"Walk across the walkway from the rear end to the screen, again and again, for "
                  f"{args.seconds:g} s ...", file=sys.stderr, flush=True)
        time.sleep(args.seconds)
        frames = []
        for port, r in zip(ports, readers, strict=True):
            got = r.frames.drain()
            if not got:
                raise KioskError(f"no frames from {port} while watching the walk: check its cable")
            frames.append((np.array([f.t_host for f in got]), np.stack([f.counts for f in got])))
    finally:
        for r in readers:
            r.close()
    try:
        tiles = learn(ports, frames, hellos[0].rate_hz)
    except LayoutError as exc:
        raise KioskError(f"walkway set-up: {exc}") from None
    text = tiles_toml(tiles)
    if out is not None:
        out.write_text(text)
    data = {"tiles": [{"port": t.port, "rotation": t.rotation, "forward": round(t.forward, 3),
                       "lag_s": round(t.lag_s, 3)} for t in tiles], "out": str(out) if out else None}
    lines = ["Learned walkway (rearmost first; put these in the config's [devices], leave devices.mat out):", "", text]
    if out is not None:
        lines.append(f"written to {out}")
    ctx.emit(data, "\n".join(lines))
    return 0
