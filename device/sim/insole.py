"""The simulated insoles: 16 round sensors per foot at anatomical landmarks.

Positions are in the insole frame of DESIGN 3 (origin at the heel centre, y toward
the toes, x to the patient's right), given for the right foot of a 260 mm foot and
mirrored (x -> -x) for the left, then scaled with the foot length. The layout
follows common 16-sensor research insoles: three heel sensors and one behind
them, lateral midfoot, one medial arch sensor (that mostly reads zero, as a real
one does), the five metatarsal heads, the hallux and the lesser toes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

REFERENCE_FOOT_MM = 260.0

# name, x (mm, + = lateral on the right foot), y (mm from the heel centre), for a 260 mm foot
SENSORS_RIGHT_260 = (
    ("heel_medial", -12.0, 0.0),
    ("heel_lateral", 12.0, 0.0),
    ("heel_anterior", 0.0, 22.0),
    ("heel_posterior", 0.0, -18.0),
    ("midfoot_lateral", 26.0, 60.0),
    ("midfoot_lateral_distal", 28.0, 92.0),
    ("arch_medial", -18.0, 80.0),
    ("mth1", -32.0, 153.0),
    ("mth2", -14.0, 158.0),
    ("mth3", 2.0, 156.0),
    ("mth4", 16.0, 149.0),
    ("mth5", 30.0, 140.0),
    ("hallux", -27.0, 200.0),
    ("toe2", -8.0, 196.0),
    ("toe3", 4.0, 192.0),
    ("toes45", 17.0, 182.0),
)
SENSOR_NAMES = tuple(s[0] for s in SENSORS_RIGHT_260)

# 13 points over a unit disc (centre, 6 at r = 0.5, 6 at r = 0.87): a sensor reads the
# mean pressure over its area, not the pressure at its centre.
_ang = np.deg2rad(np.arange(6) * 60.0)
_DISC = np.vstack([[0.0, 0.0], 0.5 * np.column_stack([np.cos(_ang), np.sin(_ang)]), 0.87 * np.column_stack([np.cos(_ang + 0.5), np.sin(_ang + 0.5)])])


@dataclass(frozen=True)
class InsoleGeometry:
    """Layout and rate of a pair of insoles.

    ``foot_length_mm`` None means "the patient's foot length" (filled in by
    :class:`~device.sim.patient.VirtualPatient`). ``layout_right_mm`` replaces the
    default 16-sensor layout with any (N, 2) right-foot positions.
    """

    foot_length_mm: float | None = None
    sensor_diameter_mm: float = 14.0
    rate_hz: float = 100.0
    layout_right_mm: tuple[tuple[float, float], ...] | None = None
    _right: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (np.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"insole rate must be a positive number of Hz, got {self.rate_hz}")
        if self.sensor_diameter_mm <= 0:
            raise ValueError(f"insole sensor diameter must be positive, got {self.sensor_diameter_mm}")
        if self.layout_right_mm is not None:
            right = np.asarray(self.layout_right_mm, dtype=np.float64)
            if right.ndim != 2 or right.shape[1] != 2 or len(right) == 0:
                raise ValueError("layout_right_mm must be a non-empty list of (x, y) positions")
        else:
            scale = (self.foot_length_mm or REFERENCE_FOOT_MM) / REFERENCE_FOOT_MM
            right = np.array([(x, y) for _, x, y in SENSORS_RIGHT_260]) * scale
        object.__setattr__(self, "_right", right)

    @property
    def n_sensors(self) -> int:
        return len(self._right)

    @property
    def sensor_area_mm2(self) -> float:
        return float(np.pi * (self.sensor_diameter_mm / 2.0) ** 2)

    def sensor_areas_mm2(self) -> np.ndarray:
        """(N,) float64, as the recording's ``insole_sensor_area_mm2``."""
        return np.full(self.n_sensors, self.sensor_area_mm2)

    def positions(self, side: str) -> np.ndarray:
        """(N, 2) float64 sensor centres in the insole frame of ``side``."""
        if side == "right":
            return self._right.copy()
        if side == "left":
            return self._right * np.array([-1.0, 1.0])
        raise ValueError(f"insole side must be 'left' or 'right', not {side!r}")

    def sample_points(self, side: str) -> np.ndarray:
        """(N, P, 2) points over each sensor's disc, averaged to give its reading."""
        r = self.sensor_diameter_mm / 2.0
        return self.positions(side)[:, None, :] + r * _DISC[None, :, :]
