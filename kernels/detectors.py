"""Streaming gait-event detectors: foot contact and foot-off with hysteresis on
force, and step assembly, emitting events as they happen.

Thresholds (``docs/metrics.md``, "Events"): a foot is in contact from the
moment its force rises through ``on_n`` (default 30 N) until it falls through
``off_n`` (default 20 N). Pressure-sum thresholds of this size are the usual
way to find gait events from pressure sensors: Blades et al. (2023, Sensors
23:2736) found a pressure-sum threshold-crossing detector within 1.0 ms (contact)
and 5.2 ms (foot-off) of a force plate's 40 N threshold; 20 N is the common
force-plate threshold for walking. The two levels form a hysteresis band so
that noise around one level cannot chatter. Event times are interpolated
linearly to the crossing between the two frames that straddle it.

Event times are traced from the threshold crossings to where the load really
starts (onset) and ends (back at the swing-phase minimum, or where the
rise/fall bottoms out), see :class:`ContactDetector`.

Contacts shorter than ``min_stance_s`` (default 0.1 s) are not steps (a toe
brushing the mat, a sensor glitch); they produce ``off`` but no ``step``.

O(1) per sample and per foot; per-frame cost is in ``docs/performance.md``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from kernels.steps import Footprint, Step, step_metrics

CONTACT_ON_N = 30.0
CONTACT_OFF_N = 20.0
MIN_STANCE_S = 0.1
EVENT_MARGIN_N = 0.0  # N above the swing-phase minimum that still counts as unloaded
SETTLE_SAMPLES = 3  # a rise or fall has ended when no new extreme came for this many samples
ONSET_HISTORY = 128  # samples searched back for a contact's onset (1.28 s at 100 Hz)


@dataclass
class Event:
    """A gait event: ``kind`` is 'contact', 'off' or 'step' (a stance completed)."""

    kind: str
    t: float
    foot: str | None = None
    track: object = None
    step: Step | None = None
    metrics: dict | None = None  # for 'step': the report entry of :func:`kernels.steps.step_metrics`
    reasons: dict = field(default_factory=dict)


class ContactDetector:
    """Hysteresis on one foot's force, with event times traced to where the load
    really starts and ends.

    A contact is *confirmed* when the force rises through ``on_n``, and a
    foot-off when it then falls through ``off_n``: the hysteresis band keeps
    noise from chattering. ``update(t, force_n)`` returns 'contact' on the frame
    of the ``on_n`` crossing, 'off' once the fall after the ``off_n`` crossing
    has ended (the same frame, or up to ``SETTLE_SAMPLES`` frames later), else None.
    ``crossing_t`` is the event's time:

    * contact: the *onset* of loading, found by following the rise back from
      the ``on_n`` crossing to where the force was within ``margin_n`` of its
      swing-phase minimum, or to the foot of the rise (the lowest point before
      which the force did not fall further for ``SETTLE_SAMPLES`` samples),
      whichever comes first (at most ``ONSET_HISTORY`` samples back);
    * off: the end of unloading, found by following the fall on from the
      ``off_n`` crossing to where the force is within ``margin_n`` of the last
      swing-phase minimum (0 N before the first), or to the foot of the fall
      (its lowest point, once no lower force came for ``SETTLE_SAMPLES``
      samples or the force rose back through ``on_n``). The off event is
      emitted then, up to ``SETTLE_SAMPLES`` frames after the foot left.

    Thresholds alone would report a contact late and an off early by the time
    the force takes to cross them, several frames when a foot is put down or
    lifted slowly; the swing-phase minimum copes with the preload of a laced
    shoe on an insole. Crossing times are interpolated linearly.
    ``onset_known`` is False for a contact that was already on at the first
    sample (its true start is before the recording). Non-finite forces are
    ignored (state held) and counted in ``bad_samples``.
    """

    def __init__(self, on_n: float = CONTACT_ON_N, off_n: float = CONTACT_OFF_N,
                 margin_n: float = EVENT_MARGIN_N):
        if not (0 <= off_n <= on_n):
            raise ValueError(f"need 0 <= off_n <= on_n, got off_n={off_n}, on_n={on_n}")
        self.on_n = float(on_n)
        self.off_n = float(off_n)
        self.margin_n = float(margin_n)
        self.in_contact = False  # from the contact event until the off event
        self.falling = False  # below off_n, following the fall to its end
        self._fall_min: tuple[float, float] | None = None
        self._since_min = 0
        self.onset_known = True
        self.crossing_t = math.nan
        self.bad_samples = 0
        self._history: deque[tuple[float, float]] = deque(maxlen=ONSET_HISTORY)
        self._swing_min = math.inf
        self._floor = 0.0  # the last swing's minimum: where an unloading foot ends up

    def update(self, t: float, force_n: float) -> str | None:
        if not math.isfinite(force_n):
            self.bad_samples += 1
            return None
        event = None
        history = self._history
        if not self.in_contact:
            if force_n < self._swing_min:
                self._swing_min = force_n
            if force_n >= self.on_n:
                self.in_contact = True
                self.onset_known = bool(history)
                self.crossing_t = self._onset(t, force_n)
                # Only a swing seen below on_n tells where an unloaded foot sits.
                self._floor = self._swing_min if self._swing_min < self.on_n else 0.0
                event = "contact"
        elif not self.falling:
            if force_n < self.off_n:
                self.falling = True
                event = self._follow_fall(t, force_n)
        else:
            event = self._follow_fall(t, force_n)
        history.append((t, force_n))
        return event

    def _follow_fall(self, t: float, f: float) -> str | None:
        t0, f0 = self._history[-1]
        level = self._floor + self.margin_n
        if f <= level:
            # back at the floor: interpolate to where it got there
            if f0 > level and f != f0:
                self.crossing_t = t0 + min(1.0, max(0.0, (level - f0) / (f - f0))) * (t - t0)
            else:
                self.crossing_t = t0 if f0 <= level else t
        elif not self._fall_min or f < self._fall_min[1]:
            self._fall_min = (t, f)  # still falling: a new low
            self._since_min = 0
            return None
        else:
            self._since_min += 1
            if self._since_min < SETTLE_SAMPLES and f < self.on_n:
                return None  # a wiggle on the way down
            # the fall has ended (or the load rose again): at its lowest point
            self.crossing_t = self._fall_min[0]
        self.in_contact = self.falling = False
        self._swing_min = min(f, f0, self._fall_min[1] if self._fall_min else math.inf)
        self._fall_min = None
        return "off"

    def _onset(self, t: float, f: float) -> float:
        if not self._history:
            return t
        level = self._swing_min + self.margin_n
        later_t, later_f = t, f
        low_t, low_f, since = t, f, 0
        for t0, f0 in reversed(self._history):
            if f0 <= level:
                w = (level - f0) / (later_f - f0) if later_f != f0 else 1.0
                return t0 + min(1.0, max(0.0, w)) * (later_t - t0)
            if f0 < low_f:
                low_t, low_f, since = t0, f0, 0
            else:
                since += 1
                if since >= SETTLE_SAMPLES:
                    return low_t  # the foot of the rise: no lower force for SETTLE_SAMPLES before it
            later_t, later_f = t0, f0
        return low_t


class FootStream:
    """One foot's samples turned into contact / off / step events.

    ``update(t, force_n, cop_mm=None, regions_n=None, side=None, footprint=None)``
    per sample returns a (usually empty) list of :class:`Event`. ``footprint``
    (mat only) is the foot's stance footprint so far, a
    :class:`~kernels.steps.Footprint` or a zero-argument callable making one
    (called once, when the step completes); the latest one given is the step's.
    """

    def __init__(self, foot: str | None = None, *, source: str = "mat", pitch_mm: float = 0.0,
                 on_n: float = CONTACT_ON_N, off_n: float = CONTACT_OFF_N,
                 min_stance_s: float = MIN_STANCE_S, foot_length_mm: float | None = None,
                 heel_edge_y_mm: float | None = None, track=None):
        self.foot = foot
        self.track = track
        self.source = source
        self.pitch_mm = pitch_mm
        self.min_stance_s = min_stance_s
        self.foot_length_mm = foot_length_mm
        self.heel_edge_y_mm = heel_edge_y_mm
        self.detector = ContactDetector(on_n, off_n)
        self.short_contacts = 0
        self._reset_buffer()

    def _reset_buffer(self) -> None:
        self._t: list[float] = []
        self._f: list[float] = []
        self._cop: list[tuple[float, float]] = []
        self._regions: list = []
        self._sides: dict[str | None, int] = {}
        self._footprint = None
        self._contact_t = math.nan
        self._onset_known = True

    @property
    def in_contact(self) -> bool:
        return self.detector.in_contact

    def update(self, t, force_n, cop_mm=None, regions_n=None, side=None, footprint=None) -> list[Event]:
        kind = self.detector.update(t, force_n)
        events: list[Event] = []
        if kind == "contact":
            self._reset_buffer()
            self._contact_t = self.detector.crossing_t
            self._onset_known = self.detector.onset_known
            events.append(Event("contact", self._contact_t, side or self.foot, self.track))
        # Samples count for the stance's metrics while the load is above off_n; the tail of
        # the fall (followed only to time the off) is left out: there the COP of a few
        # lightly loaded sensors, or an insole's preload, says little about the foot.
        if self.detector.in_contact and not self.detector.falling and math.isfinite(force_n):
            self._t.append(float(t))
            self._f.append(float(force_n))
            self._cop.append((math.nan, math.nan) if cop_mm is None else (float(cop_mm[0]), float(cop_mm[1])))
            self._regions.append((math.nan,) * 3 if regions_n is None else tuple(float(r) for r in regions_n))
            self._sides[side] = self._sides.get(side, 0) + 1
            if footprint is not None:
                self._footprint = footprint
        if kind == "off":
            events.extend(self._finish(self.detector.crossing_t))
        return events

    def _side(self) -> str | None:
        known = {s: n for s, n in self._sides.items() if s is not None}
        return max(known, key=known.get) if known else self.foot

    def _finish(self, off_t: float) -> list[Event]:
        side = self._side()
        events = [Event("off", off_t, side, self.track)]
        if not self._onset_known:
            # The stance began before the first sample: its contact time is unknown.
            events.append(Event("incomplete", off_t, side, self.track))
            return events
        if off_t - self._contact_t < self.min_stance_s or len(self._t) < 2:
            self.short_contacts += 1
            return events
        cop = np.array(self._cop, dtype=np.float64).reshape(-1, 2)
        footprint = self._footprint() if callable(self._footprint) else self._footprint
        step = Step(
            foot=side, contact_s=self._contact_t, off_s=off_t,
            t=np.array(self._t), force_n=np.array(self._f), cop_mm=cop,
            footprint=footprint, source=self.source, foot_length_mm=self.foot_length_mm,
            heel_edge_y_mm=self.heel_edge_y_mm,
            regions_n=np.array(self._regions, dtype=np.float64).reshape(-1, 3),
        )
        entry, reasons = step_metrics(step)
        events.append(Event("step", off_t, side, self.track, step=step, metrics=entry, reasons=reasons))
        return events

    def close(self, t: float) -> list[Event]:
        """End of the stream: a stance still open has no off time and is dropped."""
        open_contact = self.detector.in_contact
        old = self.detector
        self.detector = ContactDetector(old.on_n, old.off_n, old.margin_n)
        self.detector.bad_samples = old.bad_samples  # a count for the whole stream
        self._reset_buffer()
        return [Event("incomplete", t, self.foot, self.track)] if open_contact else []


def detect_steps(t, force_n, cop_mm=None, regions_n=None, foot: str | None = None, **stream_options) -> tuple[list[Event], FootStream]:
    """Run a :class:`FootStream` over a whole recording of one foot (insoles, a
    force plate under one foot). Returns (all events in order, the stream)."""
    stream = FootStream(foot, **stream_options)
    events: list[Event] = []
    n = len(t)
    for k in range(n):
        events.extend(stream.update(
            float(t[k]), float(force_n[k]),
            None if cop_mm is None else cop_mm[k],
            None if regions_n is None else regions_n[k],
            side=foot,
        ))
    if n:
        events.extend(stream.close(float(t[-1])))
    return events, stream


class MatStepAssembler:
    """Steps on the mat from the per-frame analysis, as they happen.

    ``update(t, result)`` with each :class:`kernels.frame.FrameResult` returns
    the frame's events. Every foot track of :class:`kernels.frame.FrameAnalyzer`
    (a new contact gets a new ``track_id``; the footprint stays put during the
    stance) feeds its own :class:`FootStream`; a track that leaves the mat counts
    as force 0. The step's footprint is the analyzer's stance footprint of the
    track (heel and toe ends, sensel mask), taken on the stance's last frame.
    """

    def __init__(self, analyzer, *, on_n: float = CONTACT_ON_N, off_n: float = CONTACT_OFF_N,
                 min_stance_s: float = MIN_STANCE_S):
        self.analyzer = analyzer
        params = analyzer.params
        self.pitch_mm = (float(params.row_pitch_mm), float(params.col_pitch_mm))
        self.options = {"on_n": on_n, "off_n": off_n, "min_stance_s": min_stance_s}
        self.streams: dict[int, FootStream] = {}
        self._last_t: float | None = None

    def _footprint(self, foot):
        mask = self.analyzer.footprint(foot.track_id)
        heel, toe, length, pitch = foot.heel_mm, foot.toe_mm, foot.length_mm, self.pitch_mm
        return lambda: Footprint.from_mat(heel, toe, length, mask, pitch)

    def update(self, t: float, result) -> list[Event]:
        events: list[Event] = []
        seen = set()
        for foot in result.feet:
            tid = foot.track_id
            seen.add(tid)
            stream = self.streams.get(tid)
            if stream is None:
                stream = self.streams[tid] = FootStream(foot.side, source="mat", track=tid, **self.options)
                if self._last_t is not None:
                    # A new track was not on the mat one frame ago: its load rose from 0.
                    stream.update(self._last_t, 0.0)
            keeps = stream.in_contact or foot.force_n >= stream.detector.on_n
            events.extend(stream.update(
                t, foot.force_n, foot.cop_mm, foot.regions_n, side=foot.side,
                footprint=self._footprint(foot) if keeps else None,
            ))
        for tid in [k for k in self.streams if k not in seen]:
            stream = self.streams.pop(tid)
            events.extend(stream.update(t, 0.0))
        self._last_t = t
        return events

    def close(self, t: float) -> list[Event]:
        """End of the recording: stances still open are reported incomplete."""
        events: list[Event] = []
        for stream in self.streams.values():
            events.extend(stream.close(t))
        self.streams.clear()
        return events
