"""The virtual patient on a walkway of virtual mat tiles (``gaitkiosk simulate --pty --tiles N``).

The person walks a long virtual mat (N tiles' rows end to end along +y); each
tile is a virtual mat controller of its own (own serial, own clock offset and
drift, own sample phase) that sends its rows of that mat, turned by its
``rotation`` the way it lies on the floor. Stitched by :mod:`device.tiles` with
the same layout, the walkway is that long mat again (each tile's read noise its own).
"""

from __future__ import annotations

import time

import numpy as np

from device.virtual import FrameSource, VirtualDevice


class TileSource(FrameSource):
    """Rows ``row0 .. row0 + rows`` of a shared virtual mat, as a tile turned by ``rotation`` sends them."""

    def __init__(self, mat_source, row0: int, rows: int, rotation: int = 0) -> None:
        self.mat = mat_source  # a protocol_sim.SimSource of the whole walkway's mat
        self.row0, self.tile_rows, self.turns = int(row0), int(rows), int(rotation) // 90
        self.kind = mat_source.kind
        self.bits = mat_source.bits
        # The tile's own rows and columns and pitch: the laid-out part turned back (a 90 turn swaps them).
        laid = (self.tile_rows, mat_source.cols)
        pitch = tuple(mat_source.pitch_mm)
        self.rows, self.cols = laid if self.turns % 2 == 0 else laid[::-1]
        self.pitch_mm = pitch if self.turns % 2 == 0 else (pitch[1], pitch[0])

    onboard = None  # the on-board zero and gate of the tile's last good ZERO (device/sim/zero_gate.py)

    def _scan(self, t_host: float) -> tuple[np.ndarray, float]:
        """The tile's raw counts at ``t_host`` (as it sends them) and the force on it (N)."""
        # Only this tile's rows go through the sensor model: converting the whole walkway for
        # each tile made the simulator itself too slow for 4 x 64 x 64 at 200 Hz on a busy machine.
        p = self.mat.shared.patient
        s = p.sample(self.mat._t(t_host), insoles=False)
        kpa = s.mat_kpa[self.row0:self.row0 + self.tile_rows]
        laid = p.mat_sensor.counts_rows(kpa, self.row0, key=round(s.t * 1e6))
        force = float(np.nansum(kpa)) * self.pitch_mm[0] * self.pitch_mm[1] * 1e-3  # kPa x mm2 = mN
        return np.ascontiguousarray(np.rot90(laid, -self.turns)), force

    def counts(self, t_host: float, index: int) -> np.ndarray:
        counts = self._scan(t_host)[0]
        return counts if self.onboard is None else self.onboard.apply(counts)

    def forget_zero(self) -> None:
        """Power-up: the zero is lost; a ``zero=`` tile zeroes itself unloaded, as the mat does."""
        from device.sim.zero_gate import ZERO_WINDOW_SCANS

        super().forget_zero()
        self.onboard = None
        gate = getattr(self.mat, "power_up_gate", None)
        if gate is not None:
            sensor = self.mat.shared.patient.mat_sensor
            unloaded = np.zeros((self.tile_rows, self.mat.cols))
            self._zero_with(np.stack([np.rot90(sensor.counts_rows(unloaded, self.row0, key=(1 << 47) + k), -self.turns)
                                      for k in range(ZERO_WINDOW_SCANS)]), gate)

    def zero(self, t_host: float, gate: int = 0, period_s: float = 0.01):
        """ZERO from the scans just before the command; refused while someone stands on this tile."""
        from device.framing import AckResult
        from device.handlers.protocol_sim import ZERO_MAX_FORCE_N
        from device.sim.zero_gate import ZERO_WINDOW_SCANS

        start = max(t_host - (ZERO_WINDOW_SCANS - 1) * period_s, self.mat.shared.epoch)
        scans = [self._scan(start + k * period_s) for k in range(ZERO_WINDOW_SCANS)]
        peak = max(force for _, force in scans)
        if peak > ZERO_MAX_FORCE_N:
            return AckResult.BUSY, f"the tile is loaded ({peak:.0f} N): ask the patient to step off, then zero"
        self._zero_with(np.stack([c for c, _ in scans]), gate)
        return AckResult.OK, ""

    def _zero_with(self, window: np.ndarray, gate: int) -> None:
        from device.sim.zero_gate import ZeroGate

        self.onboard = ZeroGate.measure(window, gate)
        self.zeroed, self.gate_counts = True, self.onboard.gate_counts


def walkway_devices(patient, tiles: int, *, rotations: tuple[int, ...] | None = None, insoles: bool = True,
                    tag: str = "pty", jitter_s: float = 0.0, drop_rate: float = 0.0, corrupt_rate: float = 0.0,
                    seed: int = 1) -> dict[str, VirtualDevice]:
    """``mat_1`` .. ``mat_N`` (rearmost first) and the insoles of one VirtualPatient on a walkway.

    The patient's mat is the whole walkway (``tiles`` x the tile's rows); each tile
    starts at its own clock offset and drifts by its own few tens of ppm.
    """
    from device.framing import DeviceKind
    from device.handlers.protocol_sim import SharedPatient, SimSource
    from device.pty import patient_devices

    if patient.mat.rows % tiles:
        raise ValueError(f"a walkway of {patient.mat.rows} rows does not split into {tiles} equal tiles")
    rows = patient.mat.rows // tiles
    rotations = rotations or (0,) * tiles
    shared = SharedPatient(patient, time.monotonic(), {}, tag)
    whole = SimSource(shared, DeviceKind.MAT, None)
    rng = np.random.default_rng(seed)
    devices = {}
    for i in range(tiles):
        devices[f"mat_{i + 1}"] = VirtualDevice(
            TileSource(whole, i * rows, rows, rotations[i]), serial=f"sim-tile{i + 1}-{tag}",
            firmware="gaitkiosk-sim 1.0", rate_hz=patient.mat.rate_hz, boot_clock_s=50.0 + 73.0 * i,
            drift_ppm=float(rng.uniform(-50.0, 50.0)), jitter_s=jitter_s, drop_rate=drop_rate,
            corrupt_rate=corrupt_rate, seed=seed * 16 + i, powered=False,
        )
    if insoles:
        # The same person's insoles (their own SharedPatient clock: the same epoch, near enough for demos).
        for name, dev in patient_devices(patient, mat=False, tag=tag, jitter_s=jitter_s, drop_rate=drop_rate,
                                         corrupt_rate=corrupt_rate, seed=seed).items():
            dev.source.shared = shared
            devices[name] = dev
    return devices
