"""Contact / foot-off hysteresis and step assembly on synthetic force curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.detectors import CONTACT_OFF_N, CONTACT_ON_N, ContactDetector, FootStream, detect_steps


def stance_force(t, contact, off, peak=700.0):
    """A smooth single-hump stance force (N): 0 outside [contact, off]."""
    phase = (t - contact) / (off - contact)
    return np.where((phase > 0) & (phase < 1), peak * np.sin(np.pi * np.clip(phase, 0, 1)), 0.0)


def test_hysteresis_ignores_noise_between_the_levels():
    d = ContactDetector(on_n=30, off_n=20)
    seq = [0, 10, 25, 29, 31, 25, 21, 28, 22, 19, 12, 25, 29, 31, 35]
    events = [d.update(i * 0.01, f) for i, f in enumerate(seq)]
    # off once the force is back above 30 N: the fall below 20 N ended at 12 N (0.10 s)
    assert events == [None] * 4 + ["contact"] + [None] * 8 + ["off", "contact"]
    # the new contact rose from that 12 N minimum at 0.10 s
    assert d.crossing_t == pytest.approx(0.10)


def test_event_times_are_traced_to_where_the_load_starts_and_ends():
    d = ContactDetector(on_n=30, off_n=20)
    d.update(0.00, 0.0)
    assert d.update(0.01, 60.0) == "contact"
    assert d.crossing_t == pytest.approx(0.00)  # the load started rising after 0.00 s
    d.update(0.02, 100.0)
    for i, f in enumerate([40.0, 19.0, 10.0, 4.0, 1.0]):
        assert d.update(0.03 + 0.01 * i, f) is None  # still unloading
    assert d.update(0.08, 0.0) == "off"
    assert d.crossing_t == pytest.approx(0.08)  # back at the swing floor (0 N)


def test_contact_onset_is_traced_back_along_the_rise():
    d = ContactDetector(on_n=30, off_n=20)
    # swing at a 12 N preload (a laced shoe), then a rise over three frames
    for i, f in enumerate([14, 12, 13, 12, 12, 20, 26, 40]):
        event = d.update(i * 0.01, float(f))
    assert event == "contact"
    assert d.crossing_t == pytest.approx(0.04)  # the last sample at the 12 N swing minimum
    d2 = ContactDetector(on_n=30, off_n=20)
    # the force sat on a plateau 11 N above the minimum before rising: the onset is the
    # plateau's last sample (a one-sample wiggle would not stop the search)
    for i, f in enumerate([0, 10, 11, 11, 11, 11, 25, 45]):
        d2.update(i * 0.01, float(f))
    assert d2.crossing_t == pytest.approx(0.05)
    d3 = ContactDetector(on_n=30, off_n=20)
    for i, f in enumerate([0, 10, 11, 10.5, 25, 45]):
        d3.update(i * 0.01, float(f))
    assert d3.crossing_t == pytest.approx(0.0)


def test_a_contact_already_on_at_the_first_sample_has_no_known_onset():
    t = np.arange(0, 1, 0.01)
    events, _ = detect_steps(t, np.where(t < 0.5, 400.0, 0.0))
    assert [e.kind for e in events] == ["contact", "off", "incomplete"]


def test_non_finite_force_holds_state_and_is_counted():
    d = ContactDetector()
    d.update(0.0, 100.0)
    assert d.in_contact
    assert d.update(0.01, math.nan) is None and d.update(0.02, -math.inf) is None
    assert d.in_contact and d.bad_samples == 2


def test_bad_samples_inside_a_stance_are_not_used():
    t = np.arange(0, 1, 0.01)
    force = np.where((t > 0.2) & (t < 0.7), 500.0, 0.0)
    force[40] = np.nan
    force[41] = np.inf
    events, stream = detect_steps(t, force)
    step = next(e for e in events if e.kind == "step")
    assert step.metrics["peak_force_n"] == 500.0
    assert len(step.step.force_n) == np.count_nonzero(force == 500.0) and stream.detector.bad_samples == 2


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError):
        ContactDetector(on_n=10, off_n=20)


def test_events_come_in_order_and_steps_carry_their_metrics():
    rate = 100.0
    t = np.arange(0, 3, 1 / rate)
    force = stance_force(t, 0.503, 1.207) + stance_force(t, 1.651, 2.402)
    cop = np.column_stack([np.zeros_like(t), np.linspace(0, 250, len(t))])
    events, stream = detect_steps(t, force, cop, foot="left", source="insole")
    kinds = [e.kind for e in events]
    assert kinds == ["contact", "off", "step", "contact", "off", "step"]
    steps = [e for e in events if e.kind == "step"]
    # 30 N of a 700 N sine is reached 0.0137 of the stance after contact; one frame is 10 ms.
    for e, (c, o) in zip(steps, [(0.503, 1.207), (1.651, 2.402)], strict=True):
        assert abs(e.metrics["contact_s"] - c) < 0.01 + 0.02 * (o - c)
        assert abs(e.metrics["off_s"] - o) < 0.01 + 0.02 * (o - c)
        assert e.metrics["peak_force_n"] == pytest.approx(700.0, rel=0.01)
        assert e.metrics["stance_s"] == pytest.approx(o - c, abs=0.03)
        assert e.metrics["foot"] == "left"
        assert e.metrics["gait_line_length_mm"] > 0
        assert e.metrics["loading_rate_n_s"] > 0
        assert e.metrics["heel_mm"] is None and "insoles" in e.reasons["heel_mm"]


def test_contact_and_off_are_emitted_on_the_frame_they_happen():
    s = FootStream("right")
    assert s.update(0.00, 0.0) == []
    out = s.update(0.01, 100.0)
    assert [e.kind for e in out] == ["contact"] and out[0].foot == "right"
    for k in range(2, 30):
        assert s.update(k * 0.01, 500.0) == []
    out = s.update(0.30, 0.0)
    assert [e.kind for e in out] == ["off", "step"]


def test_a_brief_touch_is_not_a_step():
    t = np.arange(0, 1, 0.01)
    force = np.where((t > 0.2) & (t < 0.25), 100.0, 0.0)
    events, stream = detect_steps(t, force)
    assert [e.kind for e in events] == ["contact", "off"]
    assert stream.short_contacts == 1


def test_a_stance_still_open_at_the_end_is_reported_incomplete():
    t = np.arange(0, 1, 0.01)
    events, _ = detect_steps(t, np.where(t > 0.5, 300.0, 0.0))
    assert [e.kind for e in events] == ["contact", "incomplete"]


def test_loading_rate_of_a_ramp():
    # Force rises linearly at 5000 N/s to 600 N then falls: 20-80 % slope is exactly 5000 N/s.
    t = np.arange(0, 0.6, 0.001)
    force = np.minimum(5000.0 * t, np.maximum(0.0, 600.0 - 3000.0 * (t - 0.12)))
    force[0] = 0.0
    events, _ = detect_steps(t, np.concatenate([force[:-1], [0.0]]))
    step = next(e for e in events if e.kind == "step")
    assert step.metrics["loading_rate_n_s"] == pytest.approx(5000.0, rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    contacts=st.lists(st.floats(0.2, 0.9), min_size=1, max_size=5),
    peak=st.floats(100, 1500),
    rate=st.sampled_from([50.0, 100.0, 200.0]),
)
def test_every_stance_is_found_once(contacts, peak, rate):
    # Stances of 0.2-0.9 s separated by 0.3 s of swing.
    t = np.arange(0, sum(contacts) + 0.3 * (len(contacts) + 1), 1 / rate)
    force = np.zeros_like(t)
    start = 0.3
    spans = []
    for d in contacts:
        force += stance_force(t, start, start + d, peak)
        spans.append((start, start + d))
        start += d + 0.3
    events, _ = detect_steps(t, force)
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == len(spans)
    for e, (c, o) in zip(steps, spans, strict=True):
        # The threshold is reached a little after true contact; linear interpolation of the
        # crossing is within one frame of that.
        rise = (o - c) / math.pi * math.asin(min(1.0, CONTACT_ON_N / peak))
        fall = (o - c) / math.pi * math.asin(min(1.0, CONTACT_OFF_N / peak))
        assert c - 1 / rate <= e.metrics["contact_s"] <= c + rise + 1 / rate
        assert o - fall - 1 / rate <= e.metrics["off_s"] <= o + 1 / rate
