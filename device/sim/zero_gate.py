"""A mat controller's on-board zero and noise gate (the device side of the ZERO command).

What docs/protocol.md section 9 asks a device to do on ``ZERO value``, written as
the reference a firmware author can compare against and as what the virtual
devices run:

- from the last ``ZERO_WINDOW_SCANS`` scans (W), with each sensel's sums
  ``S1 = sum x`` and ``S2 = sum x^2``: baseline ``b = floor((S1 + W/2) / W)``
  (the mean rounded, halves up);
- its gate ``g``: ``value`` counts for every sensel when ``value > 0``; when
  ``value == 0`` the smallest integer ``g >= 1`` with
  ``g^2 W (W-1) >= 9 (W S2 - S1^2)``, i.e. ``max(1, ceil(3 sigma))`` with sigma
  the sample standard deviation, at most 65535; 1 (just the clamp at 0) when
  ``value == -1``;
- every later scan sends ``d = counts - b`` where ``d >= g``, else 0 (so also
  0 where ``d`` is negative).

All in integers, exactly as the spec's C code does it, so a device and this
reference agree to the count (tests/test_zero_gate.py compiles the spec's C).

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

GATE_K2 = round(GATE_SIGMAS**2)  # 9: the default gate compares g^2 with 9 sigma^2, in integers

ZERO_WINDOW_SCANS = 32  # scans measured for a ZERO (0.32 s at 100 Hz)


@dataclass(frozen=True)
class ZeroGate:
    """The per-sensel baseline and gate a ZERO measured, and how they apply to a scan."""

    baseline: np.ndarray  # int32, the sensor's shape
    gate: np.ndarray  # int32, counts >= 1 (1: no gate, just the clamp at 0)
    gate_counts: int | None  # as HELLO says: None no gate, 0 per-sensel, > 0 fixed

    @classmethod
    def measure(cls, window: np.ndarray, gate: int = 0) -> ZeroGate:
        """Baseline and gate from ``window`` (scans stacked on axis 0, unloaded counts)."""
        x = np.asarray(window)
        if x.ndim < 2 or len(x) < 2:
            raise ValueError("a zero window needs at least two scans")
        if x.size and (x.min() < 0 or x.max() > 0xFFFF):
            raise ValueError("zero window counts must be 0..65535")
        gate = int(gate)
        if gate < NO_GATE:
            raise ValueError(f"gate must be -1 (none), 0 (per-sensel default) or a count > 0, got {gate}")
        x = x.astype(np.int64)
        w = len(x)
        s1, s2 = x.sum(axis=0), (x * x).sum(axis=0)
        baseline = ((s1 + w // 2) // w).astype(np.int32)
        if gate == NO_GATE:
            g, kept = np.ones(baseline.shape, np.int32), None
        elif gate == 0:
            g, kept = _sigma_gate(s1, s2, w), 0
        else:
            g, kept = np.full(baseline.shape, gate, np.int32), gate
        return cls(baseline, g, kept)

    def apply(self, counts: np.ndarray) -> np.ndarray:
        """The uint16 counts the device sends for a raw scan ``counts``."""
        d = np.asarray(counts, dtype=np.int32) - self.baseline
        return np.where(d >= self.gate, d, 0).astype(np.uint16)


def _sigma_gate(s1: np.ndarray, s2: np.ndarray, w: int) -> np.ndarray:
    """The smallest g >= 1 with g^2 w (w-1) >= 9 (w s2 - s1^2), at most 65535 (exact integers)."""
    need = GATE_K2 * (w * s2 - s1 * s1)  # int64: fits for w <= 1024 scans of 16-bit counts
    per = w * (w - 1)
    q = -(-need // per)  # g^2 >= need / per  <=>  g^2 >= ceil(need / per)
    g = np.ceil(np.sqrt(q.astype(np.float64))).astype(np.int64)
    g = np.where(g * g < q, g + 1, g)  # float sqrt may be one off either way: settle exactly
    g = np.where((g - 1) * (g - 1) >= q, g - 1, g)
    return np.clip(g, 1, 0xFFFF).astype(np.int32)
