"""The kiosk's open sensors: one DeviceReader per port URL, and how each one's counts become kPa.

Opening is done on the runtime's worker thread (a port can take a moment to
answer); the analysis thread only drains the readers' queues.
"""

from __future__ import annotations

import logging
import urllib.parse

from gaitkiosk.pressure import Pressure, pressure_for, tile_pressures

log = logging.getLogger(__name__)


def sim_urls(config: dict, *, patient: str, scenario: str | None = None, params: dict | None = None,
             mat_rows: int | None = None) -> list[str]:
    """The virtual mat and insoles of one simulated person (``patient`` names it).

    With ``devices.zero_when_idle`` the virtual devices power up zeroed (``zero=``): the
    person of a demo is already standing when their sensors open, and a unit's
    sensors would have been zeroed before they stepped on.
    """
    from device.handlers.protocol_sim import apply_config_defaults

    query = {"patient": patient}
    if config["devices"].get("zero_when_idle", False):
        query["zero"] = str(int(config["devices"].get("zero_gate", 0)))
    if scenario:
        query["scenario"] = scenario
    for k, v in (params or {}).items():
        query[k] = f"{v:g}" if isinstance(v, float) else str(v)
    q = urllib.parse.urlencode(query)
    tiles = int(config["sim"].get("tiles") or 0)
    if tiles > 1:  # a walkway of virtual tiles, each its own device and clock; the demo walks it all
        mat_rows = tiles * int(config["sim"]["mat_rows"])
    mat_q = q + (f"&rows={mat_rows}" if mat_rows else "")
    urls = [f"sim://mat?{mat_q}", f"sim://insole?side=left&{q}", f"sim://insole?side=right&{q}"]
    urls = [apply_config_defaults(u, config["sim"]) for u in urls]
    if tiles > 1:
        urls[0] = f"{SIM_TILES}{urls[0]}&tiles={tiles}"
    return urls


SIM_TILES = "tiles+"  # tiles+sim://mat?...&tiles=N: the virtual mat as N tiles stitched into one (demos)


TILES_URL = "tiles://devices"  # the configured walkway (devices.tiles) in place of the mat's URL


def config_urls(config: dict) -> list[str]:
    devices = config["devices"]
    mat = TILES_URL if devices.get("tiles") else devices["mat"]
    return [u if u == TILES_URL else _sim_zero(_sim_defaults(u, config["sim"]), devices)
            for u in [mat, *devices["insoles"]] if u]


def _sim_defaults(url: str, sim: dict) -> str:
    """The config's ``[sim]`` values added to a ``sim://`` URL. A real port is left as it is without
    importing the simulator: it brings scipy's statistics and signal packages, ~35 MB of a kiosk's
    memory for nothing (bench/bench_kiosk_cpu.py)."""
    if not url.startswith("sim:"):
        return url
    from device.handlers.protocol_sim import apply_config_defaults

    return apply_config_defaults(url, sim)


def _sim_zero(url: str, devices: dict) -> str:
    """A configured sim:// sensor powers up zeroed, as one the kiosk zeroed before the person stepped on."""
    if not url.startswith("sim:") or not devices.get("zero_when_idle", False) or "zero=" in url:
        return url
    return url + ("&" if "?" in url else "?") + f"zero={int(devices.get('zero_gate', 0))}"


def _sim_walkway(url: str, options: dict):
    """The virtual walkway of ``sim://mat?...&tiles=N``: tile i is ``...&tile=i``, all stitched as the kiosk
    stitches real tiles. Its URL stays the sim:// one, so its pressure is the virtual sensor's."""
    from device.handlers.virtual_port import parse_query
    from device.tiles import TiledMat, TileSpec

    _, params = parse_query(url, "sim")
    mat = TiledMat([TileSpec(f"{url}&tile={i}") for i in range(int(params["tiles"]))], **options)
    mat.url = url
    return mat


