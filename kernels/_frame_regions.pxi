# Per-frame analysis, compiled: docs/frame-analysis.md, "Regions" and the per-foot
# fields of "What you get per mat frame" (kernels/reference.py step 6, per foot): each
# foot's force, COP, area, peak, bounding box and rearfoot / midfoot / forefoot loads,
# as FootResult objects ordered left, right, unknown; remembers whether the heel is
# still loaded (step 5 asks it in the next frame).


from kernels.results import LEFT, RIGHT

cdef object _LEFT = LEFT  # C-level references: no module dict lookup per foot
cdef object _RIGHT = RIGHT


cdef tuple _feet(FrameKernel st):
    """Per-foot sums and result objects, ordered left, right, unknown (by COP x)."""
    cdef int k, i, j, s, r, c, n_live = 0
    cdef double v, x, y, along, length
    cdef CFootResult foot, first = None
    cdef double force[SLOTS]
    cdef double sx[SLOTS]
    cdef double sy[SLOTS]
    cdef double pk[SLOTS]
    cdef double reg[SLOTS][3]
    cdef double cut0[SLOTS]
    cdef double cut1[SLOTS]
    cdef bint has_regions[SLOTS]
    cdef int n[SLOTS]
    cdef int r0[SLOTS]
    cdef int r1[SLOTS]
    cdef int c0[SLOTS]
    cdef int c1[SLOTS]
    cdef Slot* sl
    cdef Geom* g
    for s in range(SLOTS):
        sl = &st.slots[s]
        force[s] = 0.0
        sx[s] = 0.0
        sy[s] = 0.0
        pk[s] = 0.0
        reg[s][0] = 0.0
        reg[s][1] = 0.0
        reg[s][2] = 0.0
        n[s] = 0
        r0[s] = st.R
        r1[s] = -1
        c0[s] = st.C
        c1[s] = -1
        length = sl.geom.length
        if sl.side >= 0 and st.foot_length[sl.side] > length:
            length = st.foot_length[sl.side]
        has_regions[s] = sl.live and length >= st.min_region_len
        cut0[s] = REGION_0 * length + SLACK
        cut1[s] = REGION_1 * length + SLACK
        if sl.live:
            n_live += 1
    if n_live == 0:
        return ()
    if not st.split:
        _sums_runs(st, has_regions, cut0, cut1, force, sx, sy, pk, n, r0, r1, c0, c1, reg)
    else:
        for s in range(SLOTS):
            if st.slots[s].live:
                _sums(st, s, has_regions[s], cut0[s], cut1[s], &force[s], &sx[s], &sy[s],
                           &pk[s], &n[s], &r0[s], &r1[s], &c0[s], &c1[s], reg[s])
    for s in range(SLOTS):
        sl = &st.slots[s]
        if not sl.live:
            continue
        g = &sl.geom
        sl.heel_loaded = not has_regions[s] or reg[s][0] > HEEL_OFF_SHARE * force[s]
        foot = CFootResult.__new__(CFootResult)
        foot.track_id = sl.track_id
        foot.side = None if sl.side < 0 else (_LEFT if sl.side == 0 else _RIGHT)
        foot.force_n = force[s] * st.scale
        foot.cx = sx[s] / force[s]
        foot.cy = sy[s] / force[s]
        foot.contact_area_mm2 = n[s] * st.area
        foot.peak_kpa = pk[s]
        foot.has_regions = has_regions[s]
        foot.rear = reg[s][0] * st.scale
        foot.mid = reg[s][1] * st.scale
        foot.fore = reg[s][2] * st.scale
        foot.axis_deg = g.axis_deg
        foot.length_mm = g.length
        foot.hx = g.heel_x
        foot.hy = g.heel_y
        foot.tx = g.toe_x
        foot.ty = g.toe_y
        foot.b0 = r0[s]
        foot.b1 = c0[s]
        foot.b2 = r1[s]
        foot.b3 = c1[s]
        foot.footprint_area_mm2 = g.area
        foot.frames = sl.frames
        if first is None:
            first = foot
        elif _second_first(st, force, sx):
            return (foot, first)
        else:
            return (first, foot)
    return (first,)


cdef bint _second_first(FrameKernel st, double* force, double* sx):
    """Whether slot 1's foot sorts before slot 0's: left, right, unknown; then COP x."""
    cdef int rank0 = st.slots[0].side if st.slots[0].side >= 0 else 2
    cdef int rank1 = st.slots[1].side if st.slots[1].side >= 0 else 2
    cdef double x0 = sx[0] / force[0], x1 = sx[1] / force[1]
    if rank0 != rank1:
        return rank1 < rank0
    if fabs(x0 - x1) > 1e-9:  # closer is rounding (the reference sums in another order): SAME_X_MM
        return x1 < x0
    return st.slots[1].track_id < st.slots[0].track_id


