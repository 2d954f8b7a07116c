"""The live loop's analysis of a mat stream in one object: per-frame results,
gait events as they happen, running sway and weight share.

    live = LiveMat(analyzer, rate_hz=100.0)
    for t, frame in frames:
        update = live.update(t, frame)      # LiveUpdate
        update.result.cop_mm, update.events, live.sway(), live.left_pct

O(1) per frame apart from the per-frame analysis itself; nothing here raises
on bad pressure values (they are zeroed and counted by the analyzer), and a
frame without a COP adds nothing to the sway. Definitions are those of
``docs/metrics.md``, and events and step metrics are those of the
whole-recording report (the same detectors run there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kernels.detectors import CONTACT_OFF_N, CONTACT_ON_N, MIN_STANCE_S, Event, MatStepAssembler
from kernels.errors import KernelError
from kernels.online import SwayAccumulator
from kernels.sway import prediction_ellipse_k


@dataclass
class LiveUpdate:
    t: float
    result: object  # kernels.frame.FrameResult, or None for a refused frame
    events: list[Event] = field(default_factory=list)
    error: str | None = None  # why the frame was refused


class LiveMat:
    """Per-frame analysis + step events + running sway and left/right share of one mat."""

    def __init__(self, analyzer, rate_hz: float, *, on_n: float = CONTACT_ON_N,
                 off_n: float = CONTACT_OFF_N, min_stance_s: float = MIN_STANCE_S):
        self.analyzer = analyzer
        self.steps = MatStepAssembler(analyzer, on_n=on_n, off_n=off_n, min_stance_s=min_stance_s)
        self.sway_acc = SwayAccumulator(rate_hz)
        self.force_left = 0.0
        self.force_right = 0.0
        self._k_n, self._k = 0, None
        self.rejected_frames = 0

    def update(self, t: float, frame) -> LiveUpdate:
        """Analyse one frame. A frame of the wrong type, dtype or shape is refused, counted
        in ``rejected_frames`` and reported in ``LiveUpdate.error``; the loop goes on."""
        try:
            result = self.analyzer.analyze(frame)
        except KernelError as exc:
            self.rejected_frames += 1
            return LiveUpdate(t, None, [], str(exc))
        if result.cop_mm is not None:
            self.sway_acc.add(result.cop_mm[0], result.cop_mm[1])
        for foot in result.feet:
            if foot.side == "left":
                self.force_left += foot.force_n
            elif foot.side == "right":
                self.force_right += foot.force_n
        return LiveUpdate(t, result, self.steps.update(t, result))

    @property
    def left_pct(self) -> float | None:
        """Left foot's share of the load so far (%), None before any load with a known side."""
        total = self.force_left + self.force_right
        return 100.0 * self.force_left / total if total > 0 else None

    def sway(self, with_ellipse: bool = True) -> dict:
        """Running sway measures since the last :meth:`reset` (see kernels.online)."""
        n = self.sway_acc.n
        k = None
        if with_ellipse and n >= 3:
            # The F quantile costs ~0.1 ms per call. Beyond 1000 samples k changes by under
            # 1e-5 relative while n grows by 0.1 %, so it is reused that long.
            if self._k_n != n and (n < 1000 or abs(n - self._k_n) > n // 1000):
                self._k_n, self._k = n, prediction_ellipse_k(n)
            k = self._k
        return self.sway_acc.summary(k)

    def reset(self, t: float | None = None) -> list[Event]:
        """Start a new trial: sway and shares from zero; open stances end as incomplete."""
        events = self.steps.close(t) if t is not None else []
        self.sway_acc.reset()
        self.force_left = self.force_right = 0.0
        return events
