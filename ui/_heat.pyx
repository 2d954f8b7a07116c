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
    cdef float floor, per_level
    cdef int levels
    cdef bint despeckle

    def __init__(self, ri, rw, ci, cw, table, float floor, float per_level, int levels, bint despeckle,
                 frame, loaded, tall):
        self.ri, self.rw, self.ci, self.cw, self.table = ri, rw, ci, cw, table
        self.floor, self.per_level, self.levels, self.despeckle = floor, per_level, levels, despeckle
        self.frame, self.loaded, self.tall = frame, loaded, tall

    def run(self, const float[:, :] kpa, unsigned char[:, ::1] out):
        """``kpa`` (rows, cols), row 0 at the rear; ``out`` (out cols, out rows): x-major, as surfarray."""
        cdef Py_ssize_t R = self.frame.shape[0], C = self.frame.shape[1]
        cdef Py_ssize_t H = self.tall.shape[0], W = out.shape[0]
        cdef Py_ssize_t r, c, y, x, dr, dc, rr, cc, n
        cdef float v, q
        cdef float w0, w1, w2, w3
        cdef Py_ssize_t i0, i1, i2, i3
        if kpa.shape[0] != R or kpa.shape[1] != C or out.shape[1] != H or self.ci.shape[1] != W:
            raise ValueError("frame or output shape does not fit the heat map kernel")
        with nogil:
            for r in range(R):  # forward up: row 0 (the rear) at the bottom
                for c in range(C):
                    v = kpa[R - 1 - r, c]
                    self.frame[r, c] = v
                    self.loaded[r, c] = v >= self.floor
            if self.despeckle:  # a loaded sensel with no loaded neighbour is left out
                for r in range(R):
                    for c in range(C):
                        if not self.loaded[r, c]:
                            continue
                        n = 0
                        for dr in range(-1, 2):
                            rr = r + dr
                            if rr < 0 or rr >= R:
                                continue
                            for dc in range(-1, 2):
                                cc = c + dc
                                if (dr != 0 or dc != 0) and 0 <= cc < C and self.loaded[rr, cc]:
                                    n += 1
                        if n == 0:
                            self.frame[r, c] = 0.0
            for y in range(H):
                i0, i1, i2, i3 = self.ri[0, y], self.ri[1, y], self.ri[2, y], self.ri[3, y]
                w0, w1, w2, w3 = self.rw[0, y], self.rw[1, y], self.rw[2, y], self.rw[3, y]
                for c in range(C):
                    self.tall[y, c] = self.frame[i0, c] * w0 + self.frame[i1, c] * w1 \
                        + self.frame[i2, c] * w2 + self.frame[i3, c] * w3
            for x in range(W):
                i0, i1, i2, i3 = self.ci[0, x], self.ci[1, x], self.ci[2, x], self.ci[3, x]
                w0, w1, w2, w3 = self.cw[0, x], self.cw[1, x], self.cw[2, x], self.cw[3, x]
                for y in range(H):
                    v = self.tall[y, i0] * w0 + self.tall[y, i1] * w1 + self.tall[y, i2] * w2 + self.tall[y, i3] * w3
                    if v < 0.0:
                        v = 0.0  # cubic overshoot below zero load is not a load
                    q = v * self.per_level + <float>0.5  # the nearest quantised level
                    if q < 0.0:
                        q = 0.0
                    elif q > self.levels:
                        q = self.levels
                    out[x, y] = self.table[<unsigned short>q]
