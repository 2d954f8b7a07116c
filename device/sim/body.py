"""The person: body parameters, postural sway, and the smooth curves of voluntary movement.

Sway follows the inverted-pendulum picture of quiet standing (Winter 1998): the
centre of mass (COM) wanders as low-pass filtered noise, and the centre of
pressure (COP) is what the ankles must do to keep it there,
COP = COM - (h / g) * COM'' with h the COM height. The COP therefore carries the
COM's slow excursions plus faster corrections, which gives the mean velocity,
95 % ellipse area and mean frequency of healthy adults (Santos & Duarte 2016:
eyes open, rigid surface: mean velocity ~ 8-12 mm/s, ellipse ~ 100-300 mm^2).

The noise is generated on a fixed 200 Hz grid in 1 s chunks, each drawn from its
own seeded generator and started from the stored filter state of the previous
chunk, so any instant can be (re)computed in any order and always gives the same
value; a small cache keeps the recent chunks.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from scipy import signal

G = 9810.0  # mm/s^2


@dataclass(frozen=True)
class Body:
    """The virtual person. Lengths mm, mass kg, angles degrees, shares percent."""

    mass_kg: float = 70.0
    height_mm: float = 1700.0
    foot_length_mm: float = 260.0
    foot_width_scale: float = 1.0  # 1 = average foot width for its length
    stance_width_mm: float = 170.0  # between heel centres, quiet stance
    toe_out_deg: float = 8.0  # each foot, outward
    weight_left_pct: float = 50.0  # quiet-stance share on the left foot (60 = 60/40 left)
    push_off_left: float = 1.0  # 1 = normal push-off, 0.5 = halved forefoot/second peak
    push_off_right: float = 1.0
    sway_scale: float = 1.0  # multiplies the sway amplitude (older or unsteady people > 1)
    reaction_time_s: float = 0.25  # latency of a voluntary weight shift after a cue

    def __post_init__(self) -> None:
        checks = (
            ("mass_kg", 10.0, 300.0),
            ("height_mm", 800.0, 2300.0),
            ("foot_length_mm", 120.0, 360.0),
            ("foot_width_scale", 0.6, 1.5),
            ("stance_width_mm", 0.0, 600.0),
            ("toe_out_deg", -30.0, 45.0),
            ("weight_left_pct", 0.0, 100.0),
            ("push_off_left", 0.0, 1.5),
            ("push_off_right", 0.0, 1.5),
            ("sway_scale", 0.0, 10.0),
            ("reaction_time_s", 0.0, 2.0),
        )
        for name, lo, hi in checks:
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not (lo <= v <= hi):
                raise ValueError(f"Body.{name} = {v!r} is outside the plausible range {lo}..{hi}")

    @property
    def weight_n(self) -> float:
        return self.mass_kg * 9.81

    @property
    def com_height_mm(self) -> float:
        return 0.55 * self.height_mm


# --- sway ------------------------------------------------------------------------------

SWAY_DT = 0.005  # s, internal grid
CHUNK = 200  # samples per chunk (1 s)
CHECKPOINT_EVERY = 32  # chunks between stored generator states (~50 kB per day of simulation)
# Tuned to the median young adult of the BDS data set (Santos & Duarte 2016; BDSinfoCOP.txt,
# 261 trials, eyes open, firm surface: mean velocity 8.0 mm/s, 95 % prediction ellipse 202 mm^2,
# mean power frequency 0.22 Hz). Eight seeds give 8.1-9.1 mm/s, 160-240 mm^2, 0.23 Hz;
# see tests/test_sim_standing.py.
COM_ORDER = 4  # steep enough that COM'' (and so the COP) is not dominated by high frequencies
COM_CUTOFF_HZ = (0.35, 0.30)  # ML, AP
COM_SD_MM = (2.3, 3.6)  # ML, AP
TREMOR_BAND_HZ = (1.0, 4.0)  # corrective micro-adjustments: small, fast
TREMOR_SD_MM = (0.17, 0.20)
# Eyes closed: amplitude x1.35 (area x1.8, velocity x1.35). On a firm surface the BDS medians differ
# less (area +5 %, velocity +4 %) but the spread is wide; a clear Romberg effect is what demos
# and drills need, and 1.35 stays inside the BDS 90th percentiles.
EYES_CLOSED = 1.35


def _unit_gain(b: np.ndarray, a: np.ndarray) -> float:
    """Output sd of filter (b, a) driven by unit white noise (from its impulse response)."""
    imp = np.zeros(20000)
    imp[0] = 1.0
    return float(np.sqrt(np.sum(signal.lfilter(b, a, imp) ** 2)))


class SwayProcess:
    """Deterministic, seekable 2-D COM and COP sway (mm, relative to the mean posture)."""

    def __init__(self, seed: int, com_height_mm: float, cache_chunks: int = 120) -> None:
        self.seed = int(seed)
        self.k = com_height_mm / G  # s^2
        fs = 1.0 / SWAY_DT
        com = [signal.butter(COM_ORDER, fc, fs=fs) for fc in COM_CUTOFF_HZ]
        tremor = signal.butter(2, TREMOR_BAND_HZ, btype="bandpass", fs=fs)
        # per axis: (filter, drive sd) for the COM and for the tremor
        self._filters = [
            ((com[ax], COM_SD_MM[ax] / _unit_gain(*com[ax])), (tremor, TREMOR_SD_MM[ax] / _unit_gain(*tremor)))
            for ax in range(2)
        ]
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_chunks = cache_chunks
        # start states (filter states and the last two COM samples, per axis) of every
        # CHECKPOINT_EVERY-th chunk, and of the first chunk not generated yet
        first = self._warm_start()
        self._checkpoints: dict[int, list] = {0: first}
        self._frontier: tuple[int, list] = (0, first)

    def _warm_start(self) -> list:
        # 60 s of warm-up so t = 0 already looks like someone who has been standing a while
        def zi(ba):
            return np.zeros(max(len(ba[0]), len(ba[1])) - 1)

        zero = [[zi(com_f), zi(tr_f), np.zeros(2)] for (com_f, _), (tr_f, _) in self._filters]
        rng = np.random.default_rng([self.seed, 0x5A7, 0])
        _, state = self._run(zero, rng, 60 * CHUNK)
        return state

    def _run(self, start: list, rng: np.random.Generator, n: int) -> tuple[np.ndarray, list]:
        noise = rng.standard_normal((n, 4))
        out = np.empty((n, 4))  # com x, com y, cop x, cop y
        state = []
        for ax, ((com_f, com_sd), (tr_f, tr_sd)) in enumerate(self._filters):
            zc, zt, tail = start[ax]
            com, zc = signal.lfilter(*com_f, com_sd * noise[:, ax], zi=zc)
            tr, zt = signal.lfilter(*tr_f, tr_sd * noise[:, 2 + ax], zi=zt)
            ext = np.concatenate([tail, com])
            acc = (ext[2:] - 2 * ext[1:-1] + ext[:-2]) / SWAY_DT**2  # central difference, one sample late
            out[:, ax] = com
            # inverted pendulum: the COP leads the COM by the ankle torque needed to accelerate it
            out[:, 2 + ax] = com - self.k * acc + tr
            state.append([zc, zt, com[-2:].copy()])
        return out, state

    def _generate(self, c: int, start: list) -> tuple[np.ndarray, list]:
        rng = np.random.default_rng([self.seed, 0x5A7, c + 1])
        return self._run(start, rng, CHUNK)

    def _chunk(self, c: int) -> np.ndarray:
        hit = self._cache.get(c)
        if hit is not None:
            self._cache.move_to_end(c)
            return hit
        # replay forward from the nearest stored start state at or before c (a checkpoint every
        # CHECKPOINT_EVERY chunks, or the frontier), so memory stays bounded on a long run
        if c >= self._frontier[0]:
            i, state = self._frontier
        else:
            i = (c // CHECKPOINT_EVERY) * CHECKPOINT_EVERY
            state = self._checkpoints[i]
        while True:
            if i % CHECKPOINT_EVERY == 0:
                self._checkpoints.setdefault(i, state)
            data, nxt = self._generate(i, state)
            self._store(i, data)
            if i + 1 > self._frontier[0]:
                self._frontier = (i + 1, nxt)
            if i == c:
                return data
            i, state = i + 1, nxt

    def _store(self, c: int, data: np.ndarray) -> None:
        self._cache[c] = data
        self._cache.move_to_end(c)
        while len(self._cache) > self._cache_chunks:
            self._cache.popitem(last=False)

    def at(self, t: float) -> np.ndarray:
        """(com_x, com_y, cop_x, cop_y) in mm at time t >= 0, linearly interpolated."""
        if t < 0 or not math.isfinite(t):
            raise ValueError(f"simulation time must be finite and >= 0, got {t}")
        f = t / SWAY_DT
        i = int(math.floor(f))
        frac = f - i
        with self._lock:
            c, j = divmod(i, CHUNK)
            a = self._chunk(c)[j]
            if j + 1 < CHUNK:
                b = self._chunk(c)[j + 1]
            else:
                b = self._chunk(c + 1)[0]
        return a + (b - a) * frac


# --- smooth curves -----------------------------------------------------------------------


def minimum_jerk(s: float) -> float:
    """Position 0..1 of a minimum-jerk movement at normalised time s (bell-shaped velocity)."""
    s = min(max(s, 0.0), 1.0)
    return s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)


def smoothstep(s: float) -> float:
    s = min(max(s, 0.0), 1.0)
    return s * s * (3.0 - 2.0 * s)


def keyframes(t: float, times: tuple[float, ...], values: tuple[float, ...]) -> float:
    """Minimum-jerk interpolation between keyframes (flat at each keyframe)."""
    if t <= times[0]:
        return values[0]
    for i in range(1, len(times)):
        if t <= times[i]:
            s = (t - times[i - 1]) / (times[i] - times[i - 1])
            return values[i - 1] + (values[i] - values[i - 1]) * minimum_jerk(s)
    return values[-1]


def shift_duration_s(distance_mm: float) -> float:
    """Movement time of a voluntary COP shift: ~0.6 s for small, ~1.2 s for 150 mm shifts."""
    return 0.5 + 0.0045 * abs(distance_mm)


def stance_grf(tau: float, push_off: float = 1.0) -> float:
    """Vertical GRF during stance as a multiple of body weight, tau in 0..1 of stance.

    The classic double hump: ~1.1 BW at loading response (~25 %), ~0.8 BW at mid-stance,
    ~1.1 BW at push-off (~75 %). ``push_off`` < 1 lowers the second hump.
    """
    if tau <= 0.0 or tau >= 1.0:
        return 0.0
    f = 1.19 * math.sin(math.pi * tau) + 0.39 * math.sin(3.0 * math.pi * tau)
    if push_off != 1.0 and tau > 0.5:
        # scale the late-stance excess over a single hump toward (push_off) of normal
        base = 0.92 * math.sin(math.pi * tau)
        f = base + (f - base) * push_off - (1.0 - push_off) * 0.25 * math.sin(math.pi * tau) * smoothstep((tau - 0.5) / 0.3)
    return max(f, 0.0)
