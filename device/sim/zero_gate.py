"""A mat controller's on-board zero and noise gate (the device side of the ZERO command).

What docs/protocol.md section 9 asks a device to do on ``ZERO value``, written as
the reference a firmware author can compare against and as what the virtual
devices run:

- from the last ``ZERO_WINDOW_SCANS`` scans, each sensel's baseline
  ``b = round(mean)`` and noise ``sigma`` (sample standard deviation);
- its gate ``g``: ``value`` counts for every sensel when ``value > 0``;
  ``ceil(GATE_SIGMAS * sigma)`` but at least 1 when ``value == 0``; none
  (``g = 0``) when ``value == -1``;
- every later scan sends ``d = counts - b`` where ``d >= g``, else 0 (so also
  0 where ``d`` is negative).

Why a gate: the unloaded sensels of a resistive mat still read a few counts of
offset and noise, and that noise, not the feet, is what fills a recording (a
48 x 48 mat of sigma = 3 counts noise carries ~3.6 bits per sensel per frame that
no lossless codec can remove). Commercial mat electronics apply such a noise
threshold in the controller for the same reason; the price is that loads below
the gate (a few kPa on one sensel) read as nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.packets import GATE_SIGMAS, NO_GATE

ZERO_WINDOW_SCANS = 32  # scans measured for a ZERO (0.32 s at 100 Hz)


@dataclass(frozen=True)
class ZeroGate:
    """The per-sensel baseline and gate a ZERO measured, and how they apply to a scan."""

    baseline: np.ndarray  # int32, the sensor's shape
    gate: np.ndarray  # int32, counts; 0 where no gate
    gate_counts: int | None  # as HELLO says: None no gate, 0 per-sensel, > 0 fixed

    @classmethod
    def measure(cls, window: np.ndarray, gate: int = 0) -> ZeroGate:
        """Baseline and gate from ``window`` (scans stacked on axis 0, unloaded counts)."""
        w = np.asarray(window, dtype=np.float64)
        if w.ndim < 2 or len(w) < 2:
            raise ValueError("a zero window needs at least two scans")
        gate = int(gate)
        if gate < NO_GATE:
            raise ValueError(f"gate must be -1 (none), 0 (per-sensel default) or a count > 0, got {gate}")
        baseline = np.rint(w.mean(axis=0)).astype(np.int32)
        if gate == NO_GATE:
            g, kept = np.zeros(baseline.shape, np.int32), None
        elif gate == 0:
            sigma = w.std(axis=0, ddof=1)
            g, kept = np.maximum(np.ceil(GATE_SIGMAS * sigma), 1).astype(np.int32), 0
        else:
            g, kept = np.full(baseline.shape, gate, np.int32), gate
        return cls(baseline, g, kept)

    def apply(self, counts: np.ndarray) -> np.ndarray:
        """The uint16 counts the device sends for a raw scan ``counts``."""
        d = np.asarray(counts, dtype=np.int32) - self.baseline
        return np.where(d >= np.maximum(self.gate, 1), d, 0).astype(np.uint16)
