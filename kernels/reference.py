"""Numpy reference of the per-frame analysis: the specification, and the fallback.

``kernels._frame`` implements exactly these steps in the same order (same
tie-breaks, same formulas), so the two agree to rounding; the tests compare
them on random and simulated frames. Read this file to know what a number
means. Parameters are :class:`kernels.frame.FrameParams`.

Per mat frame:

1. **Clean.** NaN/inf and negative values count as 0 (and are counted).
   Sensels at or above ``threshold_kpa`` are *active*; the rest count as 0.
2. **Totals.** force = sum(p) * sensel area * 1e-3 N over active sensels; COP
   the pressure-weighted centroid of sensel centres, or None under ``min_force_n``.
3. **Blobs.** 8-connected components of the active sensels, numbered in
   raster order of their first sensel.
4. **Split blobs holding two feet.** (a) A blob that overlaps both feet of the
   previous frame is divided sensel by sensel: a sensel keeps last frame's
   foot, a new sensel goes to the foot whose last heel-toe segment is nearer.
   (b) Otherwise a blob taller than ``max_foot_length_mm`` (tandem) or wider
   than ``max_foot_width_mm`` (side by side) is cut at the deepest valley of
   its per-row (resp. per-column) sensel count in the middle 60 % of its
   extent, if that valley holds at most ``valley_ratio`` of the smaller peak.
   The part holding the blob's first sensel keeps its number; the other
   part is numbered after all blobs.
5. **Assign pieces to feet** (two slots), largest first (sensel count,
   then force, then number). A piece overlapping last frame's feet joins the
   one it overlaps most; of each foot's pieces the one overlapping most is its
   *main*. Another piece of that foot stays if its sensels are all in the
   foot's stance footprint or if the two together still *fit one foot*
   (no longer than ``max_foot_length_mm`` along their common principal axis,
   no wider than ``max_foot_width_mm`` across it); else it is released.
   Free pieces -- heel, arch band, forefoot and toes are often apart at the
   threshold -- then (a) join, largest first, the nearest foot seen before
   that they *lie near* (edge gap: nearest sensel centres less one pitch, at
   most ``fragment_gap_mm``) and fit with (its stance footprint), unless the
   footprint is whole (``full_footprint_mm``) and the piece lies wholly
   beside it (every sensel further from its long axis than its half-width
   plus one pitch), or the piece lies wholly beyond its toes: beyond its heel end plus the longest finished
   stance footprint of its side, or, in a side's first stance, beyond the
   front of a footprint at least ``full_footprint_mm`` long whose heel was off
   last frame (rearfoot under ``HEEL_OFF_SHARE`` of the foot's force:
   terminal stance) and whose toes are already in it (its front
   ``FRONT_BAND`` at most ``TOES_FRONT_RATIO`` as wide as the footprint), or,
   for a footprint at the mat's rear edge (its first or second row loaded: the
   heel may be off the mat, so its length and heel load say nothing), wholly in
   front of its last row once its front ``FRONT_BAND`` of rows is at most
   ``TOES_FRONT_RATIO`` as wide as it (columns) and it did not grow last frame.
   In tandem walking that piece is the next foot's heel; toes touching down in
   early stance, or after heel-off in front of the metatarsal heads, still join.
   A footprint touching any edge of the mat gives no stance length (it may be
   cut there). (b) The rest (the
   ``MAX_CLUSTER_PIECES`` largest) are grouped by single linkage: the two
   groups with the smallest gap that lie near and fit one foot merge, again
   and again, so a foot's own fragments come together before anything
   bridges to the other foot. (c) Largest group first (sensels, force,
   first piece), a group carrying ``min_foot_force_n`` (or holding a released
   piece) starts a new foot if a slot is free. A released piece left over
   goes back to its foot; other leftovers are stray.
6. **Per foot**: force, COP, contact area, peak, bounding box. The *stance
   footprint* is the union of the foot's sensels since its contact began;
   its area-moment principal axis (oriented forward, +y) gives the heel and
   toe ends (sensel extents included) and the length. A loaded sensel's
   region is where its centre falls from the heel end, as a share (27 % /
   55 %) of the foot length: the longer of this footprint and the longest
   footprint of the same side since reset (so a heel strike, before the
   forefoot has loaded, is still all rearfoot). No regions under
   ``min_region_length_mm``.
7. **Sides.** A side, once known, stays with the track. A foot of unknown
   side takes the opposite of the other foot's known side; two feet of
   unknown side at least ``side_min_dx_mm`` apart in footprint-centre x get
   left = smaller x; a lone foot takes the side whose last known x is
   nearer, once both are known and that far apart. Failing those, a stance
   footprint at least ``full_footprint_mm`` long tells its side by anatomy:
   the loaded band of the midfoot (27-55 % of its length) lies lateral, so
   its mean offset from the long axis is at least ``arch_offset_mm`` to the
   left on a left foot and to the right on a right foot (a flat foot with a
   full midfoot does not say). Otherwise None.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import ndimage

from kernels.frame import (
    LEFT,
    REGION_CUTS,
    RIGHT,
    FootResult,
    FrameParams,
    FrameResult,
    check_frame,
)
from kernels.insole import InsoleResult, check_insole_frame

_EIGHT = np.ones((3, 3), dtype=int)
SLOTS = 2
# Geometry on the sensel lattice makes exact ties (a sensel centre right on a region
# cut, a footprint exactly max_foot_length_mm long). Every such comparison carries
# this slack (mm, or mm^2), far above rounding (~1e-10) and far below a sensel, so
# ties fall on a documented side in both faces of the kernel.
SLACK = 1e-6
# Free pieces grouped into new feet per frame, largest first; smaller ones are stray
# (a frame of speckle noise must not cost quadratic time).
MAX_CLUSTER_PIECES = 32
# A foot whose rearfoot carries less than this share of its force has its heel off
# (terminal stance): nothing new wholly beyond its toes joins it (step 5). The share is of
# the pressures as read: an uncalibrated mat (the factory-nominal counts->kPa line over a
# sensor whose counts grow as p^0.7) over-reads low pressures far more than high ones, so
# when the next tandem heel lands the unloading heel reads about 12 % of the foot where the
# truth is about 7 % (virtual patient, tests/test_frame_sensor_path.py); at 0.10 that heel
# joined the planted foot (340-449 mm footprints). The uncalibrated reading crosses 0.15
# about where the truth crosses 0.10 (half-way through stance); in loading response and
# early midstance the heel carries 30 % and more either way.
HEEL_OFF_SHARE = 0.15
# In a side's first stance the heel-off rule above needs the toes already in the footprint:
# toes that touch down only after heel-off (common in real walking: SpeedPP2D, Pataky 2008)
# land just in front of the metatarsal heads, where a tandem heel would land in front of
# the toes. A footprint's toes are in it when its front FRONT_BAND of the length is at most
# TOES_FRONT_RATIO as wide as the whole footprint (toe tips); without toes the front is the
# row of metatarsal heads, nearly as wide as the foot (0.74-0.88 on SpeedPP2D, 0.5 on the
# virtual patient's whole footprints).
FRONT_BAND = 0.1
TOES_FRONT_RATIO = 0.65


def principal_axis(sx, sy, sxx, syy, sxy, n):
    """Centroid and forward-oriented unit long axis from raw area moments.

    Raw sums (not centred) on purpose: the compiled kernel keeps running sums.
    A footprint with no preferred direction (one sensel, a square) gets the
    forward axis (0, 1).
    """
    mx, my = sx / n, sy / n
    cxx = sxx / n - mx * mx
    cyy = syy / n - my * my
    cxy = sxy / n - mx * my
    tol = 1e-9 * (abs(cxx) + abs(cyy)) + 1e-12
    if abs(cxx - cyy) <= tol and abs(cxy) <= tol:
        return mx, my, 0.0, 1.0
    theta = 0.5 * math.atan2(2.0 * cxy, cxx - cyy)
    ux, uy = math.cos(theta), math.sin(theta)
    if abs(uy) <= 1e-9:  # crosswise: +x exactly, so rounding cannot flip the direction
        return mx, my, 1.0, 0.0
    if uy < 0.0:
        ux, uy = -ux, -uy
    return mx, my, ux, uy


def _segment_dist2(px, py, ax, ay, bx, by):
    """Squared distance from points (px, py) to the segment a-b."""
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    if den > 0.0:
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / den, 0.0, 1.0)
    else:
        t = np.zeros_like(px)
    ex = px - (ax + t * dx)
    ey = py - (ay + t * dy)
    return ex * ex + ey * ey



# Two COPs closer than this are the same place: the compiled kernel and this reference sum in
# another order, and a difference of rounding must not decide which foot is listed first.
SAME_X_MM = 1e-9


def _foot_order(a, b) -> int:
    """Left, right, unknown; then COP x; then the older track (kernels/_frame_regions.pxi _second_first)."""
    rank = {LEFT: 0, RIGHT: 1}
    ra, rb = rank.get(a.side, 2), rank.get(b.side, 2)
    if ra != rb:
        return -1 if ra < rb else 1
    if abs(a.cop_mm[0] - b.cop_mm[0]) > SAME_X_MM:
        return -1 if a.cop_mm[0] < b.cop_mm[0] else 1
    return -1 if a.track_id < b.track_id else 1

class _Slot:
    """One foot track."""

    def __init__(self, rows, cols):
        self.footprint = np.zeros((rows, cols), dtype=bool)
        self.clear()

    def clear(self):
        self.live = False
        self.track_id = 0
        self.side = None
        self.frames = 0
        self.footprint[:] = False
        self.geom = None  # last frame's stance-footprint geometry (see _geometry)
        self.grew = True  # last frame added sensels to the stance footprint
        self.heel_loaded = True  # last frame: rearfoot > HEEL_OFF_SHARE of the foot (or unknown)


class FrameKernel:
    """Reference per-frame analyzer; use :class:`kernels.frame.FrameAnalyzer`."""

    def __init__(self, params: FrameParams):
        self.p = params
        rows, cols = params.rows, params.cols
        self.area = params.row_pitch_mm * params.col_pitch_mm
        # Sensel centres (DESIGN 3).
        self.x = (np.arange(cols) + 0.5) * params.col_pitch_mm
        self.y = (np.arange(rows) + 0.5) * params.row_pitch_mm
        self.slots = [_Slot(rows, cols) for _ in range(SLOTS)]
        self.reset()

    def reset(self):
        for slot in self.slots:
            slot.clear()
        self.prev_slot = np.full((self.p.rows, self.p.cols), -1, dtype=np.int8)
        self.labels = np.zeros((self.p.rows, self.p.cols), dtype=np.int32)
        self.next_track_id = 1
        self.last_x = {LEFT: None, RIGHT: None}
        # Longest stance footprint seen per side: the foot's length for region cuts
        # while a new stance has loaded only its heel.
        self.foot_length = {LEFT: 0.0, RIGHT: 0.0}
        # Longest footprint of a finished stance per side (tandem separation, step 5).
        self.stance_length = {LEFT: 0.0, RIGHT: 0.0}

    # -- helpers used by the public wrapper -------------------------------------------
    def foot_labels(self):
        return self.labels.copy()

    def footprint(self, track_id):
        for slot in self.slots:
            if slot.live and slot.track_id == track_id:
                return slot.footprint.copy()
        return None

    # -- the analysis ------------------------------------------------------------------
    def analyze(self, frame):
        p_ = self.p
        cols = p_.cols
        check_frame(frame, p_.rows, p_.cols)

        # 1. Clean.
        p = frame.astype(np.float64)
        invalid = ~np.isfinite(p)
        negative = ~invalid & (p < 0)
        p[invalid | negative] = 0.0
        peak = float(p.max())
        active = p >= p_.threshold_kpa
        p[~active] = 0.0

        # 2. Totals.
        scale = self.area * 1e-3
        total = float(p.sum())
        force_n = total * scale
        cop = None
        if force_n >= p_.min_force_n and total > 0:
            cop = (float((p.sum(axis=0) * self.x).sum() / total),
                   float((p.sum(axis=1) * self.y).sum() / total))

        # 3. Blobs, in raster order of their first sensel.
        lab, n = ndimage.label(active, structure=_EIGHT)
        flat = lab.ravel()
        order = np.argsort(flat, kind="stable")
        bounds = np.searchsorted(flat[order], np.arange(1, n + 2))
        blobs = [order[bounds[k]:bounds[k + 1]] for k in range(n)]
        blobs.sort(key=lambda idx: idx[0])

        pf = p.ravel()
        rr, cc = np.divmod(np.arange(p.size), cols)
        xs = self.x[cc]
        ys = self.y[rr]
        prev = self.prev_slot.ravel()
        live_before = [s.live for s in self.slots]

        # 4. Split blobs holding two feet.
        pieces = list(blobs)
        extra = []
        for k, idx in enumerate(blobs):
            parts = self._history_split(idx, prev, live_before, xs, ys)
            if parts is None:
                parts = self._valley_split(idx, rr, cc)
            if parts is not None:
                pieces[k], other = parts
                extra.append(other)
        pieces += extra

        stats = [self._stats(idx, pf, xs, ys, prev, live_before) for idx in pieces]

        # 5. Assign pieces to feet.
        owner, released_from = self._assign(stats, xs, ys)

        # 6. Per foot.
        stray = 0.0
        foot_of = np.full(p.size, -1, dtype=np.int8)
        # A footprint that touches an edge of the mat may be cut there (a foot partly on the
        # mat): its length is not the foot's (as it stood last frame, before releases).
        on_edge = [slot.live and self._on_mat_edge(slot) for slot in self.slots]
        for k, idx in enumerate(pieces):
            if owner[k] < 0:
                stray += stats[k]["force"]
            else:
                foot_of[idx] = owner[k]
            gone = released_from[k]
            if gone >= 0 and owner[k] != gone:
                # A neighbour that was taken for part of this foot: not its footprint.
                self.slots[gone].footprint.ravel()[idx] = False
        feet_idx = {}
        for s, slot in enumerate(self.slots):
            idx = np.flatnonzero(foot_of == s)
            # A stance has ended: its footprint's length is the foot's (step 5), unless cut.
            if (slot.live and slot.side is not None and (idx.size == 0 or self.new_track[s])
                    and not on_edge[s]):
                length = max(self.stance_length[slot.side], slot.geom["length"])
                self.stance_length[slot.side] = length  # this stance has ended
            if idx.size == 0:
                slot.clear()
                continue
            if not slot.live or self.new_track[s]:  # a new contact
                slot.clear()
                slot.live = True
                slot.track_id = self.next_track_id
                self.next_track_id += 1
            slot.frames += 1
            slot.grew = not slot.footprint.ravel()[idx].all()  # sensels new to the footprint
            slot.footprint.ravel()[idx] = True
            slot.geom = self._geometry(np.flatnonzero(slot.footprint.ravel()), xs, ys)
            feet_idx[s] = idx
        self.prev_slot = foot_of.reshape(p.shape)

        # 7. Sides.
        self._decide_sides(list(feet_idx), xs, ys)

        self.labels[:] = 0
        feet = []
        for s, idx in feet_idx.items():
            slot = self.slots[s]
            self.labels.ravel()[idx] = slot.track_id
            feet.append(self._foot_result(slot, idx, pf, xs, ys, rr, cc, scale))
        feet.sort(key=functools.cmp_to_key(_foot_order))
        return FrameResult(
            force_n=force_n,
            cop_mm=cop,
            feet=tuple(feet),
            contact_area_mm2=float(active.sum()) * self.area,
            peak_kpa=peak,
            stray_force_n=stray * scale,
            invalid_sensels=int(invalid.sum()),
            negative_sensels=int(negative.sum()),
        )

    # -- step 4 ---------------------------------------------------------------------------
    def _history_split(self, idx, prev, live_before, xs, ys):
        if not all(live_before):
            return None
        was = prev[idx]
        if not ((was == 0).any() and (was == 1).any()):
            return None
        to = was.astype(np.int64)
        fresh = was < 0
        if fresh.any():
            d = [_segment_dist2(xs[idx[fresh]], ys[idx[fresh]], *self.slots[s].geom["heel"],
                                *self.slots[s].geom["toe"]) for s in range(SLOTS)]
            to[fresh] = np.where(d[1] < d[0] - SLACK, 1, 0)
        first = to[0]
        return idx[to == first], idx[to != first]

    def _valley_split(self, idx, rr, cc):
        p_ = self.p
        r, c = rr[idx], cc[idx]
        for coord, pitch, limit in ((r, p_.row_pitch_mm, p_.max_foot_length_mm),
                                    (c, p_.col_pitch_mm, p_.max_foot_width_mm)):
            lo, hi = int(coord.min()), int(coord.max())
            nbins = hi - lo + 1
            if nbins * pitch <= limit or nbins < 3:
                continue
            profile = np.bincount(coord - lo, minlength=nbins)
            m = nbins // 5
            window = profile[m:nbins - m]
            j = m + int(np.argmin(window))  # first deepest bin
            left_peak = profile[: j + 1].max()
            right_peak = profile[j:].max()
            if profile[j] <= p_.valley_ratio * min(left_peak, right_peak):
                in_first = (coord - lo <= j) == (coord[0] - lo <= j)
                return idx[in_first], idx[~in_first]
        return None

    def _stats(self, idx, pf, xs, ys, prev, live_before):
        x, y = xs[idx], ys[idx]
        was = prev[idx]
        return {
            "n": idx.size,
            "force": float(pf[idx].sum()),
            "area_mm2": idx.size * self.area,
            "sx": float(x.sum()), "sy": float(y.sum()),
            "sxx": float((x * x).sum()), "syy": float((y * y).sum()), "sxy": float((x * y).sum()),
            # the foot it was part of last frame (each piece overlaps at most one,
            # step 4 having divided the others) and by how many sensels
            "was": next((s for s in range(SLOTS) if live_before[s] and (was == s).any()), -1),
            "overlap": max(int((was == s).sum()) for s in range(SLOTS)),
            "idx": idx,
        }

    # -- step 5 ---------------------------------------------------------------------------
    def _assign(self, stats, xs, ys):
        """Owner slot of every piece (-1: stray), and the slot each released piece left."""
        p_ = self.p
        n = len(stats)
        order = sorted(range(n), key=lambda k: (-stats[k]["n"], -stats[k]["force"], k))
        owner = [-1] * n
        released_from = [-1] * n
        main = [-1] * SLOTS
        self.new_track = [False] * SLOTS
        # A foot's main piece is the one overlapping it most (ties: the larger), so a
        # neighbour that grows fast cannot take over its identity.
        for k in order:
            s, ov = stats[k]["was"], stats[k]["overlap"]
            if s >= 0 and (main[s] < 0 or ov > stats[main[s]]["overlap"]):
                main[s] = k
        for s in range(SLOTS):
            if main[s] >= 0:
                owner[main[s]] = s
        # Other pieces that were part of a foot stay with it while, together with its
        # stance footprint, they still fit one foot; past that they are released.
        for k in order:
            s = stats[k]["was"]
            if s < 0 or owner[k] >= 0:
                continue
            footprint = np.flatnonzero(self.slots[s].footprint.ravel())
            inside = self.slots[s].footprint.ravel()[stats[k]["idx"]].all()
            if inside or self._fits(footprint, stats[k]["idx"], xs, ys):
                owner[k] = s
            else:
                released_from[k] = s
        # Free pieces (heel, arch band, forefoot and toes are often apart at the threshold).
        # 1. Each joins the nearest foot seen before that it lies near and fits with.
        for k in order:
            if owner[k] >= 0:
                continue
            target, best = -1, math.inf
            for s in range(SLOTS):
                slot = self.slots[s]
                if main[s] < 0 or self._beyond_toes(slot, stats[k]["idx"], xs, ys):
                    continue
                if self._beside(slot, stats[k]["idx"], xs, ys):
                    continue
                group = np.flatnonzero(slot.footprint.ravel())
                gap = self._gap(group, stats[k]["idx"], xs, ys)
                if (gap <= p_.fragment_gap_mm + SLACK and gap < best
                        and self._fits(group, stats[k]["idx"], xs, ys)):
                    target, best = s, gap
            if target >= 0:
                owner[k] = target
        # 2. The rest gather into feet: the closest two groups that fit one foot merge
        #    first (single linkage), so a foot's own fragments, a few mm apart, come
        #    together before anything bridges to the other foot.
        free = [k for k in order if owner[k] < 0][:MAX_CLUSTER_PIECES]
        clusters = self._cluster(free, stats, xs, ys)

        # 3. Largest groups first: a new foot if strong enough and a slot is free.
        def size(c):
            return (-sum(stats[k]["n"] for k in c), -sum(stats[k]["force"] for k in c),
                    order.index(c[0]))

        for cluster in sorted(clusters, key=size):
            force = sum(stats[k]["force"] for k in cluster) * self.area * 1e-3
            released = any(released_from[k] >= 0 for k in cluster)
            slots_free = [s for s in range(SLOTS) if main[s] < 0]
            if slots_free and (force >= p_.min_foot_force_n or released):
                s = slots_free[0]
                main[s] = cluster[0]
                for k in cluster:
                    owner[k] = s
                self.new_track[s] = True  # even in a lifted foot's slot: a new contact
        for k in order:  # a released piece that found no place goes back to its foot
            if owner[k] < 0 and released_from[k] >= 0:
                owner[k] = released_from[k]
        return owner, released_from

    def _cluster(self, free, stats, xs, ys):
        """Single-linkage grouping of free pieces (lists of piece numbers, in ``free`` order)."""
        clusters = [[k] for k in free]
        gap_of = {}
        for i, a in enumerate(free):
            for b in free[i + 1:]:
                gap_of[a, b] = gap_of[b, a] = self._gap(stats[a]["idx"], stats[b]["idx"], xs, ys)
        while True:
            pairs = []
            for i, ca in enumerate(clusters):
                for j in range(i + 1, len(clusters)):
                    gap = min(gap_of[a, b] for a in ca for b in clusters[j])
                    if gap <= self.p.fragment_gap_mm + SLACK:
                        pairs.append((gap, i, j))
            pairs.sort()
            for _, i, j in pairs:
                group = np.concatenate([stats[k]["idx"] for k in clusters[i]])
                piece = np.concatenate([stats[k]["idx"] for k in clusters[j]])
                if self._fits(np.sort(group), np.sort(piece), xs, ys):
                    clusters[i] = sorted(clusters[i] + clusters[j], key=free.index)
                    del clusters[j]
                    break
            else:
                return clusters

    def _beside(self, slot, piece, xs, ys):
        """Whether a piece lies wholly beside a whole foot's footprint (every sensel further
        from its long axis than its half-width plus one pitch): another foot."""
        g = slot.geom
        if g["length"] < self.p.full_footprint_mm:
            return False
        if slot.grew:
            # Still loading (its footprint grew last frame): a piece beside its narrow heel-and-
            # forefoot outline is its own lateral midfoot coming down, not a foot landing beside
            # it (a foot lands beside a planted one, not one landing this very moment). Without
            # this a heel strike became two feet 50 ms apart (the "ghost step", issue 16).
            return False
        t = -(xs[piece] - g["mx"]) * g["uy"] + (ys[piece] - g["my"]) * g["ux"]
        limit = g["half_width"] + max(self.p.row_pitch_mm, self.p.col_pitch_mm) + SLACK
        return bool(np.abs(t).min() > limit)

    def _beyond_toes(self, slot, piece, xs, ys):
        """Whether a piece lies wholly beyond the toes of a foot (tandem: the next heel).

        Once a stance of this side has ended, its footprint length L is known and
        anything wholly beyond heel + L is not this foot. A footprint cut by the mat's
        rear edge has no heel on the mat: see ``_beyond_cut_toes``. During the first
        stance of a side: a whole footprint (``full_footprint_mm``) whose heel was off
        last frame and whose toes are in it.
        """
        g = slot.geom
        along = (xs[piece] - g["mx"]) * g["ux"] + (ys[piece] - g["my"]) * g["uy"]
        known = self.stance_length[slot.side] if slot.side is not None else 0.0
        if known > 0.0:
            if along.min() > g["heel_s"] + known + SLACK:
                return True
        elif (g["length"] >= self.p.full_footprint_mm and not slot.heel_loaded
              and along.min() > g["s_max"] + SLACK and self._toes_in_footprint(slot, xs, ys)):
            return True
        return bool(slot.footprint[:2].any()) and self._beyond_cut_toes(slot, piece)

    def _beyond_cut_toes(self, slot, piece):
        """Whether a piece lies wholly in front of a footprint cut by the mat's rear edge
        (its first or second row loaded: the heel may be off the mat, the unloaded arch
        over the edge) whose toes are in it and which did not grow last frame. Its heel end is the mat's edge, not the heel, and it may be only
        the toes: its length and its heel load say nothing. Measured along the mat's rows
        (the walking direction): the axis of a short toes print can lie crosswise. A foot
        landing with its heel on the edge still grows forward as it rolls onto the mat;
        a planted foot whose toes are in its footprint and has stopped growing has
        nothing left to land in front of it but the next foot."""
        fp = slot.footprint
        rows = np.flatnonzero(fp.any(axis=1))
        last = int(rows[-1])
        if slot.grew or int(piece.min()) // self.p.cols <= last:
            return False
        front = np.flatnonzero(fp[last - int(FRONT_BAND * (last + 1)):last + 1].any(axis=0))
        cols = np.flatnonzero(fp.any(axis=0))
        return bool(front[-1] - front[0] <= TOES_FRONT_RATIO * (cols[-1] - cols[0]) + SLACK)

    @staticmethod
    def _on_mat_edge(slot):
        """Whether a stance footprint touches an edge of the mat (it may be cut there)."""
        fp = slot.footprint
        return bool(fp[0].any() or fp[-1].any() or fp[:, 0].any() or fp[:, -1].any())

    def _toes_in_footprint(self, slot, xs, ys):
        """Whether the front of a stance footprint is toe tips, not the metatarsal heads:
        its front ``FRONT_BAND`` of the length at most ``TOES_FRONT_RATIO`` as wide as the
        whole footprint (widths across the long axis, sensel centres)."""
        g = slot.geom
        idx = np.flatnonzero(slot.footprint.ravel())
        x, y = xs[idx] - g["mx"], ys[idx] - g["my"]
        s = x * g["ux"] + y * g["uy"]
        t = -x * g["uy"] + y * g["ux"]
        front = s >= g["s_max"] - FRONT_BAND * g["length"] - SLACK
        width = float(t.max() - t.min())
        return bool(float(t[front].max() - t[front].min()) <= TOES_FRONT_RATIO * width + SLACK)

    def _gap(self, group, piece, xs, ys):
        """Edge gap (mm) between two sets of sensels: nearest centres less one pitch."""
        dx = xs[group][:, None] - xs[piece][None, :]
        dy = ys[group][:, None] - ys[piece][None, :]
        nearest = math.sqrt(float((dx * dx + dy * dy).min()))
        return nearest - max(self.p.row_pitch_mm, self.p.col_pitch_mm)

    def _fits(self, group, piece, xs, ys):
        """Whether sensels ``group`` and ``piece`` together fit one foot: no longer than
        ``max_foot_length_mm`` along their common long axis, no wider than
        ``max_foot_width_mm`` across it (sensel extents included)."""
        p_ = self.p
        both = np.concatenate([group, piece])
        x, y = xs[both], ys[both]
        mx, my, ux, uy = principal_axis(float(x.sum()), float(y.sum()), float((x * x).sum()),
                                        float((y * y).sum()), float((x * y).sum()), both.size)
        s = (x - mx) * ux + (y - my) * uy
        t = -(x - mx) * uy + (y - my) * ux
        length = float(s.max() - s.min()) + abs(ux) * p_.col_pitch_mm + abs(uy) * p_.row_pitch_mm
        width = float(t.max() - t.min()) + abs(uy) * p_.col_pitch_mm + abs(ux) * p_.row_pitch_mm
        return length <= p_.max_foot_length_mm + SLACK and width <= p_.max_foot_width_mm + SLACK

    # -- step 6 ---------------------------------------------------------------------------
    def _geometry(self, idx, xs, ys):
        """Long axis, extents and heel/toe points of a set of sensels (a footprint)."""
        x, y = xs[idx], ys[idx]
        mx, my, ux, uy = principal_axis(float(x.sum()), float(y.sum()), float((x * x).sum()),
                                        float((y * y).sum()), float((x * y).sum()), idx.size)
        s = (x - mx) * ux + (y - my) * uy
        t = -(x - mx) * uy + (y - my) * ux
        s_min, s_max = float(s.min()), float(s.max())
        # The sensel's own extent along the axis, so one sensel is one pitch long.
        extent = abs(ux) * self.p.col_pitch_mm + abs(uy) * self.p.row_pitch_mm
        heel_s = s_min - 0.5 * extent
        toe_s = s_max + 0.5 * extent
        return {
            "mx": mx, "my": my, "ux": ux, "uy": uy, "s_min": s_min, "s_max": s_max,
            "half_width": float(np.abs(t).max()), "extent": extent,
            "length": toe_s - heel_s, "heel_s": heel_s,
            "heel": (mx + heel_s * ux, my + heel_s * uy),
            "toe": (mx + toe_s * ux, my + toe_s * uy),
            "area": idx.size * self.area,
        }


    def _foot_result(self, slot, idx, pf, xs, ys, rr, cc, scale):
        g = slot.geom
        w = pf[idx]
        total = float(w.sum())
        x, y = xs[idx], ys[idx]
        regions = None
        length = g["length"]
        if slot.side is not None:
            length = max(length, self.foot_length[slot.side])
        if length >= self.p.min_region_length_mm:
            along = (x - g["mx"]) * g["ux"] + (y - g["my"]) * g["uy"] - g["heel_s"]
            rear = along < REGION_CUTS[0] * length + SLACK
            mid = ~rear & (along < REGION_CUTS[1] * length + SLACK)
            fore = ~rear & ~mid
            regions = (float(w[rear].sum()) * scale, float(w[mid].sum()) * scale,
                       float(w[fore].sum()) * scale)
        slot.heel_loaded = regions is None or regions[0] > HEEL_OFF_SHARE * total * scale
        r, c = rr[idx], cc[idx]
        return FootResult(
            track_id=slot.track_id,
            side=slot.side,
            force_n=total * scale,
            cop_mm=(float((w * x).sum() / total), float((w * y).sum() / total)),
            contact_area_mm2=idx.size * self.area,
            peak_kpa=float(w.max()),
            regions_n=regions,
            axis_deg=math.degrees(math.atan2(g["uy"], g["ux"])),
            length_mm=g["length"],
            heel_mm=g["heel"],
            toe_mm=g["toe"],
            bbox_rc=(int(r.min()), int(c.min()), int(r.max()), int(c.max())),
            footprint_area_mm2=g["area"],
            frames=slot.frames,
        )

    # -- step 7 ---------------------------------------------------------------------------
    def _arch_side(self, slot, xs, ys):
        """LEFT/RIGHT from where the midfoot sensels of the stance footprint lie, or None."""
        p_ = self.p
        g = slot.geom
        if g["length"] < p_.full_footprint_mm:
            return None
        fp = np.flatnonzero(slot.footprint.ravel())
        x, y = xs[fp] - g["mx"], ys[fp] - g["my"]
        along = x * g["ux"] + y * g["uy"] - g["heel_s"]
        mid = ((along >= REGION_CUTS[0] * g["length"] + SLACK)
               & (along < REGION_CUTS[1] * g["length"] + SLACK))
        if not mid.any():
            return None
        right = x[mid] * g["uy"] - y[mid] * g["ux"]  # mm to the right of the long axis
        offset = float(right.sum()) / int(mid.sum())
        if offset <= -p_.arch_offset_mm + SLACK:
            return LEFT
        if offset >= p_.arch_offset_mm - SLACK:
            return RIGHT
        return None

    def _decide_sides(self, live, xs, ys):
        p_ = self.p
        if len(live) == 2:
            a, b = (self.slots[s] for s in live)
            ax, bx = a.geom["mx"], b.geom["mx"]
            if a.side is None and b.side is not None:
                a.side = _other(b.side)
            elif b.side is None and a.side is not None:
                b.side = _other(a.side)
            elif a.side is None and b.side is None and abs(ax - bx) >= p_.side_min_dx_mm - SLACK:
                a.side, b.side = (LEFT, RIGHT) if ax < bx else (RIGHT, LEFT)
        elif len(live) == 1:
            a = self.slots[live[0]]
            lx, rx = self.last_x[LEFT], self.last_x[RIGHT]
            if (a.side is None and lx is not None and rx is not None
                    and abs(lx - rx) >= p_.side_min_dx_mm - SLACK):
                ax = a.geom["mx"]
                a.side = LEFT if abs(ax - lx) <= abs(ax - rx) + SLACK else RIGHT
        # Anatomy: the loaded band of the midfoot lies on the lateral side of the foot.
        for s in live:
            slot = self.slots[s]
            if slot.side is None:
                side = self._arch_side(slot, xs, ys)
                if side is not None and all(self.slots[o].side != side for o in live if o != s):
                    slot.side = side
        if len(live) == 2:
            a, b = (self.slots[s] for s in live)
            if a.side is None and b.side is not None:
                a.side = _other(b.side)
            elif b.side is None and a.side is not None:
                b.side = _other(a.side)
        for s in live:
            slot = self.slots[s]
            if slot.side is not None:
                self.last_x[slot.side] = slot.geom["mx"]
                self.foot_length[slot.side] = max(self.foot_length[slot.side], slot.geom["length"])


def _other(side):
    return RIGHT if side == LEFT else LEFT


class InsoleKernel:
    """Reference insole analysis; use :class:`kernels.insole.InsoleAnalyzer`.

    force = sum(p_i * a_i) * 1e-3 N over sensors at or above the threshold;
    COP = sum(p_i a_i x_i) / sum(p_i a_i); region loads likewise per region.
    """

    def __init__(self, geometry):
        self.g = geometry

    def analyze(self, frame):
        g = self.g
        check_insole_frame(frame, g.n)
        p = frame.astype(np.float64)
        invalid = ~np.isfinite(p)
        negative = ~invalid & (p < 0)
        p[invalid | negative] = 0.0
        peak = float(p.max())
        p[p < g.threshold_kpa] = 0.0
        load = p * g.area_mm2  # kPa * mm^2 = mN
        total = float(load.sum())
        force = total * 1e-3
        cop = None
        if force >= g.min_force_n and total > 0:
            cop = (float((load * g.x_mm).sum() / total), float((load * g.y_mm).sum() / total))
        regions = tuple(float(load[g.region == k].sum()) * 1e-3 for k in range(3))
        return InsoleResult(force, cop, regions, peak, int(invalid.sum()), int(negative.sum()))
