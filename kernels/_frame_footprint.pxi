# Per-frame analysis, compiled: docs/frame-analysis.md, the stance footprint and
# track_id of each foot ("What you get per mat frame": every sensel the foot has loaded
# since its contact began; kernels/reference.py step 6): new contacts get a new track,
# stray force is summed, this frame's foot map is written, footprints grow (and lose
# sensels released to another foot), and each footprint's axis, heel, toe and length
# are recomputed when it changed.

from libc.math cimport INFINITY, M_PI, atan2, fabs
from libc.string cimport memset


cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    /* p[0:n] = v for the few bytes of a run: overlapping word stores, no loop and no
       memset call (which costs more than the stores for n ~ 4). */
    #if defined(__GNUC__) && !defined(__clang__)
    __attribute__((optimize("no-tree-loop-distribute-patterns")))
    #endif
    static void gk_fill_long(signed char* p, int n, uint64_t w) {
        for (int i = 0; i + 8 <= n; i += 8)
            memcpy(p + i, &w, 8);
        memcpy(p + n - 8, &w, 8);
    }
    static inline void gk_fill(signed char* p, int n, int v) {
        uint64_t w = 0x0101010101010101ULL * (uint8_t)v;
        if (n >= 8) {
            gk_fill_long(p, n, w);
        } else if (n >= 4) {
            uint32_t x = (uint32_t)w;
            memcpy(p, &x, 4);
            memcpy(p + n - 4, &x, 4);
        } else if (n > 0) {
            p[0] = (signed char)v;
            p[n >> 1] = (signed char)v;
            p[n - 1] = (signed char)v;
        }
    }
    """
    void gk_fill(signed char* p, int n, int v) noexcept nogil


cdef void _clear_slot(FrameKernel st, int s) noexcept nogil:
    cdef Slot* sl = &st.slots[s]
    sl.live = False
    sl.track_id = 0
    sl.side = -1
    sl.frames = 0
    sl.un = 0.0
    sl.usx = 0.0
    sl.usy = 0.0
    sl.usxx = 0.0
    sl.usyy = 0.0
    sl.usxy = 0.0
    sl.ur0 = st.R
    sl.ur1 = -1
    sl.uc0 = st.C
    sl.uc1 = -1
    sl.dirty = True
    sl.heel_loaded = True
    sl.grew = True
    memset(&st.fp[s * st.N], 0, st.N)


cdef inline void _release(FrameKernel st, int gone, int r, int c0, int c1) noexcept nogil:
    """Active sensels (r, c0..c1-1), taken for part of another foot: out of slot gone's
    stance footprint (a neighbour is not its footprint)."""
    cdef int c, i
    cdef double x, y = st.ys[r]
    cdef Slot* sl = &st.slots[gone]
    cdef unsigned char* mask = &st.fp[gone * st.N + r * st.C]
    for c in range(c0, c1):
        if not mask[c]:
            continue
        mask[c] = 0
        x = st.xs[c]
        sl.dirty = True
        sl.un -= 1.0
        sl.usx -= x
        sl.usy -= y
        sl.usxx -= x * x
        sl.usyy -= y * y
        sl.usxy -= x * y


cdef inline void _grow(FrameKernel st, int s, int r, int c0, int c1) noexcept nogil:
    """Active sensels (r, c0..c1-1) into slot s's stance footprint (moments, bounding box)."""
    cdef int c
    cdef double x, y = st.ys[r]
    cdef Slot* sl = &st.slots[s]
    cdef unsigned char* mask = &st.fp[s * st.N + r * st.C]
    for c in range(c0, c1):
        if mask[c]:
            continue  # the common case: already in the footprint
        mask[c] = 1
        x = st.xs[c]
        sl.dirty = True
        sl.grew = True
        sl.un += 1.0
        sl.usx += x
        sl.usy += y
        sl.usxx += x * x
        sl.usyy += y * y
        sl.usxy += x * y
        if r < sl.ur0:
            sl.ur0 = r
        if r > sl.ur1:
            sl.ur1 = r
        if c < sl.uc0:
            sl.uc0 = c
        if c > sl.uc1:
            sl.uc1 = c


