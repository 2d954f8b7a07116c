# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# step 4 Pieces to feet (kernels/reference.py step 5): pieces over last frame's feet stay
# with them if they still fit one foot; free pieces join a nearby foot they fit with
# (unless step 5, _frame_tandem.pxi, says they are the next foot or the other foot), the
# rest are grouped by single linkage into new feet, largest first.

from libc.math cimport INFINITY, fabs, sqrt


cdef inline int _was(FrameKernel st, int j) noexcept nogil:
    if st.pov0[j] > 0:
        return 0
    if st.pov1[j] > 0:
        return 1
    return -1


cdef inline int _overlap(FrameKernel st, int j) noexcept nogil:
    return st.pov0[j] if st.pov0[j] > st.pov1[j] else st.pov1[j]


cdef void _assign(FrameKernel st, int n_pieces) noexcept nogil:
    """Step 5 (see reference._assign)."""
    cdef int o, j, s, ng, np_, inside, target
    cdef int main[SLOTS]
    cdef double gap, best
    for s in range(SLOTS):
        main[s] = -1
        st.new_track[s] = False
    for o in range(n_pieces):
        j = st.keys[o].id
        st.owner[j] = -1
        st.released[j] = -1
    for o in range(n_pieces):
        j = st.keys[o].id
        s = _was(st, j)
        if s >= 0 and (main[s] < 0 or _overlap(st, j) > _overlap(st, main[s])):
            main[s] = j
    for s in range(SLOTS):
        if main[s] >= 0:
            st.owner[main[s]] = s
    for o in range(n_pieces):
        j = st.keys[o].id
        s = _was(st, j)
        if s < 0 or st.owner[j] >= 0:
            continue
        inside = st.pin0[j] if s == 0 else st.pin1[j]
        if inside == st.pn[j]:
            st.owner[j] = s
            continue
        ng = _gather_group(st, s, True)
        np_ = _gather_piece(st, j)
        if _fits(st, ng, np_):
            st.owner[j] = s
        else:
            st.released[j] = s
    # free pieces, 1: join the nearest foot seen before that they lie near and fit with
    for o in range(n_pieces):
        j = st.keys[o].id
        if st.owner[j] >= 0:
            continue
        target = -1
        best = INFINITY
        np_ = -1
        for s in range(SLOTS):
            if main[s] < 0:
                continue
            if np_ < 0:
                np_ = _gather_piece(st, j)
            if _beyond_toes(st, s, np_) or _beside(st, s, np_):
                continue
            ng = _gather_group(st, s, True)
            gap = _gap(st, ng, np_)
            if gap <= st.fragment_gap + SLACK and gap < best and _fits(st, ng, np_):
                target = s
                best = gap
        if target >= 0:
            st.owner[j] = target
    # 2-3: the rest gather into new feet
    _new_feet(st, n_pieces, main)
    for o in range(n_pieces):
        j = st.keys[o].id
        if st.owner[j] < 0 and st.released[j] >= 0:
            st.owner[j] = st.released[j]


cdef void _new_feet(FrameKernel st, int n_pieces, int* main) noexcept nogil:
    """Single-linkage grouping of free pieces, then new feet, largest group first
    (see reference._assign / _cluster)."""
    cdef int free[MAXC]
    cdef int cid[MAXC]
    cdef int poff[MAXC + 1]
    cdef double pgap[MAXC][MAXC]
    cdef double cgap[MAXC][MAXC]
    cdef bint tried[MAXC][MAXC]
    cdef int nf = 0, o, j, a, b, ca, cb, n, best_a, best_b, s, fs, total_n, len_a, len_b
    cdef double g, best_g, total_f
    cdef bint merged, released
    for o in range(n_pieces):
        j = st.keys[o].id
        if st.owner[j] < 0 and nf < MAXC:
            free[nf] = j
            nf += 1
    if nf == 0:
        return
    # each free piece's sensels, contiguous in plist (raster order within a piece)
    n = 0
    for a in range(nf):
        poff[a] = n
        n += _gather_piece_into(st, free[a], &st.plist[n])
        cid[a] = a
    poff[nf] = n
    for a in range(nf):
        for b in range(a + 1, nf):
            pgap[a][b] = _gap_lists(st, &st.plist[poff[a]], poff[a + 1] - poff[a],
                                         &st.plist[poff[b]], poff[b + 1] - poff[b])
    while True:
        # gaps between clusters, each labelled by its first member
        for a in range(nf):
            for b in range(nf):
                cgap[a][b] = INFINITY
                tried[a][b] = False
        for a in range(nf):
            for b in range(a + 1, nf):
                ca = cid[a]
                cb = cid[b]
                if ca == cb:
                    continue
                if ca > cb:
                    ca, cb = cb, ca
                if pgap[a][b] < cgap[ca][cb]:
                    cgap[ca][cb] = pgap[a][b]
        # try pairs in (gap, first cluster, second cluster) order; merge the first that fits
        merged = False
        while True:
            best_g = INFINITY
            best_a = -1
            best_b = -1
            for ca in range(nf):
                if cid[ca] != ca:
                    continue
                for cb in range(ca + 1, nf):
                    if cid[cb] != cb or tried[ca][cb]:
                        continue
                    g = cgap[ca][cb]
                    if g > st.fragment_gap + SLACK:
                        continue
                    if best_a < 0 or g < best_g:
                        best_g = g
                        best_a = ca
                        best_b = cb
            if best_a < 0:
                break
            len_a = _gather_cluster(st, cid, nf, best_a, poff, st.gbuf)
            len_b = _gather_cluster(st, cid, nf, best_b, poff, st.pbuf)
            if _fits(st, len_a, len_b):
                for a in range(nf):
                    if cid[a] == best_b:
                        cid[a] = best_a
                merged = True
                break
            tried[best_a][best_b] = True
        if not merged:
            break
    # new feet: largest cluster first (sensels, then force, then first member)
    while True:
        best_a = -1
        best_g = 0.0
        total_n = 0
        for ca in range(nf):
            if cid[ca] != ca or st.owner[free[ca]] != -1:
                continue
            n = 0
            total_f = 0.0
            for a in range(nf):
                if cid[a] == ca:
                    n += st.pn[free[a]]
                    total_f += st.pforce[free[a]]
            if best_a < 0 or n > total_n or (n == total_n and total_f > best_g):
                best_a = ca
                total_n = n
                best_g = total_f
        if best_a < 0:
            break
        released = False
        for a in range(nf):
            if cid[a] == best_a and st.released[free[a]] >= 0:
                released = True
        fs = -1
        for s in range(SLOTS):
            if main[s] < 0:
                fs = s
                break
        if fs >= 0 and (best_g * st.area * 1e-3 >= st.min_foot_force or released):
            main[fs] = free[best_a]
            st.new_track[fs] = True
            for a in range(nf):
                if cid[a] == best_a:
                    st.owner[free[a]] = fs
        else:
            for a in range(nf):
                if cid[a] == best_a:
                    st.owner[free[a]] = -2  # considered: stays free
    for a in range(nf):
        if st.owner[free[a]] == -2:
            st.owner[free[a]] = -1


