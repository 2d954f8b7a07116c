"""RawFrame: what a reader hands downstream for every pressure frame.

Counts are the device's own ADC units; ``calibration/`` turns them into kPa.
A device that already reports calibrated pressure (a replayed recording, some
commercial controllers) says so with ``kpa_per_count`` > 0 in its hello.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAT = "mat"
INSOLE_LEFT = "insole_left"
INSOLE_RIGHT = "insole_right"
KINDS = (MAT, INSOLE_LEFT, INSOLE_RIGHT)


@dataclass(frozen=True, slots=True)
class RawFrame:
    device: str  # the serial number from the device's hello packet
    kind: str  # one of KINDS
    seq: int  # the packet sequence number (u32, wraps)
    t_device: float  # s, the device's own clock
    t_host: float  # s, host monotonic clock, from the clock-alignment fit
    counts: np.ndarray  # uint16: (rows, cols) for a mat, (N,) for an insole
    kpa_per_count: float = 0.0  # > 0: counts are already calibrated pressure
    # Packets of this device lost on the link since its previous frame, as the reader counted
    # them by sequence number. Sequence numbers count every packet type (HELLO, STATUS, ACK
    # too), so two frames' seq difference alone would call every status packet a lost frame.
    # Also frames the device discarded unsent (its STATUS frames_dropped), once it reports them.
    lost_before: int = 0
    swaps: int = 0  # device swaps its reader had seen: frames that differ here come from different devices

    def kpa(self) -> np.ndarray:
        """Pressure for devices that report calibrated counts; raw devices need calibration/."""
        if self.kpa_per_count <= 0:
            raise ValueError(f"device {self.device} reports raw counts; apply its calibration first")
        return self.counts.astype(np.float32) * np.float32(self.kpa_per_count)
