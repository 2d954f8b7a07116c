# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# step 5 Tandem walking (part of kernels/reference.py step 5): whether a free piece lies
# wholly beyond the toes of a planted foot (the next foot's heel strike), with the
# heel-off and toes-in-footprint tests and the rule for a footprint at the mat's rear
# edge, or wholly beside a whole footprint (the other foot). Asked by step 4 (_frame_assign.pxi) before a piece may join a foot.

from libc.math cimport INFINITY, fabs


cdef bint _beside(FrameKernel st, int s, int np_) noexcept nogil:
    """Whether pbuf[:np_] lies wholly beside slot s's whole footprint (see reference)."""
    cdef Geom* g = &st.slots[s].geom
    cdef int k, i, r, c
    cdef double t, t_min = INFINITY
    if g.length < st.full_footprint:
        return False
    if st.slots[s].grew:  # still loading: its own lateral midfoot, not a foot beside it (see reference)
        return False
    for k in range(np_):
        i = st.pbuf[k]
        r = i // st.C
        c = i - r * st.C
        t = fabs(-(st.xs[c] - g.mx) * g.uy + (st.ys[r] - g.my) * g.ux)
        if t < t_min:
            t_min = t
    return t_min > g.half_width + st.max_pitch + SLACK


cdef bint _beyond_toes(FrameKernel st, int s, int np_) noexcept nogil:
    """Whether pbuf[:np_] lies wholly beyond the toes of slot s's foot (see reference)."""
    cdef Slot* sl = &st.slots[s]
    cdef Geom* g = &sl.geom
    cdef int k, i, r, c
    cdef double along, a_min = INFINITY, known = 0.0
    for k in range(np_):
        i = st.pbuf[k]
        r = i // st.C
        c = i - r * st.C
        along = (st.xs[c] - g.mx) * g.ux + (st.ys[r] - g.my) * g.uy
        if along < a_min:
            a_min = along
    if sl.side >= 0:
        known = st.stance_length[sl.side]
    if known > 0.0:
        if a_min > g.heel_s + known + SLACK:
            return True
    elif (g.length >= st.full_footprint and not sl.heel_loaded and a_min > g.s_max + SLACK
          and _toes_in_footprint(st, s)):
        return True
    return sl.ur0 <= 1 and _beyond_cut_toes(st, s, np_)


cdef bint _beyond_cut_toes(FrameKernel st, int s, int np_) noexcept nogil:
    """Whether pbuf[:np_] (raster order) lies wholly in front of slot s's footprint at the
    mat's rear edge, whose toes are in it and which did not grow last frame (see
    reference._beyond_cut_toes). Rows of the mask are read: the bounding box may be wider
    than the footprint after releases."""
    cdef Slot* sl = &st.slots[s]
    cdef unsigned char* mask = &st.fp[s * st.N]
    cdef int r, c, last = -1, band0, c_min, c_max, f_min, f_max
    cdef bint hit = False
    if sl.grew:
        return False
    for r in range(sl.ur0, 2):
        for c in range(sl.uc0, sl.uc1 + 1):
            if mask[r * st.C + c]:
                hit = True
                break
    if not hit:
        return False
    r = sl.ur1
    while last < 0:
        for c in range(sl.uc0, sl.uc1 + 1):
            if mask[r * st.C + c]:
                last = r
                break
        r -= 1
    if st.pbuf[0] // st.C <= last:
        return False
    band0 = last - <int>(FRONT_BAND * (last + 1))
    c_min = st.C
    c_max = -1
    f_min = st.C
    f_max = -1
    for r in range(sl.ur0, last + 1):
        for c in range(sl.uc0, sl.uc1 + 1):
            if not mask[r * st.C + c]:
                continue
            if c < c_min:
                c_min = c
            if c > c_max:
                c_max = c
            if r >= band0:
                if c < f_min:
                    f_min = c
                if c > f_max:
                    f_max = c
    return f_max - f_min <= TOES_FRONT_RATIO * (c_max - c_min) + SLACK


cdef bint _toes_in_footprint(FrameKernel st, int s) noexcept nogil:
    """Whether the front of slot s's stance footprint is toe tips, not the metatarsal
    heads (see reference._toes_in_footprint)."""
    cdef Slot* sl = &st.slots[s]
    cdef Geom* g = &sl.geom
    cdef unsigned char* mask = &st.fp[s * st.N]
    cdef int r, c
    cdef double x, y, sv, t, lim = g.s_max - FRONT_BAND * g.length - SLACK
    cdef double t_min = INFINITY, t_max = -INFINITY, f_min = INFINITY, f_max = -INFINITY
    for r in range(sl.ur0, sl.ur1 + 1):
        for c in range(sl.uc0, sl.uc1 + 1):
            if not mask[r * st.C + c]:
                continue
            x = st.xs[c] - g.mx
            y = st.ys[r] - g.my
            sv = x * g.ux + y * g.uy
            t = -x * g.uy + y * g.ux
            if t < t_min:
                t_min = t
            if t > t_max:
                t_max = t
            if sv >= lim:
                if t < f_min:
                    f_min = t
                if t > f_max:
                    f_max = t
    return f_max - f_min <= TOES_FRONT_RATIO * (t_max - t_min) + SLACK
