"""The virtual patient's tandem walks as frames, and its truth per footfall (frame tests).

Two ways to read the mat: ``"truth"``, the simulator's true kPa, and ``"sensor"``, what the
kiosk reads from an uncalibrated mat (the mat's counts, zeroed and noise-gated on the
device, turned into kPa by the factory-nominal line, which over-reads low pressures).
"""

from __future__ import annotations

import numpy as np

PITCH = (8.47, 8.47)
STEP_S = 0.02
COLS = 48
# a footfall is loaded once its mat force reaches this (N); before that the analyzer may
# not see it yet (the 10 kPa threshold), so a track may start up to here
LOADED_N = 20.0


def tandem_patient(rows, seed=5, **params):
    from device.sim import MatGeometry, VirtualPatient

    return VirtualPatient(scenario="tandem", seed=seed,
                          mat=MatGeometry(rows=rows, cols=COLS, pitch_mm=PITCH), **params)


def tandem_frames(patient, seconds, path):
    """(truth samples, float32 kPa frames) of ``seconds`` of the walk read the ``path`` way."""
    read = sensor_reader(patient) if path == "sensor" else None
    samples, frames = [], []
    for k in range(int(round(seconds / STEP_S))):
        sample = patient.sample(k * STEP_S, insoles=False)
        if read is None:
            frames.append(np.ascontiguousarray(sample.mat_kpa, dtype=np.float32))
        else:
            frames.append(read(sample))
        samples.append(sample)
    return samples, frames


def sensor_reader(patient):
    """kPa of a sample as the kiosk reads an uncalibrated mat: counts, device ZERO and gate, factory line."""
    from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate
    from gaitkiosk.pressure import NOMINAL, Pressure

    sensor = patient.mat_sensor
    # ZERO with the default per-sensel gate, measured on the empty mat before the walk
    empty = np.zeros(sensor.shape)
    zero = ZeroGate.measure(np.stack([sensor.counts(empty, key=7_000_000 + k)
                                      for k in range(ZERO_WINDOW_SCANS)]), 0)
    pressure = Pressure("sim-mat", NOMINAL, kpa_per_count=sensor.kpa_per_count,
                        stuck_counts=sensor.max_counts)
    return lambda sample: pressure.kpa(zero.apply(patient.mat_counts(sample)))


def tracks(samples, results):
    """track_id -> first and last time seen, longest footprint, sides given."""
    out = {}
    for sample, result in zip(samples, results, strict=True):
        for foot in result.feet:
            tr = out.setdefault(foot.track_id, {"t0": sample.t, "length": 0.0, "sides": set()})
            tr["t1"] = sample.t
            tr["length"] = max(tr["length"], foot.length_mm)
            tr["sides"].add(foot.side)
    return out


def footfalls(samples, patient):
    """Truth per footfall that loads the mat and ends within the run, in time order: side, the first
    and last time its mat force is at least LOADED_N, its contact and foot-off times,
    and whether it lies wholly on the mat (at mid-stance)."""
    seconds = samples[-1].t
    events = patient.events_until(seconds)
    out = []
    for e in events:
        if e.kind != "contact":
            continue
        off = next((f.t for f in events if f.side == e.side and f.kind == "off" and f.t > e.t), None)
        if off is None or off > seconds:
            continue
        loaded = [s.t for s in samples if e.t <= s.t <= off and s.feet[e.side].mat_force_n >= LOADED_N]
        if not loaded:
            continue
        mid = samples[int(round((e.t + off) / 2 / STEP_S))].feet[e.side]
        whole = mid.on_mat and abs(mid.mat_force_n - mid.force_n) < 1.0
        out.append({"side": e.side, "contact": e.t, "off": off, "first": loaded[0],
                    "last": loaded[-1], "whole": whole})
    return out


def track_of(footfall, all_tracks, frames=3):
    """The tracks that began with this footfall (from its contact until it is loaded, plus
    ``frames`` frames)."""
    lo, hi = footfall["contact"] - frames * STEP_S, footfall["first"] + frames * STEP_S
    return [tr for tr in all_tracks.values() if lo <= tr["t0"] <= hi]


def ends_with(footfall, track, frames=3):
    """Whether a track ends with its footfall: not held on by the next heel."""
    return footfall["last"] - frames * STEP_S <= track["t1"] <= footfall["off"] + frames * STEP_S
