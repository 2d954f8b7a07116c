# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A mat frame (kPa) to the live heat map's colour indices, compiled. The specification is
``ui.heat.indices_reference``: the same steps, in the same float32 arithmetic, in one pass with no
temporary arrays (the reference makes about twenty, each costing more than its arithmetic here).
"""


cdef class Kernel:
    cdef const Py_ssize_t[:, ::1] ri  # (4, out rows): the four input rows of each output row
    cdef const float[:, ::1] rw  # (4, out rows): their weights
    cdef const Py_ssize_t[:, ::1] ci  # (4, out cols)
    cdef const float[:, ::1] cw
    cdef const unsigned char[::1] table  # quantised load -> colour index
    cdef float[:, ::1] frame  # the frame, forward up, specks removed
    cdef unsigned char[:, ::1] loaded
    cdef float[:, ::1] tall  # the frame interpolated along its rows only
    cdef float floor, per_level, faint, faint_rows
    cdef unsigned char[::1] strong  # per frame row: any sensel not faint_rows
    cdef int levels
    cdef bint despeckle

    def __init__(self, ri, rw, ci, cw, table, float floor, float per_level, int levels, bint despeckle,
                 frame, loaded, tall, float faint, float faint_rows, strong):
        self.ri, self.rw, self.ci, self.cw, self.table = ri, rw, ci, cw, table
        self.floor, self.per_level, self.levels, self.despeckle = floor, per_level, levels, despeckle
        self.frame, self.loaded, self.tall = frame, loaded, tall
        # An output whose four inputs are all fainter than this is index 0 (the caller's bound: the
        # sum of the weights' magnitudes times it stays under the first coloured level): most of a
        # map is bare mat, and its outputs are set to 0 without being computed.
        self.faint = faint
        self.faint_rows, self.strong = faint_rows, strong  # the same for the rows' pass

    def run(self, const float[:, ::1] kpa, unsigned char[:, ::1] out):
        """``kpa`` (rows, cols), row 0 at the rear; ``out`` (out cols, out rows): x-major, as surfarray."""
        cdef Py_ssize_t R = self.frame.shape[0], C = self.frame.shape[1]
        cdef Py_ssize_t H = self.tall.shape[0], W = out.shape[0]
        cdef Py_ssize_t r, c, y, x, r0, r1, c0, c1, rr, cc, n
        cdef float v, q, w0, w1, w2, w3
        cdef Py_ssize_t i0, i1, i2, i3
        if kpa.shape[0] != R or kpa.shape[1] != C or out.shape[1] != H or self.ci.shape[1] != W:
            raise ValueError("frame or output shape does not fit the heat map kernel")
        # raw pointers: the compiler cannot hoist memoryview fields of self out of the loops
        cdef const float* src = &kpa[0, 0]
        cdef float* f = &self.frame[0, 0]
        cdef unsigned char* lo = &self.loaded[0, 0]
        cdef float* tall = &self.tall[0, 0]
        cdef unsigned char* o = &out[0, 0]
        cdef const Py_ssize_t* ri = &self.ri[0, 0]
        cdef const float* rw = &self.rw[0, 0]
        cdef const Py_ssize_t* ci = &self.ci[0, 0]
        cdef const float* cw = &self.cw[0, 0]
        cdef const unsigned char* table = &self.table[0]
        cdef float floor = self.floor, per_level = self.per_level, top = <float>self.levels
        cdef float* t
        cdef float zero = 0.0, half = 0.5, faint = self.faint, faint_rows = self.faint_rows
        cdef Py_ssize_t first, last
        cdef unsigned char* strong = &self.strong[0]
        cdef unsigned char bare = self.table[0]
        with nogil:
            for r in range(R):  # forward up: row 0 (the rear) at the bottom
                for c in range(C):
                    v = src[(R - 1 - r) * C + c]
                    f[r * C + c] = v
                    lo[r * C + c] = v >= floor
            if self.despeckle:  # a loaded sensel with no loaded neighbour is left out
                for r in range(R):
                    r0 = r - 1 if r > 0 else 0
                    r1 = r + 1 if r < R - 1 else R - 1
                    for c in range(C):
                        if not lo[r * C + c]:
                            continue
                        c0 = c - 1 if c > 0 else 0
                        c1 = c + 1 if c < C - 1 else C - 1
                        n = 0
                        for rr in range(r0, r1 + 1):
                            for cc in range(c0, c1 + 1):
                                n += lo[rr * C + cc]
                        if n == 1:  # itself only
                            f[r * C + c] = zero
            for r in range(R):
                strong[r] = 0
                for c in range(C):
                    if f[r * C + c] >= faint_rows or f[r * C + c] <= -faint_rows:
                        strong[r] = 1
                        break
            for y in range(H):
                t = tall + y * C
                if not (strong[ri[y]] or strong[ri[H + y]] or strong[ri[2 * H + y]] or strong[ri[3 * H + y]]):
                    for x in range(W):  # four faint rows: every output of this row is bare mat
                        o[x * H + y] = bare
                    continue
                i0, i1, i2, i3 = ri[y] * C, ri[H + y] * C, ri[2 * H + y] * C, ri[3 * H + y] * C
                w0, w1, w2, w3 = rw[y], rw[H + y], rw[2 * H + y], rw[3 * H + y]
                for c in range(C):
                    t[c] = f[i0 + c] * w0 + f[i1 + c] * w1 + f[i2 + c] * w2 + f[i3 + c] * w3
                first, last = C, -1  # the row's inputs that are not faint
                for c in range(C):
                    if t[c] >= faint or t[c] <= -faint:
                        if first == C:
                            first = c
                        last = c
                for x in range(W):
                    if ci[3 * W + x] < first or ci[x] > last:  # all four inputs faint: bare mat
                        o[x * H + y] = bare
                        continue
                    i0, i1, i2, i3 = ci[x], ci[W + x], ci[2 * W + x], ci[3 * W + x]
                    v = t[i0] * cw[x] + t[i1] * cw[W + x] + t[i2] * cw[2 * W + x] + t[i3] * cw[3 * W + x]
                    if v < zero:
                        v = zero  # cubic overshoot below zero load is not a load
                    q = v * per_level + half  # the nearest quantised level
                    if q < zero:
                        q = zero
                    elif q > top:
                        q = top
                    o[x * H + y] = table[<unsigned short>q]

def trail_points(trail, double left, double bottom, double px_per_mm, double min_px):
    """The COP trail (mat mm, oldest first) as the screen points ``ui.marks.draw_trail`` draws: each
    point to its pixel (truncated toward zero), a point on the pixel of the one before left out, then
    only points ``min_px`` or more from the last kept one (the newest always kept). The specification:
    ``ui.heatmap.trail_points_reference``."""
    cdef list out = []
    cdef long long x, y, px = 0, py = 0, kx = 0, ky = 0
    cdef bint first = True, kept_last = True
    cdef double d2, least = min_px * min_px
    for point in trail:
        x = <long long>(left + <double>point[0] * px_per_mm)
        y = <long long>(bottom - <double>point[1] * px_per_mm)
        if not first and x == px and y == py:
            continue
        px, py = x, y
        if first:
            first = False
        else:
            # squared whole pixels against min_px squared: the same answer as math.hypot >= min_px
            # for the half-pixel min_px marks uses (both exact), without the square root
            d2 = <double>((x - kx) * (x - kx) + (y - ky) * (y - ky))
            if d2 < least:
                kept_last = False
                continue
        out.append((x, y))
        kx, ky = x, y
        kept_last = True
    if not kept_last and (px != kx or py != ky):
        out.append((px, py))
    return out