cdef double _update_feet(FrameKernel st, int n_pieces) noexcept nogil:
    """Step 6: stray force, released sensels, tracks, stance footprints, foot map."""
    cdef int j, k, i, s, q, c0, c1, gone, n_foot = 0
    cdef double stray = 0.0
    cdef int count[SLOTS]
    cdef bint on_edge[SLOTS]
    cdef Slot* sl
    cdef signed char* prev = st.prev_slot
    for s in range(SLOTS):
        count[s] = 0
    for j in range(n_pieces):
        if st.owner[j] < 0:
            stray += st.pforce[j]
        else:
            count[st.owner[j]] += 1
    # A stance that ends here (a new contact in its slot, or no piece left) gives its side's
    # foot length, unless its footprint touches an edge of the mat (cut there: a foot partly
    # on the mat). As the footprint stood last frame, before releases; scanned only then.
    for s in range(SLOTS):
        sl = &st.slots[s]
        on_edge[s] = (sl.live and sl.side >= 0 and (st.new_track[s] or count[s] == 0)
                      and _on_mat_edge(st, s))
        count[s] = 0
        sl.grew = False
    # new contacts start afresh (remembering the length of a stance that ended)
    for s in range(SLOTS):
        sl = &st.slots[s]
        if st.new_track[s]:
            if (sl.live and sl.side >= 0 and not on_edge[s]
                    and sl.geom.length > st.stance_length[sl.side]):
                st.stance_length[sl.side] = sl.geom.length
            _clear_slot(st, s)
            sl.live = True
            sl.track_id = st.next_track_id
            st.next_track_id += 1
    # forget last frame's foot map
    for k in range(st.n_foot):
        gk_fill(&prev[st.foot_list[k]], st.foot_len[k], -1)
    # one pass: released sensels out of their old footprint, the new foot map, and
    # the stance footprints grown by this frame's sensels
    if st.split:
        # a blob was split: pieces are per sensel (foot-map runs of one sensel)
        for k in range(st.n_act):
            j = st.pid[k]
            s = st.owner[j]
            gone = st.released[j]
            if gone >= 0 and s != gone:
                _release(st, gone, st.ar[k], st.ac[k], st.ac[k] + 1)
            if s < 0:
                continue
            count[s] += 1
            i = st.act[k]
            prev[i] = s
            st.foot_list[n_foot] = i
            st.foot_len[n_foot] = 1
            n_foot += 1
            _grow(st, s, st.ar[k], st.ac[k], st.ac[k] + 1)
    else:
        # every run lies in one piece: memset the foot map run by run
        for q in range(st.n_runs):
            j = st.run_pid[q]
            s = st.owner[j]
            gone = st.released[j]
            c0 = st.run_c0[q]
            c1 = st.run_c1[q]
            k = st.run_k0[q]
            if gone >= 0 and s != gone:
                _release(st, gone, st.run_r[q], c0, c1)
            if s < 0:
                continue
            count[s] += c1 - c0
            i = st.run_r[q] * st.C + c0
            gk_fill(&prev[i], c1 - c0, s)
            st.foot_list[n_foot] = i
            st.foot_len[n_foot] = c1 - c0
            n_foot += 1
            _grow(st, s, st.run_r[q], c0, c1)
    st.n_foot = n_foot
    for s in range(SLOTS):
        sl = &st.slots[s]
        if count[s] == 0:
            if (sl.live and sl.side >= 0 and not on_edge[s]
                    and sl.geom.length > st.stance_length[sl.side]):
                st.stance_length[sl.side] = sl.geom.length  # this stance has ended
            if sl.live or sl.un != 0.0:
                _clear_slot(st, s)
        else:
            sl.frames += 1
    for s in range(SLOTS):
        if st.slots[s].live and st.slots[s].dirty:
            _slot_geom(st, s)
            st.slots[s].dirty = False
    return stray


cdef bint _on_mat_edge(FrameKernel st, int s) noexcept nogil:
    """Whether slot s's stance footprint touches an edge of the mat (reference._on_mat_edge).
    Exact: the bounding box may be wider than the footprint after releases, so the edge
    rows and columns are read."""
    cdef Slot* sl = &st.slots[s]
    cdef unsigned char* mask = &st.fp[s * st.N]
    cdef int r, c
    if sl.ur0 > sl.ur1:
        return False
    if sl.ur0 == 0 or sl.ur1 == st.R - 1:
        for c in range(sl.uc0, sl.uc1 + 1):
            if mask[c] or mask[(st.R - 1) * st.C + c]:
                return True
    if sl.uc0 == 0 or sl.uc1 == st.C - 1:
        for r in range(sl.ur0, sl.ur1 + 1):
            if mask[r * st.C] or mask[r * st.C + st.C - 1]:
                return True
    return False


cdef void _slot_geom(FrameKernel st, int s) noexcept nogil:
    """Geometry of a slot's stance footprint (moments kept incrementally)."""
    cdef Slot* sl = &st.slots[s]
    cdef Geom* g = &sl.geom
    cdef int r, c
    cdef unsigned char* mask = &st.fp[s * st.N]
    cdef double x, y, sv, t, s_min = INFINITY, s_max = -INFINITY, hw = 0.0
    principal_axis(sl.usx, sl.usy, sl.usxx, sl.usyy, sl.usxy, sl.un,
                   &g.mx, &g.my, &g.ux, &g.uy)
    for r in range(sl.ur0, sl.ur1 + 1):
        for c in range(sl.uc0, sl.uc1 + 1):
            if not mask[r * st.C + c]:
                continue
            x = st.xs[c] - g.mx
            y = st.ys[r] - g.my
            sv = x * g.ux + y * g.uy
            t = fabs(-x * g.uy + y * g.ux)
            if sv < s_min:
                s_min = sv
            if sv > s_max:
                s_max = sv
            if t > hw:
                hw = t
    _finish_geom(st, g, s_min, s_max, hw, sl.un)


cdef inline void _finish_geom(FrameKernel st, Geom* g, double s_min, double s_max, double hw, double n) noexcept nogil:
    g.s_min = s_min
    g.s_max = s_max
    g.half_width = hw
    g.extent = fabs(g.ux) * st.px + fabs(g.uy) * st.py
    g.heel_s = s_min - 0.5 * g.extent
    cdef double toe_s = s_max + 0.5 * g.extent
    g.length = toe_s - g.heel_s
    g.heel_x = g.mx + g.heel_s * g.ux
    g.heel_y = g.my + g.heel_s * g.uy
    g.toe_x = g.mx + toe_s * g.ux
    g.toe_y = g.my + toe_s * g.uy
    g.area = n * st.area
    g.axis_deg = atan2(g.uy, g.ux) * (180.0 / M_PI)
