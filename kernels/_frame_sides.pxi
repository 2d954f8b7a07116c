# Per-frame analysis, compiled: docs/frame-analysis.md, "Sides" (kernels/reference.py
# step 7): the other foot's side, left for the smaller x, the nearer remembered position,
# then the foot's anatomy (the loaded band of the midfoot lies lateral).

from libc.math cimport fabs


cdef void _decide_sides(FrameKernel st) noexcept nogil:
    """Step 7 (see reference._decide_sides)."""
    cdef Slot* a
    cdef Slot* b
    cdef int s, n_live = 0, only = -1, side
    cdef double ax, bx, lx, rx
    for s in range(SLOTS):
        if st.slots[s].live:
            n_live += 1
            only = s
    if n_live == 2:
        a = &st.slots[0]
        b = &st.slots[1]
        ax = a.geom.mx
        bx = b.geom.mx
        if a.side < 0 and b.side >= 0:
            a.side = 1 - b.side
        elif b.side < 0 and a.side >= 0:
            b.side = 1 - a.side
        elif a.side < 0 and b.side < 0 and fabs(ax - bx) >= st.side_min_dx - SLACK:
            if ax < bx:
                a.side = 0
                b.side = 1
            else:
                a.side = 1
                b.side = 0
    elif n_live == 1:
        a = &st.slots[only]
        lx = st.last_x[0]
        rx = st.last_x[1]
        if (a.side < 0 and st.has_last_x[0] and st.has_last_x[1]
                and fabs(lx - rx) >= st.side_min_dx - SLACK):
            ax = a.geom.mx
            a.side = 0 if fabs(ax - lx) <= fabs(ax - rx) + SLACK else 1
    # anatomy: the loaded band of the midfoot lies lateral
    for s in range(SLOTS):
        a = &st.slots[s]
        if a.live and a.side < 0:
            side = _arch_side(st, s)
            if side >= 0 and not (st.slots[1 - s].live and st.slots[1 - s].side == side):
                a.side = side
    if n_live == 2:
        a = &st.slots[0]
        b = &st.slots[1]
        if a.side < 0 and b.side >= 0:
            a.side = 1 - b.side
        elif b.side < 0 and a.side >= 0:
            b.side = 1 - a.side
    for s in range(SLOTS):
        a = &st.slots[s]
        if a.live and a.side >= 0:
            st.last_x[a.side] = a.geom.mx
            st.has_last_x[a.side] = True
            if a.geom.length > st.foot_length[a.side]:
                st.foot_length[a.side] = a.geom.length


cdef int _arch_side(FrameKernel st, int s) noexcept nogil:
    """0 left / 1 right from where the midfoot sensels of the stance footprint lie, -1."""
    cdef Slot* sl = &st.slots[s]
    cdef Geom* g = &sl.geom
    cdef unsigned char* mask = &st.fp[s * st.N]
    cdef int r, c, n = 0
    cdef double x, y, along, right = 0.0, offset
    if g.length < st.full_footprint:
        return -1
    for r in range(sl.ur0, sl.ur1 + 1):
        for c in range(sl.uc0, sl.uc1 + 1):
            if not mask[r * st.C + c]:
                continue
            x = st.xs[c] - g.mx
            y = st.ys[r] - g.my
            along = x * g.ux + y * g.uy - g.heel_s
            if along >= REGION_0 * g.length + SLACK and along < REGION_1 * g.length + SLACK:
                right += x * g.uy - y * g.ux
                n += 1
    if n == 0:
        return -1
    offset = right / n
    if offset <= -st.arch_offset + SLACK:
        return 0
    if offset >= st.arch_offset - SLACK:
        return 1
    return -1
