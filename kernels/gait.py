"""Gait summary over the steps of a recording, symmetry, and the arch index.

Definitions (``docs/metrics.md``, metrics version 2):

* walking bouts: footfalls follow each other in one bout while each lands before
  the previous one (of the other foot) has left the ground, or at most
  ``MAX_FLIGHT_S`` after it, with no gap in the recording between them. Two
  footfalls of one foot in a row continue a bout only when no footfall of the
  other foot is seen at all (one insole, one plate): then within ``MAX_SWING_S``. A footfall the sensor did not see (a step beside a
  short mat, a loop of the walkway) or a gap in the recording ends the bout, so
  nothing below pairs footfalls that were not one after the other;
* step count: completed stances of either foot;
* cadence: 60 x (sum over bouts of (contacts - 1)) / (sum over bouts of
  (last contact - first contact)), steps/min; with one bout this is
  60 x (contacts - 1) / (last contact - first contact);
* step length and width (the GAITRite convention): for a heel contact of one
  foot, the line of progression is the line through the heel centres of the
  other foot's footfalls just before and just after it (in the same bout;
  after the bout's last one, the other foot's stride that led to it). Step
  length is the distance from the earlier contralateral heel centre to this
  heel centre along that line; step width is this heel centre's perpendicular
  distance from the line, positive on the foot's own side (a left foot left of
  the right foot's line) and negative when the feet cross, as in tandem
  walking. When the other foot's two heel centres are less than
  ``MIN_STRIDE_MM`` apart (stepping on the spot), or only one is known, the
  line runs straight forward (+y, toward the screen) through the earlier one;
* stance %: stance time / stride time (contact to the same foot's next contact
  in the same bout) x 100;
* Robinson symmetry index (Robinson et al. 1987): SI = (R - L) / ((R + L) / 2) x 100,
  0 is symmetric, positive means the right side's value is larger;
* arch index (Cavanagh & Rodgers 1987): on a static footprint without toes,
  the length from heel to the front of the forefoot is divided in three
  equal parts across the foot axis; AI = middle-third area / total area.
"""

from __future__ import annotations

import math

import numpy as np

MIN_STRIDE_MM = 100.0
# A footfall continues the walk when it lands no later than this after the other foot's
# previous footfall left the ground. Walking always has double support (the next foot lands
# before the other lifts); the margin covers event timing and a jog's short flight, and is
# shorter than any step, so a footfall missing in between always ends the bout.
MAX_FLIGHT_S = 0.3
# The same for consecutive footfalls of one foot (only that foot's sensor): one swing.
MAX_SWING_S = 1.0


def robinson_si(right: float | None, left: float | None) -> float | None:
    """(R - L) / (0.5 (R + L)) x 100, or None when undefined."""
    if right is None or left is None or not (right + left) > 0:
        return None
    return 100.0 * (right - left) / (0.5 * (right + left))


def _heel(entry) -> np.ndarray | None:
    h = entry.get("heel_centre_mm")
    return None if h is None else np.asarray(h, dtype=np.float64)


def bouts(entries: list[dict], breaks=()) -> list[list[int]]:
    """Indices of ``entries`` in contact order, grouped in walking bouts (module docstring).

    ``breaks`` are times (s) where the recording has a gap: footfalls either side of
    one are never in one bout.
    """
    order = sorted(range(len(entries)), key=lambda i: entries[i]["contact_s"])
    cuts = sorted(float(b) for b in breaks)
    # Two footfalls of one foot in a row follow each other only when no other foot is seen
    # at all; with both feet seen, they mean the other foot's footfall between was missed.
    one_foot = len({entries[i]["foot"] for i in order} - {None}) <= 1
    out: list[list[int]] = []
    for i in order:
        e = entries[i]
        if out:
            p = entries[out[-1][-1]]
            same_foot = e["foot"] is not None and e["foot"] == p["foot"]
            limit = (MAX_SWING_S if one_foot else -math.inf) if same_foot else MAX_FLIGHT_S
            off = p["off_s"] if p.get("off_s") is not None else p["contact_s"]
            gap_between = any(p["contact_s"] < b <= e["contact_s"] for b in cuts)
            if e["contact_s"] <= off + limit and not gap_between:
                out[-1].append(i)
                continue
        out.append([i])
    return out


def step_geometry(entries: list[dict], breaks=()) -> list[tuple[int, float, float]]:
    """(index, step length mm, step width mm) of every footfall that follows a footfall of
    the other foot in its bout, both with heel centres (see the module docstring)."""
    out = []
    for bout in bouts(entries, breaks):
        for k in range(1, len(bout)):
            e, before = entries[bout[k]], entries[bout[k - 1]]
            heel, a = _heel(e), _heel(before)
            if (e["foot"] not in ("left", "right") or before["foot"] in (e["foot"], None)
                    or heel is None or a is None):
                continue
            direction = None
            if k + 1 < len(bout):
                after = entries[bout[k + 1]]
                b = _heel(after)
                if after["foot"] == before["foot"] and b is not None:
                    direction = b - a
            elif k >= 3 and entries[bout[k - 3]]["foot"] == before["foot"] and entries[bout[k - 2]]["foot"] == e["foot"]:
                # After the bout's last contralateral footfall: the stride that led to it.
                earlier = _heel(entries[bout[k - 3]])
                if earlier is not None:
                    direction = a - earlier
            if direction is None or np.hypot(*direction) < MIN_STRIDE_MM:
                direction = np.array([0.0, 1.0])
            u = direction / np.hypot(*direction)
            left_normal = np.array([-u[1], u[0]])
            d = heel - a
            length = float(d @ u)
            width = float(d @ left_normal) * (1.0 if e["foot"] == "left" else -1.0)
            out.append((bout[k], length, width))
    return out


