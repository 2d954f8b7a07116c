"""Sensor model: true pressure (kPa) to the ADC counts a real device would send.

Resistive pressure sensors (FSR / piezoresistive grids) are neither linear nor
uniform. Each sensel i reports

    counts_i = clip(round(offset_i + gain_i * full_counts * (p / full_scale_kpa) ** exponent + noise), 0, max)

with a per-sensel gain spread, zero offsets, Gaussian read noise, a few dead
sensels (always 0) and hot ones (stuck at the ADC maximum). The device's
*factory-nominal* conversion assumes a straight line through zero,
``kpa = counts * kpa_per_count`` with ``kpa_per_count = full_scale_kpa / full_counts``;
with the default exponent 0.7 that line over-reads ordinary plantar pressures
(20-200 kPa) by 40-120 %, which is what calibration has to fix.

All parameters are drawn once from the seed and exposed as attributes, so
calibration code can be checked against the truth (``gain``, ``offset``,
``dead``, ``hot``, :meth:`true_kpa`). Read noise is drawn per call from
``(seed, key)``, so the same frame key always gives the same counts.
"""

from __future__ import annotations

import numpy as np


class SensorModel:
    """A grid (or list) of pressure sensors with their true, hidden, imperfections."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        seed: int = 0,
        bits: int = 12,
        full_scale_kpa: float = 800.0,
        full_scale_fraction: float = 0.95,
        exponent: float = 0.7,
        gain_spread: float = 0.15,
        offset_counts: float = 12.0,
        offset_spread: float = 6.0,
        noise_counts: float = 3.0,
        dead: int | float = 3,
        hot: int | float = 2,
        packet_drop_rate: float = 0.0,
        packet_corrupt_rate: float = 0.0,
    ) -> None:
        if bits not in (8, 12, 16):
            raise ValueError(f"ADC bits must be 8, 12 or 16, got {bits}")
        if not 0.1 <= exponent <= 3.0:
            raise ValueError(f"response exponent {exponent} is not a plausible sensor response (0.1..3)")
        if full_scale_kpa <= 0:
            raise ValueError("full_scale_kpa must be positive")
        for name, rate in (("packet_drop_rate", packet_drop_rate), ("packet_corrupt_rate", packet_corrupt_rate)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {rate}")
        self.shape = tuple(int(s) for s in shape)
        self.seed = int(seed)
        self.bits = bits
        self.max_counts = (1 << bits) - 1
        self.full_scale_kpa = float(full_scale_kpa)
        # the sensor's span reaches this many counts at full scale, leaving head-room for gain spread
        self.full_counts = float(full_scale_fraction * self.max_counts)
        self.exponent = float(exponent)
        self.noise_counts = float(noise_counts)
        self.packet_drop_rate = float(packet_drop_rate)
        self.packet_corrupt_rate = float(packet_corrupt_rate)
        # the factory's straight line through zero: what an uncalibrated device assumes
        self.kpa_per_count = self.full_scale_kpa / self.full_counts

        rng = np.random.default_rng([self.seed, 0x5E45])
        n = int(np.prod(self.shape))
        self.gain = np.clip(1.0 + gain_spread / 2.0 * rng.standard_normal(self.shape), 1.0 - gain_spread * 1.5, 1.0 + gain_spread * 1.5)
        self.offset = np.clip(offset_counts + offset_spread * rng.standard_normal(self.shape), 0.0, None)
        n_dead = int(round(dead * n)) if isinstance(dead, float) and dead < 1 else int(dead)
        n_hot = int(round(hot * n)) if isinstance(hot, float) and hot < 1 else int(hot)
        n_dead, n_hot = min(n_dead, n), min(n_hot, max(n - n_dead, 0))
        picks = rng.permutation(n)
        self.dead = np.zeros(self.shape, dtype=bool)
        self.hot = np.zeros(self.shape, dtype=bool)
        self.dead.flat[picks[:n_dead]] = True
        self.hot.flat[picks[n_dead : n_dead + n_hot]] = True

    # --- forward model ----------------------------------------------------------------

    def expected_counts(self, kpa: np.ndarray) -> np.ndarray:
        """Noise-free counts (float64, before rounding and clipping) for true pressure ``kpa``."""
        p = np.clip(np.asarray(kpa, dtype=np.float64), 0.0, None)
        return self.offset + self.gain * self.full_counts * (p / self.full_scale_kpa) ** self.exponent

    def counts(self, kpa: np.ndarray, key: int = 0) -> np.ndarray:
        """What the device sends for true pressure ``kpa`` (shape ``self.shape``): uint16.

        ``key`` seeds the read noise (use the frame's time in microseconds or its
        sequence number) so the same frame always reads the same.
        """
        kpa = np.asarray(kpa)
        if kpa.shape != self.shape:
            raise ValueError(f"pressure of shape {kpa.shape} does not fit a sensor of shape {self.shape}")
        c = self.expected_counts(kpa)
        if self.noise_counts > 0:
            rng = np.random.default_rng([self.seed, 0x401E, int(key) & 0xFFFFFFFFFFFF])
            c = c + self.noise_counts * rng.standard_normal(self.shape)
        out = np.clip(np.rint(c), 0, self.max_counts).astype(np.uint16)
        out[self.dead] = 0
        out[self.hot] = self.max_counts
        return out

    def counts_rows(self, kpa_rows: np.ndarray, row0: int, key: int = 0) -> np.ndarray:
        """What rows ``row0 ..`` of the sensor send for their true pressure ``kpa_rows`` (uint16).

        A walkway tile's own scan (device/tile_sim.py): only its rows are converted, with
        read noise of its own (keyed on ``row0`` too), so a 4-tile walkway costs one mat's
        conversion per period instead of four.
        """
        kpa_rows = np.asarray(kpa_rows)
        rows = slice(row0, row0 + kpa_rows.shape[0])
        if kpa_rows.ndim != 2 or kpa_rows.shape[1:] != self.shape[1:] or rows.stop > self.shape[0]:
            raise ValueError(f"pressure of shape {kpa_rows.shape} at row {row0} does not fit a sensor of shape {self.shape}")
        p = np.clip(np.asarray(kpa_rows, dtype=np.float64), 0.0, None)
        c = self.offset[rows] + self.gain[rows] * self.full_counts * (p / self.full_scale_kpa) ** self.exponent
        if self.noise_counts > 0:
            rng = np.random.default_rng([self.seed, 0x401E, int(key) & 0xFFFFFFFFFFFF, int(row0)])
            c = c + self.noise_counts * rng.standard_normal(p.shape)
        out = np.clip(np.rint(c), 0, self.max_counts).astype(np.uint16)
        out[self.dead[rows]] = 0
        out[self.hot[rows]] = self.max_counts
        return out

    # --- inverses -----------------------------------------------------------------------

    def nominal_kpa(self, counts: np.ndarray) -> np.ndarray:
        """The factory-nominal linear reading (float32) - wrong by design, for demos."""
        return np.asarray(counts, dtype=np.float32) * np.float32(self.kpa_per_count)

    def true_kpa(self, counts: np.ndarray) -> np.ndarray:
        """Invert the true (noise-free) response per sensel; dead and hot sensels give NaN."""
        c = np.asarray(counts, dtype=np.float64)
        x = np.clip((c - self.offset) / (self.gain * self.full_counts), 0.0, None)
        p = self.full_scale_kpa * x ** (1.0 / self.exponent)
        p = np.where(self.dead | self.hot, np.nan, p)
        return p

    def saturation_kpa(self) -> np.ndarray:
        """Per-sensel pressure at which the ADC saturates."""
        x = np.clip((self.max_counts - self.offset) / (self.gain * self.full_counts), 0.0, None)
        return self.full_scale_kpa * x ** (1.0 / self.exponent)

    def params(self) -> dict:
        """The scalar parameters (JSON-friendly); per-sensel arrays are attributes."""
        return {
            "shape": list(self.shape),
            "seed": self.seed,
            "bits": self.bits,
            "full_scale_kpa": self.full_scale_kpa,
            "full_counts": self.full_counts,
            "exponent": self.exponent,
            "noise_counts": self.noise_counts,
            "kpa_per_count": self.kpa_per_count,
            "dead": int(self.dead.sum()),
            "hot": int(self.hot.sum()),
            "gain_min": float(self.gain.min()),
            "gain_max": float(self.gain.max()),
            "packet_drop_rate": self.packet_drop_rate,
            "packet_corrupt_rate": self.packet_corrupt_rate,
        }
