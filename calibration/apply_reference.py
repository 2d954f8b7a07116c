"""counts -> kPa, the numpy reference (the specification of ``calibration._apply``).

Inputs are prepared once per model by :func:`prepare` (calibration/apply.py):
per-sensel ``offset``, ``inv_gain`` (0 for masked sensels), ``floor`` (in
normalised counts), and a table of the curve (already times the body-weight
scale) at ``n = k / inv_step``, k = 0..len-1. For each sensel::

    n = (c - offset) * inv_gain
    kPa = 0                                 if n <= floor
        = table[-1]                         if n * inv_step >= len - 1   (beyond the table: saturated)
        = lerp(table, n * inv_step)         otherwise

then each masked sensel ``fill_idx[j]`` takes the mean of the kPa of its live
neighbours ``nb_idx[nb_ptr[j]:nb_ptr[j+1]]`` (0 when it has none).
"""

from __future__ import annotations

import numpy as np


class Kernel:
    """The per-model arrays; ``run(counts, out)`` converts one flat frame in place (as the compiled one)."""

    def __init__(self, offset, inv_gain, floor, table, inv_step, fill_idx, nb_ptr, nb_idx):
        self.args = (offset, inv_gain, floor, table, inv_step, fill_idx, nb_ptr, nb_idx)

    def run(self, counts, out) -> None:
        if len(counts) != len(self.args[0]) or len(out) != len(counts):
            raise ValueError("counts, out and the calibration must have the same number of sensels")
        apply_counts(counts, *self.args, out)


def apply_counts(counts, offset, inv_gain, floor, table, inv_step, fill_idx, nb_ptr, nb_idx, out) -> None:
    n = (counts.astype(np.float32) - offset) * inv_gain
    pos = n.astype(np.float64) * inv_step
    last = len(table) - 1
    i = np.clip(np.floor(pos), 0, last - 1).astype(np.int64)
    frac = np.clip(pos - i, 0.0, 1.0)
    kpa = table[i] + (table[i + 1] - table[i]) * frac
    kpa = np.where(pos >= last, table[last], kpa)
    kpa = np.where(n <= floor, 0.0, kpa)
    out[:] = kpa.astype(np.float32)
    for j, s in enumerate(fill_idx):
        nb = nb_idx[nb_ptr[j] : nb_ptr[j + 1]]
        out[s] = np.float32(out[nb].astype(np.float64).mean()) if len(nb) else np.float32(0.0)
