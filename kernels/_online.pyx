# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled online sway accumulator; the specification is kernels/online_reference.py
(same attributes, same arithmetic in the same order, so results agree to the last bit
on the same platform). Use kernels.online, not this module."""

from libc.math cimport sqrt, fabs, isfinite, INFINITY, M_PI


cdef class SwayAccumulator:
    cdef public double rate_hz
    cdef public long n, rejected
    cdef public double mean_x, mean_y, m2x, m2y, cxy
    cdef public double path, path_x, path_y
    cdef public double min_x, min_y, max_x, max_y, last_x, last_y

    def __init__(self, double rate_hz):
        if not (rate_hz > 0 and isfinite(rate_hz)):
            raise ValueError(f"rate_hz must be a positive number, got {rate_hz!r}")
        self.rate_hz = rate_hz
        self.reset()

    cpdef void reset(self):
        self.n = 0
        self.rejected = 0
        self.mean_x = 0.0
        self.mean_y = 0.0
        self.m2x = 0.0
        self.m2y = 0.0
        self.cxy = 0.0
        self.path = 0.0
        self.path_x = 0.0
        self.path_y = 0.0
        self.min_x = INFINITY
        self.min_y = INFINITY
        self.max_x = -INFINITY
        self.max_y = -INFINITY
        self.last_x = 0.0
        self.last_y = 0.0

    cpdef bint add(self, double x, double y):
        cdef long n
        cdef double dx, dy, sx, sy
        if not (isfinite(x) and isfinite(y)):
            self.rejected += 1
            return False
        n = self.n + 1
        dx = x - self.mean_x
        dy = y - self.mean_y
        self.mean_x += dx / n
        self.mean_y += dy / n
        self.m2x += dx * (x - self.mean_x)
        self.m2y += dy * (y - self.mean_y)
        self.cxy += dx * (y - self.mean_y)
        if self.n:
            sx = x - self.last_x
            sy = y - self.last_y
            self.path += sqrt(sx * sx + sy * sy)
            self.path_x += fabs(sx)
            self.path_y += fabs(sy)
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

    @property
    def duration_s(self):
        return self.n / self.rate_hz

    def covariance(self):
        if self.n < 2:
            return None
        cdef double d = self.n - 1
        return self.m2x / d, self.m2y / d, self.cxy / d

    def summary(self, ellipse_k=None):
        cdef long n = self.n
        cdef double dur = n / self.rate_hz
        out = {
            "n": n,
            "rejected": self.rejected,
            "mean_mm": (self.mean_x, self.mean_y) if n else None,
            "rms_distance_mm": sqrt((self.m2x + self.m2y) / n) if n else None,
            "path_length_mm": self.path if n else None,
            "mean_velocity_mm_s": self.path / dur if n else None,
            "mean_velocity_ml_mm_s": self.path_x / dur if n else None,
            "mean_velocity_ap_mm_s": self.path_y / dur if n else None,
            "range_ml_mm": self.max_x - self.min_x if n else None,
            "range_ap_mm": self.max_y - self.min_y if n else None,
            "ellipse95_area_mm2": None,
        }
        cov = self.covariance()
        cdef double vx, vy, c, half_trace, root, l1, l2
        if ellipse_k is not None and cov is not None and n >= 3:
            vx, vy, c = cov
            half_trace = 0.5 * (vx + vy)
            root = sqrt(max(0.0, 0.25 * (vx - vy) ** 2 + c * c))
            l1 = half_trace + root
            l2 = max(0.0, half_trace - root)
            out["ellipse95_area_mm2"] = M_PI * ellipse_k * sqrt(l1 * l2)
        return out
