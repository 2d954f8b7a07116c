"""The kernels a drill needs, wired for one mat and/or two insoles.

    feed = KernelFeed(mat=(rows, cols, (row_pitch, col_pitch)), insoles={"left": (sensors_mm, area), ...})
    frame, events = feed.mat_frame(t, kpa)            # kernels.live.LiveMat (FrameAnalyzer + steps)
    results, events = feed.insole_frames(t, {"left": kpa_l, "right": kpa_r})   # InsoleAnalyzer + FootStream
    drill.update(t, frame, events)                    # or drill.update(t, None, events, results)

The kiosk's runtime and the drill tests use the same wiring, so a drill sees
exactly what the kernels produce on a unit. Call :meth:`reset` between drills
(new foot tracks, new step detectors).
"""

from __future__ import annotations

from kernels import FrameAnalyzer, InsoleAnalyzer
from kernels.detectors import FootStream
from kernels.live import LiveMat


class KernelFeed:
    def __init__(self, mat=None, insoles=None, *, foot_length_mm: float | None = None,
                 heel_edge_y_mm: float | None = None, rate_hz: float = 100.0):
        self.analyzer = None
        self.live = None
        self.rate_hz = rate_hz
        if mat is not None:
            rows, cols, pitch = mat
            self.analyzer = FrameAnalyzer(rows, cols, pitch)
        self.insoles = {}
        # The strike index and the regions need the foot's outline in the insole frame: its length
        # and the heel's rear edge (y, usually negative: behind the heel centre). Without both, the
        # sensors' span is used for regions and the strike index is None (kernels.steps).
        outline = foot_length_mm is not None and heel_edge_y_mm is not None
        self.foot_length_mm = foot_length_mm if outline else None
        self.heel_edge_y_mm = heel_edge_y_mm if outline else None
        for side, (sensors, area) in (insoles or {}).items():
            extra = {"heel_y_mm": heel_edge_y_mm, "length_mm": foot_length_mm} if outline else {}
            self.insoles[side] = InsoleAnalyzer(sensors, area, **extra)
        self._streams = {}
        self.reset()

    @property
    def mat_shape(self):
        return None if self.analyzer is None else (self.analyzer.rows, self.analyzer.cols)

    def reset(self) -> None:
        if self.analyzer is not None:
            self.analyzer.reset()
            self.live = LiveMat(self.analyzer, self.rate_hz)
        self._streams = {side: FootStream(side, source="insole", foot_length_mm=self.foot_length_mm,
                                          heel_edge_y_mm=self.heel_edge_y_mm)
                         for side in self.insoles}

    def mat_frame(self, t: float, kpa):
        """(FrameResult, events) for one float32 kPa mat frame; (None, []) for a refused frame
        (counted in ``self.live.rejected_frames``): the drill treats it as no mat data."""
        up = self.live.update(t, kpa)
        return up.result, up.events

    def insole_frames(self, t: float, kpa_by_side: dict):
        """({side: InsoleResult}, events) for one sample of each insole."""
        results, events = {}, []
        for side, kpa in kpa_by_side.items():
            r = self.insoles[side].analyze(kpa)
            results[side] = r
            events.extend(self._streams[side].update(t, r.force_n, r.cop_mm, r.regions_n, side=side))
        return results, events