cdef void _sums_runs(FrameKernel st, bint* regions, double* cut0, double* cut1, double* force,
                     double* sx, double* sy, double* pk, int* n, int* r0, int* r1, int* c0,
                     int* c1, double (*reg)[3]) noexcept nogil:
    """What _sums gives, for both slots in one pass over the runs (when no blob was
    split, each run lies in one piece, so in one foot). Force and COP sums come from
    the runs' sums; only the region split visits the sensels."""
    cdef int q, s, r, c, a, b, i, first, last
    cdef double v, y, dy, along, rear, mid, fore, k0, k1
    cdef Geom* g
    for q in range(st.n_runs):
        s = st.owner[st.run_pid[q]]
        if s < 0:
            continue
        r = st.run_r[q]
        a = st.run_c0[q]
        b = st.run_c1[q]
        y = st.ys[r]
        force[s] += st.run_f[q]
        sx[s] += st.run_sx[q]
        sy[s] += st.run_f[q] * y
        n[s] += b - a
        if st.run_pk[q] > pk[s]:
            pk[s] = st.run_pk[q]
        if r < r0[s]:
            r0[s] = r
        r1[s] = r  # raster order
        if a < c0[s]:
            c0[s] = a
        if b - 1 > c1[s]:
            c1[s] = b - 1
        if regions[s]:
            g = &st.slots[s].geom
            dy = (y - g.my) * g.uy
            k0 = cut0[s]
            k1 = cut1[s]
            # along (the reference's expression, rounding included) is monotonic in
            # the column: every rounded step of it is. So a run whose two ends lie in
            # one region lies wholly in it, and most runs do.
            along = (st.xs[a] - g.mx) * g.ux + dy - g.heel_s
            first = 0 if along < k0 else (1 if along < k1 else 2)
            along = (st.xs[b - 1] - g.mx) * g.ux + dy - g.heel_s
            last = 0 if along < k0 else (1 if along < k1 else 2)
            if first == last:
                reg[s][first] += st.run_f[q]
                continue
            rear = 0.0
            mid = 0.0
            fore = 0.0
            i = r * st.C
            for c in range(a, b):
                v = st.fr[i + c]
                along = (st.xs[c] - g.mx) * g.ux + dy - g.heel_s
                if along < k0:
                    rear += v
                elif along < k1:
                    mid += v
                else:
                    fore += v
            reg[s][0] += rear
            reg[s][1] += mid
            reg[s][2] += fore


cdef void _sums(FrameKernel st, int s, bint regions, double cut0, double cut1, double* force,
                double* sx, double* sy, double* pk, int* n, int* r0, int* r1, int* c0,
                int* c1, double* reg) noexcept nogil:
    """Force, COP sums, peak, area, bounding box and region loads of slot s's sensels
    (one pass, accumulating in locals)."""
    cdef Geom* g = &st.slots[s].geom
    cdef int k, i, r, c, cnt = 0, rmin = st.R, rmax = -1, cmin = st.C, cmax = -1
    cdef double v, x, y, along, f = 0.0, ax = 0.0, ay = 0.0, peak = 0.0
    cdef double rear = 0.0, mid = 0.0, fore = 0.0
    cdef double mx = g.mx, my = g.my, ux = g.ux, uy = g.uy, heel = g.heel_s
    for k in range(st.n_act):
        i = st.act[k]
        if st.prev_slot[i] != s:
            continue
        r = st.ar[k]
        c = st.ac[k]
        x = st.xs[c]
        y = st.ys[r]
        v = st.fr[i]
        f += v
        ax += v * x
        ay += v * y
        cnt += 1
        if v > peak:
            peak = v
        if r < rmin:
            rmin = r
        if r > rmax:
            rmax = r
        if c < cmin:
            cmin = c
        if c > cmax:
            cmax = c
        if regions:
            along = (x - mx) * ux + (y - my) * uy - heel
            if along < cut0:
                rear += v
            elif along < cut1:
                mid += v
            else:
                fore += v
    force[0] = f
    sx[0] = ax
    sy[0] = ay
    pk[0] = peak
    n[0] = cnt
    r0[0] = rmin
    r1[0] = rmax
    c0[0] = cmin
    c1[0] = cmax
    reg[0] = rear
    reg[1] = mid
    reg[2] = fore