cdef int _gather_piece(FrameKernel st, int j) noexcept nogil:
    """Flat indices of piece j into pbuf (raster order); returns the count."""
    cdef int k, n = 0
    _lists(st)
    for k in range(st.n_act):
        if st.pid[k] == j:
            st.pbuf[n] = st.act[k]
            n += 1
    return n


cdef int _gather_piece_into(FrameKernel st, int j, int* out) noexcept nogil:
    cdef int k, n = 0
    _lists(st)
    for k in range(st.n_act):
        if st.pid[k] == j:
            out[n] = st.act[k]
            n += 1
    return n


cdef int _gather_group(FrameKernel st, int s, bint footprint) noexcept nogil:
    """Flat indices (raster order) into gbuf of slot s's stance footprint, or of the
    pieces it owns so far in this frame; returns the count."""
    cdef int k, r, c, n = 0
    cdef Slot* sl = &st.slots[s]
    cdef unsigned char* mask = &st.fp[s * st.N]
    if footprint:
        for r in range(sl.ur0, sl.ur1 + 1):
            for c in range(sl.uc0, sl.uc1 + 1):
                if mask[r * st.C + c]:
                    st.gbuf[n] = r * st.C + c
                    n += 1
    else:
        _lists(st)
        for k in range(st.n_act):
            if st.owner[st.pid[k]] == s:
                st.gbuf[n] = st.act[k]
                n += 1
    return n


cdef int _gather_cluster(FrameKernel st, int* cid, int nf, int c, int* poff, int* out) noexcept nogil:
    cdef int a, k, n = 0
    for a in range(nf):
        if cid[a] != c:
            continue
        for k in range(poff[a], poff[a + 1]):
            out[n] = st.plist[k]
            n += 1
    return n


cdef bint _fits(FrameKernel st, int ng, int np_) noexcept nogil:
    """Whether gbuf[:ng] and pbuf[:np_] together fit one foot (see reference._fits)."""
    cdef int k, i, r, c, total = ng + np_
    cdef double x, y, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
    cdef double mx, my, ux, uy, sv, t, s_min = INFINITY, s_max = -INFINITY
    cdef double t_min = INFINITY, t_max = -INFINITY, length, width
    for k in range(total):
        i = st.gbuf[k] if k < ng else st.pbuf[k - ng]
        r = i // st.C
        c = i - r * st.C
        x = st.xs[c]
        y = st.ys[r]
        sx += x
        sy += y
        sxx += x * x
        syy += y * y
        sxy += x * y
    principal_axis(sx, sy, sxx, syy, sxy, <double>total, &mx, &my, &ux, &uy)
    for k in range(total):
        i = st.gbuf[k] if k < ng else st.pbuf[k - ng]
        r = i // st.C
        c = i - r * st.C
        x = st.xs[c] - mx
        y = st.ys[r] - my
        sv = x * ux + y * uy
        t = -x * uy + y * ux
        if sv < s_min:
            s_min = sv
        if sv > s_max:
            s_max = sv
        if t < t_min:
            t_min = t
        if t > t_max:
            t_max = t
    length = (s_max - s_min) + fabs(ux) * st.px + fabs(uy) * st.py
    width = (t_max - t_min) + fabs(uy) * st.px + fabs(ux) * st.py
    return length <= st.max_len + SLACK and width <= st.max_wid + SLACK


cdef double _gap(FrameKernel st, int ng, int np_) noexcept nogil:
    """Edge gap (mm) between gbuf[:ng] and pbuf[:np_]: nearest centres less one pitch."""
    return _gap_lists(st, st.gbuf, ng, st.pbuf, np_)


cdef double _gap_lists(FrameKernel st, int* la, int na, int* lb, int nb) noexcept nogil:
    cdef int a, b, ia, ib, ra, rb
    cdef double dx, dy, d2, best = INFINITY, xa, ya
    for a in range(na):
        ia = la[a]
        ra = ia // st.C
        xa = st.xs[ia - ra * st.C]
        ya = st.ys[ra]
        for b in range(nb):
            ib = lb[b]
            rb = ib // st.C
            dx = xa - st.xs[ib - rb * st.C]
            dy = ya - st.ys[rb]
            d2 = dx * dx + dy * dy
            if d2 < best:
                best = d2
    return sqrt(best) - st.max_pitch