def gait_summary(entries: list[dict], breaks=()) -> tuple[dict, dict]:
    """``(gait, reasons)`` from the report's per-step entries; ``breaks``: times of the
    recording's gaps (no interval, stride or step is measured across one)."""
    gait: dict = {
        "step_count": len(entries),
        "cadence_steps_min": None,
        "step_length_mm": None,
        "step_width_mm": None,
        "stance_pct": None,
        "stance_s": {"left": None, "right": None},
        "peak_force_n": {"left": None, "right": None},
        "symmetry_stance_time_pct": None,
        "symmetry_peak_force_pct": None,
    }
    reasons: dict = {}
    if not entries:
        why = "no completed step in the analysed part"
        for key, value in gait.items():
            if value is None:
                reasons[key] = why
        for key in ("stance_s", "peak_force_n"):
            for side in ("left", "right"):
                reasons[f"{key}.{side}"] = why
        return gait, reasons
    walks = bouts(entries, breaks)
    intervals = sum(len(b) - 1 for b in walks)
    span = sum(entries[b[-1]]["contact_s"] - entries[b[0]]["contact_s"] for b in walks)
    if intervals and span > 0:
        gait["cadence_steps_min"] = 60.0 * intervals / span
    else:
        reasons["cadence_steps_min"] = ("needs two steps one after the other"
                                        + ("" if len(entries) < 2 else
                                           " (these steps were not: the sensor missed the steps between)"))

    geometry = step_geometry(entries, breaks)
    if geometry:
        gait["step_length_mm"] = float(np.mean([g[1] for g in geometry]))
        gait["step_width_mm"] = float(np.mean([g[2] for g in geometry]))
    else:
        why = ("needs heel positions (a mat recording)" if not any(_heel(e) is not None for e in entries)
               else "needs a footfall of each foot one after the other, on the mat, with known sides")
        reasons["step_length_mm"] = reasons["step_width_mm"] = why

    stance_pct = []
    for walk in walks:
        for side in ("left", "right"):
            own = [entries[i] for i in walk if entries[i]["foot"] == side]
            for a, b in zip(own, own[1:], strict=False):
                stride = b["contact_s"] - a["contact_s"]
                if stride > 0 and a["stance_s"] is not None and a["stance_s"] < stride:
                    stance_pct.append(100.0 * a["stance_s"] / stride)
    for side in ("left", "right"):
        own = [e for e in entries if e["foot"] == side]
        if own:
            gait["stance_s"][side] = float(np.mean([e["stance_s"] for e in own]))
            gait["peak_force_n"][side] = float(np.mean([e["peak_force_n"] for e in own]))
    for side in ("left", "right"):
        if gait["stance_s"][side] is None:
            reasons[f"stance_s.{side}"] = reasons[f"peak_force_n.{side}"] = f"no completed step of the {side} foot"
    if stance_pct:
        gait["stance_pct"] = float(np.mean(stance_pct))
    else:
        reasons["stance_pct"] = "needs two consecutive steps of the same foot, one stride apart"
    gait["symmetry_stance_time_pct"] = robinson_si(gait["stance_s"]["right"], gait["stance_s"]["left"])
    gait["symmetry_peak_force_pct"] = robinson_si(gait["peak_force_n"]["right"], gait["peak_force_n"]["left"])
    for key in ("symmetry_stance_time_pct", "symmetry_peak_force_pct"):
        if gait[key] is None:
            reasons[key] = "needs steps of both the left and the right foot"
    return gait, reasons


def arch_index(mask: np.ndarray, pitch_mm: tuple[float, float], axis_deg: float | None = None) -> float | None:
    """Cavanagh & Rodgers (1987) arch index of one static footprint (bool (rows, cols)).

    Toes are left out: the footprint's largest 8-connected blob is the foot
    proper; separate blobs (toes) do not count. The long axis is the blob's
    principal axis (or ``axis_deg`` from +x); its length from the rearmost to
    the foremost sensel centre is cut in thirds and AI = sensels in the middle
    third / all sensels. Returns None for a footprint under 10 sensels.
    """
    from kernels.blobs import largest_blob

    main = largest_blob(mask)
    r, c = np.nonzero(main)
    if len(r) == 0:
        return None
    if len(r) < 10:
        return None
    pts = np.column_stack([(c + 0.5) * pitch_mm[1], (r + 0.5) * pitch_mm[0]])
    if axis_deg is None:
        centred = pts - pts.mean(axis=0)
        _, vec = np.linalg.eigh(np.cov(centred.T))
        axis = vec[:, 1]
    else:
        axis = np.array([math.cos(math.radians(axis_deg)), math.sin(math.radians(axis_deg))])
    along = pts @ axis
    lo, hi = along.min(), along.max()
    if not hi > lo:
        return None
    third = (hi - lo) / 3.0
    middle = (along >= lo + third) & (along < lo + 2 * third)
    return float(middle.sum() / len(along))
