# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# step 3 Two feet in one blob (kernels/reference.py step 4): a blob over both feet of the
# last frame is divided sensel by sensel, a blob longer or wider than one foot is cut at
# the valley of its row / column profile; then the pieces' statistics and their order
# (largest first) for step 4.

from libc.stdlib cimport qsort


cdef int _cmp_piece(const void* a, const void* b) noexcept nogil:
    # largest first: sensel count, then force, then number
    cdef const PieceKey* pa = <const PieceKey*>a
    cdef const PieceKey* pb = <const PieceKey*>b
    if pa.n != pb.n:
        return -1 if pa.n > pb.n else 1
    if pa.force != pb.force:
        return -1 if pa.force > pb.force else 1
    if pa.id != pb.id:
        return -1 if pa.id < pb.id else 1
    return 0


cdef inline double seg_dist2(double px, double py, double ax, double ay, double bx, double by) noexcept nogil:
    cdef double dx = bx - ax, dy = by - ay, den = dx * dx + dy * dy, t = 0.0, ex, ey
    if den > 0.0:
        t = ((px - ax) * dx + (py - ay) * dy) / den
        if t < 0.0:
            t = 0.0
        elif t > 1.0:
            t = 1.0
    ex = px - (ax + t * dx)
    ey = py - (ay + t * dy)
    return ex * ex + ey * ey


cdef int _split(FrameKernel st, int K) noexcept nogil:
    """Step 4: divide blobs holding two feet; returns the number of pieces."""
    cdef int j, n_pieces = K
    cdef bint both_live = st.slots[0].live and st.slots[1].live
    for j in range(K):
        if both_live and st.pov0[j] > 0 and st.pov1[j] > 0:  # pieces == blobs here
            _history_split(st, j, n_pieces)
            n_pieces += 1
        elif _valley_split(st, j, n_pieces, True) or _valley_split(st, j, n_pieces, False):
            n_pieces += 1
    return n_pieces


cdef void _history_split(FrameKernel st, int j, int new_id) noexcept nogil:
    cdef int k, i, r, c
    cdef signed char to, first_to = -1
    cdef double x, y, d0, d1
    cdef Geom* g0 = &st.slots[0].geom
    cdef Geom* g1 = &st.slots[1].geom
    _lists(st)
    for k in range(st.cfirst[j], st.n_act):
        if st.pid[k] != j:
            continue
        i = st.act[k]
        to = st.prev_slot[i]
        if to < 0:
            x = st.xs[st.ac[k]]
            y = st.ys[st.ar[k]]
            d0 = seg_dist2(x, y, g0.heel_x, g0.heel_y, g0.toe_x, g0.toe_y)
            d1 = seg_dist2(x, y, g1.heel_x, g1.heel_y, g1.toe_x, g1.toe_y)
            to = 1 if d1 < d0 - SLACK else 0
        if first_to < 0:
            first_to = to
        if to != first_to:
            st.pid[k] = new_id


cdef bint _valley_split(FrameKernel st, int j, int new_id, bint rows) noexcept nogil:
    cdef int lo, hi, nb, m, b, jj, k, i, coord, first_side, side
    cdef int best, left_peak = 0, right_peak = 0, smaller
    cdef double pitch, limit
    if rows:
        lo = st.cr0[j]
        hi = st.cr1[j]
        pitch = st.py
        limit = st.max_len
    else:
        lo = st.cc0[j]
        hi = st.cc1[j]
        pitch = st.px
        limit = st.max_wid
    nb = hi - lo + 1
    if nb * pitch <= limit or nb < 3:
        return False
    _lists(st)
    for b in range(nb):
        st.profile[b] = 0
    for k in range(st.cfirst[j], st.n_act):
        if st.pid[k] != j:
            continue
        coord = st.ar[k] if rows else st.ac[k]
        st.profile[coord - lo] += 1
    m = nb // 5
    jj = m
    best = st.profile[m]
    for b in range(m + 1, nb - m):
        if st.profile[b] < best:
            best = st.profile[b]
            jj = b
    for b in range(jj + 1):
        if st.profile[b] > left_peak:
            left_peak = st.profile[b]
    for b in range(jj, nb):
        if st.profile[b] > right_peak:
            right_peak = st.profile[b]
    smaller = left_peak if left_peak < right_peak else right_peak
    if not (best <= st.valley_ratio * smaller):
        return False
    first_side = -1
    for k in range(st.cfirst[j], st.n_act):
        if st.pid[k] != j:
            continue
        coord = st.ar[k] if rows else st.ac[k]
        side = 1 if coord - lo <= jj else 0
        if first_side < 0:
            first_side = side
        if side != first_side:
            st.pid[k] = new_id
    return True


cdef void _piece_stats(FrameKernel st, int K, int n_pieces) noexcept nogil:
    """Recompute the statistics if step 4 split anything; order the pieces."""
    cdef int j, k
    if n_pieces != K:
        for j in range(n_pieces):
            _zero_piece(st, j)
        for k in range(st.n_act):
            _add_to_piece(st, st.pid[k], k)
    for j in range(n_pieces):
        st.keys[j].n = st.pn[j]
        st.keys[j].force = st.pforce[j]
        st.keys[j].id = j
    qsort(st.keys, n_pieces, sizeof(PieceKey), _cmp_piece)
