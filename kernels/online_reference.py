"""Reference (pure Python) online sway accumulator: the readable specification
of ``kernels/_online.pyx``. Use :mod:`kernels.online`, which picks the
compiled one when it is built.

O(1) time and memory per sample: Welford's running mean and (co)variance
(Welford 1962; the co-moment update of Chan, Golub & LeVeque 1983), running
path length per axis and in the plane, and running extremes. Everything a
live balance screen shows without keeping the samples:

* ``rms_distance_mm`` = sqrt((M2x + M2y) / n), exactly the batch RMS distance;
* ``path_length_mm``, ``mean_velocity_*`` = path / (n / rate), as the batch set;
* ``range_ml_mm``, ``range_ap_mm``;
* the 95 % prediction ellipse from the running covariance (ddof 1).

The mean distance from the mean point is *not* available online (the mean
moves as samples arrive); the batch set in :mod:`kernels.sway` has it.
"""

from __future__ import annotations

import math


class SwayAccumulator:
    """Running sway measures of a COP stream sampled at ``rate_hz``.

    ``add(x, y)`` one sample in mm (x medio-lateral, y antero-posterior);
    non-finite samples are refused with ``False`` and counted in
    ``rejected`` (a live loop must never crash on one bad frame).
    """

    def __init__(self, rate_hz: float):
        if not (rate_hz > 0 and math.isfinite(rate_hz)):
            raise ValueError(f"rate_hz must be a positive number, got {rate_hz!r}")
        self.rate_hz = float(rate_hz)
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.rejected = 0
        self.mean_x = self.mean_y = 0.0
        self.m2x = self.m2y = self.cxy = 0.0
        self.path = self.path_x = self.path_y = 0.0
        self.min_x = self.min_y = math.inf
        self.max_x = self.max_y = -math.inf
        self.last_x = self.last_y = 0.0

    def add(self, x: float, y: float) -> bool:
        if not (math.isfinite(x) and math.isfinite(y)):
            self.rejected += 1
            return False
        n = self.n + 1
        dx = x - self.mean_x
        dy = y - self.mean_y
        self.mean_x += dx / n
        self.mean_y += dy / n
        # Welford: M2 += (x - old mean) * (x - new mean); same for the co-moment.
        self.m2x += dx * (x - self.mean_x)
        self.m2y += dy * (y - self.mean_y)
        self.cxy += dx * (y - self.mean_y)
        if self.n:
            sx = x - self.last_x
            sy = y - self.last_y
            self.path += math.sqrt(sx * sx + sy * sy)
            self.path_x += abs(sx)
            self.path_y += abs(sy)
        if x < self.min_x:
            self.min_x = x
        if x > self.max_x:
            self.max_x = x
        if y < self.min_y:
            self.min_y = y
        if y > self.max_y:
            self.max_y = y
        self.last_x = x
        self.last_y = y
        self.n = n
        return True

    # -- read-outs (None until defined) -------------------------------------------------------

    @property
    def duration_s(self) -> float:
        return self.n / self.rate_hz

    def covariance(self) -> tuple[float, float, float] | None:
        """(var x, var y, cov xy) with ddof 1, or None below 2 samples."""
        if self.n < 2:
            return None
        d = self.n - 1
        return self.m2x / d, self.m2y / d, self.cxy / d

    def summary(self, ellipse_k: float | None = None) -> dict:
        """The running measures as a dict; ``ellipse_k`` the prediction-ellipse scale
        for the current n (:func:`kernels.sway.prediction_ellipse_k`), omitted: no ellipse."""
        n = self.n
        out = {
            "n": n,
            "rejected": self.rejected,
            "mean_mm": (self.mean_x, self.mean_y) if n else None,
            "rms_distance_mm": math.sqrt((self.m2x + self.m2y) / n) if n else None,
            "path_length_mm": self.path if n else None,
            "mean_velocity_mm_s": self.path / self.duration_s if n else None,
            "mean_velocity_ml_mm_s": self.path_x / self.duration_s if n else None,
            "mean_velocity_ap_mm_s": self.path_y / self.duration_s if n else None,
            "range_ml_mm": self.max_x - self.min_x if n else None,
            "range_ap_mm": self.max_y - self.min_y if n else None,
            "ellipse95_area_mm2": None,
        }
        cov = self.covariance()
        if ellipse_k is not None and cov is not None and n >= 3:
            vx, vy, c = cov
            half_trace = 0.5 * (vx + vy)
            root = math.sqrt(max(0.0, 0.25 * (vx - vy) ** 2 + c * c))
            l1, l2 = half_trace + root, max(0.0, half_trace - root)
            out["ellipse95_area_mm2"] = math.pi * ellipse_k * math.sqrt(l1 * l2)
        return out
