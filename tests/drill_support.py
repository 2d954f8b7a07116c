"""Helpers for the drill tests: hand-made kernel results and the truth of simulated falls."""

from __future__ import annotations

import math

from kernels.frame import FootResult, FrameResult


def foot(side, force, cop, heel=None, length=250.0, width=90.0, bbox=(10, 10, 30, 20), track=None):
    """A FootResult standing straight ahead (toe = heel + length in +y)."""
    heel = heel or (cop[0], cop[1] - 0.5 * length)
    return FootResult(track_id=track or (1 if side == "left" else 2), side=side, force_n=force, cop_mm=cop,
                      contact_area_mm2=length * width, peak_kpa=100.0, regions_n=None, axis_deg=90.0,
                      length_mm=length, heel_mm=heel, toe_mm=(heel[0], heel[1] + length), bbox_rc=bbox,
                      footprint_area_mm2=length * width, frames=1)


def standing(left=350.0, right=350.0, cop=None, lx=110.0, rx=290.0, y=200.0, **kw):
    """A FrameResult of two feet apart; ``cop`` defaults to the force-weighted mean of the foot centres."""
    feet = []
    if left > 0:
        feet.append(foot("left", left, (lx, y), **kw))
    if right > 0:
        feet.append(foot("right", right, (rx, y), **kw))
    total = left + right
    if cop is None and total > 0:
        cop = ((left * lx + right * rx) / total, y)
    return FrameResult(force_n=total, cop_mm=cop if total >= 10 else None, feet=tuple(feet),
                       contact_area_mm2=0.0, peak_kpa=100.0, stray_force_n=0.0, invalid_sensels=0,
                       negative_sensels=0)


def empty():
    return standing(0.0, 0.0)


def drive(drill, frames, t0=0.0, dt=0.01):
    """Feed frames (a list, or a callable t -> frame) at 100 Hz; returns the last time."""
    t = t0
    for fr in frames:
        drill.update(t, fr)
        t += dt
    return t - dt


def edge_time(patient, t0, t1, margin_mm=3.0, dt=0.005):
    """First time in [t0, t1] the truth COP is within ``margin_mm`` of the simulator's base of support edge."""
    bos = patient.base_of_support()
    t = t0
    while t <= t1:
        c = patient.sample(t, mat=False, insoles=False).cop_mm
        if c is not None and _dist_to_edge(bos, c) <= margin_mm:
            return t
        t += dt
    return None


def _dist_to_edge(poly, p):
    best = math.inf
    n = len(poly)
    for i in range(n):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % n]
        ex, ey = x1 - x0, y1 - y0
        L2 = ex * ex + ey * ey
        u = max(0.0, min(1.0, ((p[0] - x0) * ex + (p[1] - y0) * ey) / L2)) if L2 > 0 else 0.0
        best = min(best, math.hypot(p[0] - (x0 + u * ex), p[1] - (y0 + u * ey)))
    return best