class Sensors:
    """Readers for a set of URLs; ``pressure[serial]`` once each device has said hello."""

    def __init__(self, config: dict, clock=None):
        from device.reader import reader_options

        self.options = reader_options(config["devices"])
        self.tiles = list(config["devices"].get("tiles") or [])
        if clock is not None:
            self.options["clock"] = clock
        self.readers: list = []
        self.urls: list[str] = []
        self.pressure: dict[str, Pressure] = {}
        self.open_errors: list[str] = []
        self.zero_results: dict[str, str] = {}  # serial -> "zeroed" | "busy: ..." | "unsupported: ..."
        # serial -> its firmware, for insoles older than the firmware this kiosk carries (logged once;
        # for the technicians' screens): gaitkiosk firmware flash updates them (docs/firmware.md)
        self.firmware_outdated: dict[str, str] = {}

    def open(self, urls: list[str], ready_timeout_s: float = 3.0) -> None:
        """Open every URL; a port that fails is reported in :attr:`open_errors`, the others run."""
        from device.errors import DeviceError

        self.close()
        self.urls = list(urls)
        self.open_errors = []
        for url in urls:
            try:
                self.readers.append(self._reader(url).open())
            except (DeviceError, OSError, ValueError) as exc:
                self.open_errors.append(f"{url}: {exc}")
                log.warning("cannot open %s: %s", url, exc)
        for r in self.readers:
            try:
                r.wait_ready(ready_timeout_s)
            except DeviceError as exc:
                log.warning("%s", exc)

    def _reader(self, url: str):
        """A DeviceReader, or for the configured walkway one TiledMat of its tiles' readers."""
        from device.reader import DeviceReader

        if url.startswith(SIM_TILES):
            return _sim_walkway(url[len(SIM_TILES):], self.options)
        if url != TILES_URL:
            return DeviceReader(url, **self.options)
        from device.tiles import TiledMat, parse_tiles

        return TiledMat(parse_tiles(self.tiles), **self.options)

    def identify(self, calibrations=None) -> dict[str, Pressure]:
        """Decide each ready device's kPa conversion (``calibrations(serial)`` -> Calibration|None)."""
        for r in self.readers:
            h = r.hello
            if h is not None:
                self._check_firmware(h, r.name)
            if h is None or h.serial in self.pressure:
                continue
            cal = calibrations(h.serial) if calibrations else None
            if cal is None and hasattr(r, "tile_hellos"):
                # A walkway without a calibration of its own: each tile's own, its number per tile
                # (the trial keeps every tile's calibration id beside the walkway's composite one).
                walkway, tiles = tile_pressures(r, calibrations)
                if walkway is not None:
                    self.pressure[h.serial] = walkway
                    self.pressure.update(tiles)
                    continue
            self.pressure[h.serial] = pressure_for(h, r.url, cal)
        return self.pressure

    def _check_firmware(self, hello, port: str) -> None:
        from gaitkiosk.firmware_bundle import outdated_note

        if hello.serial in self.firmware_outdated:
            return
        note = outdated_note(hello)
        if note:
            self.firmware_outdated[hello.serial] = hello.firmware
            log.warning("insole %s on %s: %s", hello.serial, port.split("?")[0], note)

    def zero(self, gate: int = 0, timeout_s: float = 1.0) -> dict[str, str]:
        """ZERO every ready sensor not yet zeroed (docs/protocol.md section 9.1); call only when idle.

        The device itself refuses (BUSY) while someone is on it, so this is safe to
        try whenever no drill runs; a sensor without on-board zero (UNSUPPORTED) is
        not asked again. A zeroed sensor's kPa conversion is decided afresh
        (:meth:`identify`), since its counts and HELLO changed.
        """
        from device.errors import DeviceError

        for r in self.readers:
            h = r.hello
            if h is None or h.zeroed or self.zero_results.get(h.serial, "").startswith("unsupported"):
                continue
            try:
                r.zero(gate, timeout=timeout_s)
            except DeviceError as exc:
                text = str(exc)
                state = "unsupported" if "UNSUPPORTED" in text or "UNKNOWN_COMMAND" in text else "busy"
                self.zero_results[h.serial] = f"{state}: {text}"
                log.info("zero %s: %s", h.serial, text)
                continue
            self.zero_results[h.serial] = "zeroed"
            self.pressure.pop(h.serial, None)
            log.info("zeroed %s (gate %s)", h.serial, r.hello.gate_counts if r.hello else "?")
        return dict(self.zero_results)

    def by_kind(self, kind: str):
        for r in self.readers:
            if r.hello is not None and r.hello.kind.label == kind:
                return r
        return None

    def problem(self) -> str | None:
        """One plain line when a configured sensor is not streaming, else None."""
        if self.open_errors:
            return "A sensor is not connected. Please tell the staff."
        for r in self.readers:
            st = r.status()
            if st.state not in ("streaming",):
                return f"Sensor {r.name.split('?')[0]} is {st.state}" + (f": {st.reason}" if st.reason else "")
        for p in self.pressure.values():
            if not p.usable:
                return p.problem
        return None

    def close(self) -> None:
        for r in self.readers:
            try:
                r.close()
            except Exception as exc:  # noqa: BLE001 - closing the others matters more
                log.warning("closing %s: %s", r.name, exc)
        self.readers = []
        self.pressure = {}
