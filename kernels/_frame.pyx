# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled per-frame mat and insole analysis.

The specification is ``kernels/reference.py``: the same steps, in the same
order, with the same tie-breaks, so results agree to rounding (the tests hold
them to 1e-6 relative). Use ``kernels.FrameAnalyzer`` / ``kernels.InsoleAnalyzer``,
not this module.

Speed notes: every buffer is allocated once per analyzer; a frame is read once
(full scan), after which all work runs over the list of active sensels only.
Labels and the previous frame's foot map are reset sensel by sensel from the
lists that set them, not by clearing whole images.
"""

cimport cython
cimport numpy as cnp
from libc.math cimport INFINITY, M_PI, atan2, cos, fabs, nextafterf, sin, sqrt
from libc.stdlib cimport free, malloc, qsort
from libc.string cimport memcpy, memset

import numpy as np

from kernels.errors import FrameError
from kernels.insole import InsoleResult, check_insole_frame
from kernels.results import FOOT_FIELDS, FRAME_FIELDS, LEFT, RIGHT

cnp.import_array()

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    /* 1 if any value in f[0:n] is active (>= thr > 0) or not a plain non-negative
       number. As unsigned integers, float bit patterns of non-negative numbers keep
       their order, and negatives (sign bit), infinities and NaN sort above any positive
       threshold: one compare per value. Most of a mat is empty, and this is how the
       empty part is skipped cheaply. (-0.0 is also flagged; the detailed pass then
       finds nothing in it.) SSE2 (every x86-64) gets it spelled out, 8 values a step;
       elsewhere (the Pi's aarch64) the plain loop is written so the compiler vectorises it. */
    static int gk_unusual(const float* f, int n, float thr) {
        uint32_t t;
        memcpy(&t, &thr, sizeof t);
        int32_t lim = (int32_t)((t - 1u) ^ 0x80000000u);
        int c = 0, flag = 0;
    #if defined(__SSE2__)
        const __m128i sign = _mm_set1_epi32((int)0x80000000u), vlim = _mm_set1_epi32(lim);
        __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
        for (; c + 8 <= n; c += 8) {
            __m128i a = _mm_loadu_si128((const __m128i*)(f + c));
            __m128i b = _mm_loadu_si128((const __m128i*)(f + c + 4));
            acc0 = _mm_or_si128(acc0, _mm_cmpgt_epi32(_mm_xor_si128(a, sign), vlim));
            acc1 = _mm_or_si128(acc1, _mm_cmpgt_epi32(_mm_xor_si128(b, sign), vlim));
        }
        flag = _mm_movemask_epi8(_mm_or_si128(acc0, acc1)) != 0;
    #endif
        for (; c < n; c++) {
            uint32_t u;
            memcpy(&u, &f[c], sizeof u);
            flag |= ((int32_t)(u ^ 0x80000000u) > lim);
        }
        return flag;
    }
    /* Bit c of the result: f[c] is active, thr <= f[c] < +inf (n <= 64). *odd is set
       when some value is unusual but not active (NaN, an infinity, a negative, -0.0):
       the caller then counts those in a slow pass. Active, as unsigned bit patterns:
       (u - t) < (inf - t), one compare. */
    /* gk_rows: flags[r] = gk_unusual(row r) for every row, in one call. On x86-64 CPUs
       with AVX2 (checked once at run time) 8 values per compare; the build stays
       baseline x86-64 (SSE2), so the module runs on any x86-64 and on the Pi. */
    static void gk_rows_base(const float* f, int R, int C, float thr, unsigned char* flags) {
        for (int r = 0; r < R; r++)
            flags[r] = (unsigned char)gk_unusual(f + (size_t)r * C, C, thr);
    }
    #if defined(__x86_64__) && defined(__GNUC__)
    #include <immintrin.h>
    __attribute__((target("avx2")))
    static void gk_rows_avx2(const float* f, int R, int C, float thr, unsigned char* flags) {
        uint32_t t;
        memcpy(&t, &thr, sizeof t);
        int32_t lim = (int32_t)((t - 1u) ^ 0x80000000u);
        const __m256i sign = _mm256_set1_epi32((int)0x80000000u), vlim = _mm256_set1_epi32(lim);
        for (int r = 0; r < R; r++) {
            const float* row = f + (size_t)r * C;
            __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
            int c = 0, flag;
            for (; c + 16 <= C; c += 16) {
                __m256i a = _mm256_loadu_si256((const __m256i*)(row + c));
                __m256i b = _mm256_loadu_si256((const __m256i*)(row + c + 8));
                acc0 = _mm256_or_si256(acc0, _mm256_cmpgt_epi32(_mm256_xor_si256(a, sign), vlim));
                acc1 = _mm256_or_si256(acc1, _mm256_cmpgt_epi32(_mm256_xor_si256(b, sign), vlim));
            }
            flag = !_mm256_testz_si256(_mm256_or_si256(acc0, acc1), _mm256_or_si256(acc0, acc1));
            if (c < C)
                flag |= gk_unusual(row + c, C - c, thr);
            flags[r] = (unsigned char)flag;
        }
    }
    static void (*gk_rows)(const float*, int, int, float, unsigned char*) = gk_rows_base;
    static int gk_init_rows(void) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2")) {
            gk_rows = gk_rows_avx2;
            return 1;
        }
        return 0;
    }
    static int gk_select_rows(int avx2) {  /* tests: run the baseline path too */
        gk_rows = gk_rows_base;
        return avx2 ? gk_init_rows() : 0;
    }
    #else
    static void (*gk_rows)(const float*, int, int, float, unsigned char*) = gk_rows_base;
    static int gk_init_rows(void) { return 0; }
    static int gk_select_rows(int avx2) { (void)avx2; return 0; }
    #endif
    static uint64_t gk_row_mask(const float* f, int n, float thr, int* odd) {
        uint32_t t;
        memcpy(&t, &thr, sizeof t);
        const uint32_t span = 0x7f800000u - t;
        uint64_t m = 0;
        int c = 0, bad = 0;
    #if defined(__SSE2__)
        /* 16 columns a step; a step with nothing unusual (most of a row) costs one
           compare per 4 values, the masks are built only where something is. */
        const __m128i sign = _mm_set1_epi32((int)0x80000000u);
        const __m128i vt = _mm_set1_epi32((int)t);
        const __m128i vspan = _mm_set1_epi32((int)(span ^ 0x80000000u));
        const __m128i vlim = _mm_set1_epi32((int)((t - 1u) ^ 0x80000000u));
        __m128i odd_acc = _mm_setzero_si128();
        for (; c + 16 <= n; c += 16) {
            __m128i u0 = _mm_loadu_si128((const __m128i*)(f + c));
            __m128i u1 = _mm_loadu_si128((const __m128i*)(f + c + 4));
            __m128i u2 = _mm_loadu_si128((const __m128i*)(f + c + 8));
            __m128i u3 = _mm_loadu_si128((const __m128i*)(f + c + 12));
            __m128i n0 = _mm_cmpgt_epi32(_mm_xor_si128(u0, sign), vlim);
            __m128i n1 = _mm_cmpgt_epi32(_mm_xor_si128(u1, sign), vlim);
            __m128i n2 = _mm_cmpgt_epi32(_mm_xor_si128(u2, sign), vlim);
            __m128i n3 = _mm_cmpgt_epi32(_mm_xor_si128(u3, sign), vlim);
            if (!_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(n0, n1), _mm_or_si128(n2, n3))))
                continue;
            __m128i a0 = _mm_cmplt_epi32(_mm_xor_si128(_mm_sub_epi32(u0, vt), sign), vspan);
            __m128i a1 = _mm_cmplt_epi32(_mm_xor_si128(_mm_sub_epi32(u1, vt), sign), vspan);
            __m128i a2 = _mm_cmplt_epi32(_mm_xor_si128(_mm_sub_epi32(u2, vt), sign), vspan);
            __m128i a3 = _mm_cmplt_epi32(_mm_xor_si128(_mm_sub_epi32(u3, vt), sign), vspan);
            odd_acc = _mm_or_si128(odd_acc, _mm_or_si128(
                _mm_or_si128(_mm_andnot_si128(a0, n0), _mm_andnot_si128(a1, n1)),
                _mm_or_si128(_mm_andnot_si128(a2, n2), _mm_andnot_si128(a3, n3))));
            uint64_t bits = (uint64_t)(unsigned)_mm_movemask_ps(_mm_castsi128_ps(a0))
                | (uint64_t)(unsigned)_mm_movemask_ps(_mm_castsi128_ps(a1)) << 4
                | (uint64_t)(unsigned)_mm_movemask_ps(_mm_castsi128_ps(a2)) << 8
                | (uint64_t)(unsigned)_mm_movemask_ps(_mm_castsi128_ps(a3)) << 12;
            m |= bits << c;
        }
        bad = _mm_movemask_epi8(odd_acc) != 0;
    #endif
        for (; c < n; c++) {
            uint32_t u;
            memcpy(&u, &f[c], sizeof u);
            int act = (uint32_t)(u - t) < span;
            bad |= (u >= t) & !act;
            m |= (uint64_t)act << c;
        }
        *odd |= bad;
        return m;
    }
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
    static inline int gk_ctz64(uint64_t x) { return __builtin_ctzll(x); }
    """
    int gk_unusual(const float* f, int n, float thr) noexcept nogil
    void gk_rows(const float* f, int R, int C, float thr, unsigned char* flags) noexcept nogil
    void gk_rows_base(const float* f, int R, int C, float thr, unsigned char* flags) noexcept nogil
    int gk_init_rows() noexcept nogil
    int gk_select_rows(int avx2) noexcept nogil
    unsigned long long gk_row_mask(const float* f, int n, float thr, int* odd) noexcept nogil
    int gk_ctz64(unsigned long long x) noexcept nogil
    void gk_fill(signed char* p, int n, int v) noexcept nogil


cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    /* Highest finite non-negative value of f[0:n] (0 if none). Non-negative floats order
       like their bit patterns; NaN and +inf sit above 0x7f800000 and negatives below 0. */
    static float gk_max(const float* f, int n) {
        int m = 0;
        for (int c = 0; c < n; c++) {
            int x;
            memcpy(&x, &f[c], sizeof x);
            x = (x < 0x7f800000) ? x : 0;
            m = (x > m) ? x : m;
        }
        float out;
        memcpy(&out, &m, sizeof out);
        return out;
    }
    """
    float gk_max(const float* f, int n) noexcept nogil

#: True when the row scan uses AVX2 (picked once, at import, from what the CPU supports).
AVX2 = bool(gk_init_rows())


def _use_avx2(on):
    """Tests: switch the empty-row scan to AVX2 (if the CPU has it) or to the baseline
    SSE2 / plain path; returns whether AVX2 is now used. Not for the live kiosk."""
    global AVX2
    AVX2 = bool(gk_select_rows(1 if on else 0))
    return AVX2

cdef object _LEFT = LEFT  # C-level references: no module dict lookup per foot
cdef object _RIGHT = RIGHT

cdef enum:
    SLOTS = 2
    MAXC = 32  # free pieces grouped into new feet per frame (reference.MAX_CLUSTER_PIECES)

cdef double REGION_0 = 0.27
cdef double REGION_1 = 0.55
cdef double HEEL_OFF_SHARE = 0.15  # see reference.HEEL_OFF_SHARE
cdef double FRONT_BAND = 0.1  # see reference.FRONT_BAND
cdef double TOES_FRONT_RATIO = 0.65  # see reference.TOES_FRONT_RATIO
cdef double SLACK = 1e-6  # tie-breaking slack, mm (see reference.SLACK)


@cython.no_gc  # holds no Python containers that could form a cycle: skip GC tracking
cdef class FootResult:
    """One foot in one frame (C-backed twin of :class:`kernels.results.FootResult`;
    same attributes and meaning, see there). Read-only."""

    cdef readonly long track_id
    cdef readonly object side
    cdef readonly double force_n, contact_area_mm2, peak_kpa, axis_deg, length_mm
    cdef readonly double footprint_area_mm2
    cdef readonly long frames
    cdef double cx, cy, hx, hy, tx, ty, rear, mid, fore
    cdef bint has_regions
    cdef int b0, b1, b2, b3

    def __init__(self, track_id, side, force_n, cop_mm, contact_area_mm2, peak_kpa, regions_n,
                 axis_deg, length_mm, heel_mm, toe_mm, bbox_rc, footprint_area_mm2, frames):
        self.track_id = track_id
        self.side = side
        self.force_n = force_n
        self.cx, self.cy = cop_mm
        self.contact_area_mm2 = contact_area_mm2
        self.peak_kpa = peak_kpa
        self.has_regions = regions_n is not None
        if self.has_regions:
            self.rear, self.mid, self.fore = regions_n
        self.axis_deg = axis_deg
        self.length_mm = length_mm
        self.hx, self.hy = heel_mm
        self.tx, self.ty = toe_mm
        self.b0, self.b1, self.b2, self.b3 = bbox_rc
        self.footprint_area_mm2 = footprint_area_mm2
        self.frames = frames

    @property
    def cop_mm(self):
        return (self.cx, self.cy)

    @property
    def regions_n(self):
        return (self.rear, self.mid, self.fore) if self.has_regions else None

    @property
    def heel_mm(self):
        return (self.hx, self.hy)

    @property
    def toe_mm(self):
        return (self.tx, self.ty)

    @property
    def bbox_rc(self):
        return (self.b0, self.b1, self.b2, self.b3)

    def as_dict(self):
        return {name: getattr(self, name) for name in FOOT_FIELDS}

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in FOOT_FIELDS)
        return f"FootResult({inner})"


@cython.no_gc  # holds no Python containers that could form a cycle: skip GC tracking
cdef class FrameResult:
    """Everything from one mat frame (C-backed twin of :class:`kernels.results.FrameResult`;
    same attributes and meaning, see there). Read-only."""

    cdef readonly double force_n, contact_area_mm2, peak_kpa, stray_force_n
    cdef readonly tuple feet
    cdef readonly long invalid_sensels, negative_sensels
    cdef double cx, cy
    cdef bint has_cop

    def __init__(self, force_n, cop_mm, feet, contact_area_mm2, peak_kpa, stray_force_n,
                 invalid_sensels, negative_sensels):
        self.force_n = force_n
        self.has_cop = cop_mm is not None
        if self.has_cop:
            self.cx, self.cy = cop_mm
        self.feet = tuple(feet)
        self.contact_area_mm2 = contact_area_mm2
        self.peak_kpa = peak_kpa
        self.stray_force_n = stray_force_n
        self.invalid_sensels = invalid_sensels
        self.negative_sensels = negative_sensels

    @property
    def cop_mm(self):
        return (self.cx, self.cy) if self.has_cop else None

    @property
    def left(self):
        for foot in self.feet:
            if foot.side == LEFT:
                return foot
        return None

    @property
    def right(self):
        for foot in self.feet:
            if foot.side == RIGHT:
                return foot
        return None

    def as_dict(self):
        out = {name: getattr(self, name) for name in FRAME_FIELDS}
        out["feet"] = [foot.as_dict() for foot in self.feet]
        return out

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in FRAME_FIELDS)
        return f"FrameResult({inner})"


cdef struct Geom:
    double mx, my, ux, uy
    double s_min, s_max, half_width, extent, length, heel_s
    double heel_x, heel_y, toe_x, toe_y, area
    double axis_deg  # direction of the long axis, degrees from +x


cdef struct Slot:
    bint live
    long track_id
    int side  # -1 unknown, 0 left, 1 right
    long frames
    Geom geom
    double un, usx, usy, usxx, usyy, usxy  # stance-footprint moments
    int ur0, ur1, uc0, uc1  # stance-footprint bounding box (ur0 > ur1: empty)
    bint dirty  # the footprint changed since its geometry was computed
    bint heel_loaded  # last frame: rearfoot > HEEL_OFF_SHARE of the foot (or unknown)


cdef struct PieceKey:
    int n
    double force
    int id


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


cdef inline void principal_axis(double sx, double sy, double sxx, double syy, double sxy, double n,
                                double* mx, double* my, double* ux, double* uy) noexcept nogil:
    cdef double cxx, cyy, cxy, tol, theta
    mx[0] = sx / n
    my[0] = sy / n
    cxx = sxx / n - mx[0] * mx[0]
    cyy = syy / n - my[0] * my[0]
    cxy = sxy / n - mx[0] * my[0]
    tol = 1e-9 * (fabs(cxx) + fabs(cyy)) + 1e-12
    if fabs(cxx - cyy) <= tol and fabs(cxy) <= tol:
        ux[0] = 0.0
        uy[0] = 1.0
        return
    theta = 0.5 * atan2(2.0 * cxy, cxx - cyy)
    ux[0] = cos(theta)
    uy[0] = sin(theta)
    if fabs(uy[0]) <= 1e-9:  # crosswise: +x, exactly, so both faces agree on the sign
        ux[0] = 1.0
        uy[0] = 0.0
    elif uy[0] < 0.0:
        ux[0] = -ux[0]
        uy[0] = -uy[0]


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


@cython.final  # direct (inlinable) calls to the cdef helpers, no vtable
cdef class FrameKernel:
    """Compiled twin of :class:`kernels.reference.FrameKernel`."""

    cdef int R, C, N
    cdef double py, px, thr, min_force, min_foot_force, max_len, max_wid
    cdef double valley_ratio, side_min_dx, min_region_len, area, scale, max_pitch
    cdef double* xs
    cdef double* ys
    cdef int* act
    cdef int* ar  # row of each active sensel
    cdef int* ac  # column of each active sensel
    # row runs of the frame (raster order): row, columns [c0, c1), first sensel in the
    # active list, provisional label, piece, and the sums of their values
    cdef int* run_r
    cdef int* run_c0
    cdef int* run_c1
    cdef int* run_k0
    cdef int* run_lab
    cdef int* run_pid
    cdef double* run_f
    cdef double* run_sx
    cdef double* run_pk
    cdef int n_runs
    cdef bint split  # step 4 split a blob this frame
    cdef bint lists_ok  # act, ar, ac, pid hold this frame's sensels (see _lists)
    cdef const float* fr  # the frame being analysed (valid inside analyze only)
    cdef int n_act
    cdef int nlab  # provisional labels given by the scan this frame
    cdef float thr_f  # the smallest float >= threshold_kpa: float compares == double compares
    cdef int* parent
    cdef int* root_id
    cdef int* pid
    cdef signed char* tmp
    # per component / piece (capacity N)
    cdef int* cn
    cdef int* cfirst
    cdef int* cr0
    cdef int* cr1
    cdef int* cc0
    cdef int* cc1
    cdef int* pn
    cdef double* pforce
    cdef double* psx
    cdef double* psy
    cdef double* psxx
    cdef double* psyy
    cdef double* psxy
    cdef int* pov0
    cdef int* pov1
    cdef bint* pmom  # moments of the piece computed this frame
    cdef int* pin0  # sensels of the piece inside slot 0's stance footprint
    cdef int* pin1
    cdef int* gbuf  # scratch: flat indices of a group of sensels
    cdef int* pbuf  # scratch: flat indices of a piece
    cdef int* plist  # scratch: sensels of the free pieces, piece after piece
    cdef int* owner
    cdef int* released
    cdef PieceKey* keys
    cdef int* profile
    cdef unsigned char* row_flag  # per row: holds something (gk_rows)
    # state between frames
    cdef signed char* prev_slot
    cdef int* foot_list  # last frame's foot sensels as runs: first sensel, length
    cdef int* foot_len
    cdef int n_foot
    cdef unsigned char* fp  # SLOTS * N stance-footprint masks
    cdef Slot slots[SLOTS]
    cdef bint new_track[SLOTS]
    cdef long next_track_id
    cdef double last_x[2]
    cdef bint has_last_x[2]
    cdef double foot_length[2]
    cdef double stance_length[2]
    cdef double fragment_gap, full_footprint, arch_offset
    cdef object params

    def __cinit__(self, params):
        cdef int n = params.rows * params.cols
        cdef int m = max(params.rows, params.cols)
        self.N = n
        self.xs = <double*>malloc(params.cols * sizeof(double))
        self.ys = <double*>malloc(params.rows * sizeof(double))
        self.act = <int*>malloc(n * sizeof(int))
        self.ar = <int*>malloc(n * sizeof(int))
        self.ac = <int*>malloc(n * sizeof(int))
        self.run_r = <int*>malloc(n * sizeof(int))
        self.run_c0 = <int*>malloc(n * sizeof(int))
        self.run_c1 = <int*>malloc(n * sizeof(int))
        self.run_k0 = <int*>malloc(n * sizeof(int))
        self.run_lab = <int*>malloc(n * sizeof(int))
        self.run_pid = <int*>malloc(n * sizeof(int))
        self.run_f = <double*>malloc(n * sizeof(double))
        self.run_sx = <double*>malloc(n * sizeof(double))
        self.run_pk = <double*>malloc(n * sizeof(double))
        self.foot_len = <int*>malloc(n * sizeof(int))
        self.parent = <int*>malloc(n * sizeof(int))
        self.root_id = <int*>malloc(n * sizeof(int))
        self.pid = <int*>malloc(n * sizeof(int))
        self.tmp = <signed char*>malloc(n * sizeof(signed char))
        self.cn = <int*>malloc(n * sizeof(int))
        self.cfirst = <int*>malloc(n * sizeof(int))
        self.cr0 = <int*>malloc(n * sizeof(int))
        self.cr1 = <int*>malloc(n * sizeof(int))
        self.cc0 = <int*>malloc(n * sizeof(int))
        self.cc1 = <int*>malloc(n * sizeof(int))
        self.pn = <int*>malloc(n * sizeof(int))
        self.pforce = <double*>malloc(n * sizeof(double))
        self.psx = <double*>malloc(n * sizeof(double))
        self.psy = <double*>malloc(n * sizeof(double))
        self.psxx = <double*>malloc(n * sizeof(double))
        self.psyy = <double*>malloc(n * sizeof(double))
        self.psxy = <double*>malloc(n * sizeof(double))
        self.pov0 = <int*>malloc(n * sizeof(int))
        self.pov1 = <int*>malloc(n * sizeof(int))
        self.pmom = <bint*>malloc(n * sizeof(bint))
        self.pin0 = <int*>malloc(n * sizeof(int))
        self.pin1 = <int*>malloc(n * sizeof(int))
        self.gbuf = <int*>malloc(n * sizeof(int))
        self.pbuf = <int*>malloc(n * sizeof(int))
        self.plist = <int*>malloc(n * sizeof(int))
        self.owner = <int*>malloc(n * sizeof(int))
        self.released = <int*>malloc(n * sizeof(int))
        self.keys = <PieceKey*>malloc(n * sizeof(PieceKey))
        self.profile = <int*>malloc(m * sizeof(int))
        self.row_flag = <unsigned char*>malloc(params.rows)
        self.prev_slot = <signed char*>malloc(n * sizeof(signed char))
        self.foot_list = <int*>malloc(n * sizeof(int))
        self.fp = <unsigned char*>malloc(SLOTS * n * sizeof(unsigned char))
        if (self.xs == NULL or self.ys == NULL or self.act == NULL
                or self.ar == NULL or self.ac == NULL or self.run_r == NULL or self.run_c0 == NULL
                or self.run_c1 == NULL or self.run_k0 == NULL or self.run_lab == NULL
                or self.run_pid == NULL or self.run_f == NULL or self.run_sx == NULL
                or self.run_pk == NULL or self.foot_len == NULL
                or self.parent == NULL or self.root_id == NULL
                or self.pid == NULL or self.tmp == NULL or self.cn == NULL or self.cfirst == NULL
                or self.cr0 == NULL or self.cr1 == NULL or self.cc0 == NULL or self.cc1 == NULL
                or self.pn == NULL or self.pforce == NULL
                or self.psx == NULL or self.psy == NULL or self.psxx == NULL or self.psyy == NULL
                or self.psxy == NULL or self.pov0 == NULL or self.pov1 == NULL or self.pmom == NULL
                or self.pin0 == NULL or self.pin1 == NULL or self.gbuf == NULL or self.pbuf == NULL
                or self.plist == NULL
                or self.owner == NULL or self.released == NULL or self.keys == NULL
                or self.profile == NULL or self.row_flag == NULL or self.prev_slot == NULL
                or self.foot_list == NULL or self.fp == NULL):
            raise MemoryError("FrameKernel buffers")

    def __dealloc__(self):
        free(self.xs); free(self.ys); free(self.act)
        free(self.ar); free(self.ac); free(self.run_r); free(self.run_c0); free(self.run_c1)
        free(self.run_k0); free(self.run_lab); free(self.run_pid); free(self.run_f)
        free(self.run_sx); free(self.run_pk); free(self.foot_len)
        free(self.parent); free(self.root_id); free(self.pid); free(self.tmp)
        free(self.cn); free(self.cfirst); free(self.cr0); free(self.cr1); free(self.cc0)
        free(self.cc1); free(self.pn); free(self.pforce)
        free(self.psx); free(self.psy); free(self.psxx); free(self.psyy); free(self.psxy)
        free(self.pov0); free(self.pov1); free(self.pmom);
        free(self.pin0); free(self.pin1); free(self.gbuf); free(self.pbuf); free(self.plist)
        free(self.owner); free(self.released); free(self.keys)
        free(self.profile); free(self.row_flag); free(self.prev_slot); free(self.foot_list)
        free(self.fp)

    def __init__(self, params):
        cdef int i
        self.params = params
        self.R = params.rows
        self.C = params.cols
        self.py = params.row_pitch_mm
        self.px = params.col_pitch_mm
        self.thr = params.threshold_kpa
        self.thr_f = <float>self.thr
        if <double>self.thr_f < self.thr:
            self.thr_f = nextafterf(self.thr_f, INFINITY)
        self.min_force = params.min_force_n
        self.min_foot_force = params.min_foot_force_n
        self.max_len = params.max_foot_length_mm
        self.max_wid = params.max_foot_width_mm
        self.valley_ratio = params.valley_ratio
        self.side_min_dx = params.side_min_dx_mm
        self.min_region_len = params.min_region_length_mm
        self.fragment_gap = params.fragment_gap_mm
        self.full_footprint = params.full_footprint_mm
        self.arch_offset = params.arch_offset_mm
        self.area = self.py * self.px
        self.scale = self.area * 1e-3
        self.max_pitch = self.py if self.py > self.px else self.px
        for i in range(self.C):
            self.xs[i] = (i + 0.5) * self.px
        for i in range(self.R):
            self.ys[i] = (i + 0.5) * self.py
        self.reset()

    cpdef reset(self):
        cdef int s, i
        for i in range(self.N):
            self.prev_slot[i] = -1
        self.n_foot = 0
        for s in range(SLOTS):
            self._clear_slot(s)
            self.new_track[s] = False
        self.next_track_id = 1
        for s in range(2):
            self.has_last_x[s] = False
            self.last_x[s] = 0.0
            self.foot_length[s] = 0.0
            self.stance_length[s] = 0.0

    cdef void _clear_slot(self, int s) noexcept nogil:
        cdef Slot* sl = &self.slots[s]
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
        sl.ur0 = self.R
        sl.ur1 = -1
        sl.uc0 = self.C
        sl.uc1 = -1
        sl.dirty = True
        sl.heel_loaded = True
        memset(&self.fp[s * self.N], 0, self.N)

    def foot_labels(self):
        out = np.empty((self.R, self.C), dtype=np.int32)
        cdef int[:, ::1] view = out
        cdef int i
        for i in range(self.N):
            view[i // self.C, i % self.C] = (
                0 if self.prev_slot[i] < 0 else <int>self.slots[self.prev_slot[i]].track_id)
        return out

    def footprint(self, track_id):
        cdef int s
        cdef unsigned char[:, ::1] view
        for s in range(SLOTS):
            if self.slots[s].live and self.slots[s].track_id == track_id:
                out = np.empty((self.R, self.C), dtype=np.bool_)
                view = out.view(np.uint8)
                memcpy(&view[0, 0], &self.fp[s * self.N], self.N)
                return out
        return None

    # -- union-find ---------------------------------------------------------------------
    cdef inline int _find(self, int a) noexcept nogil:
        cdef int root = a, nxt
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:  # path compression
            nxt = self.parent[a]
            self.parent[a] = root
            a = nxt
        return root

    cdef inline int _union(self, int a, int b) noexcept nogil:
        # a may be -1 (no label yet); returns the merged root (the smaller label)
        cdef int rb = self._find(b), ra
        if a < 0:
            return rb
        ra = self._find(a)
        if ra == rb:
            return ra
        if ra < rb:
            self.parent[rb] = ra
            return ra
        self.parent[ra] = rb
        return rb

    # -- geometry helpers ---------------------------------------------------------------
    cdef void _slot_geom(self, int s) noexcept nogil:
        """Geometry of a slot's stance footprint (moments kept incrementally)."""
        cdef Slot* sl = &self.slots[s]
        cdef Geom* g = &sl.geom
        cdef int r, c
        cdef unsigned char* mask = &self.fp[s * self.N]
        cdef double x, y, sv, t, s_min = INFINITY, s_max = -INFINITY, hw = 0.0
        principal_axis(sl.usx, sl.usy, sl.usxx, sl.usyy, sl.usxy, sl.un,
                       &g.mx, &g.my, &g.ux, &g.uy)
        for r in range(sl.ur0, sl.ur1 + 1):
            for c in range(sl.uc0, sl.uc1 + 1):
                if not mask[r * self.C + c]:
                    continue
                x = self.xs[c] - g.mx
                y = self.ys[r] - g.my
                sv = x * g.ux + y * g.uy
                t = fabs(-x * g.uy + y * g.ux)
                if sv < s_min:
                    s_min = sv
                if sv > s_max:
                    s_max = sv
                if t > hw:
                    hw = t
        self._finish_geom(g, s_min, s_max, hw, sl.un)

    cdef inline void _finish_geom(self, Geom* g, double s_min, double s_max, double hw, double n) noexcept nogil:
        g.s_min = s_min
        g.s_max = s_max
        g.half_width = hw
        g.extent = fabs(g.ux) * self.px + fabs(g.uy) * self.py
        g.heel_s = s_min - 0.5 * g.extent
        cdef double toe_s = s_max + 0.5 * g.extent
        g.length = toe_s - g.heel_s
        g.heel_x = g.mx + g.heel_s * g.ux
        g.heel_y = g.my + g.heel_s * g.uy
        g.toe_x = g.mx + toe_s * g.ux
        g.toe_y = g.my + toe_s * g.uy
        g.area = n * self.area
        g.axis_deg = atan2(g.uy, g.ux) * (180.0 / M_PI)

    cdef int _gather_piece(self, int j) noexcept nogil:
        """Flat indices of piece j into pbuf (raster order); returns the count."""
        cdef int k, n = 0
        self._lists()
        for k in range(self.n_act):
            if self.pid[k] == j:
                self.pbuf[n] = self.act[k]
                n += 1
        return n

    cdef int _gather_group(self, int s, bint footprint) noexcept nogil:
        """Flat indices (raster order) into gbuf of slot s's stance footprint, or of the
        pieces it owns so far in this frame; returns the count."""
        cdef int k, r, c, n = 0
        cdef Slot* sl = &self.slots[s]
        cdef unsigned char* mask = &self.fp[s * self.N]
        if footprint:
            for r in range(sl.ur0, sl.ur1 + 1):
                for c in range(sl.uc0, sl.uc1 + 1):
                    if mask[r * self.C + c]:
                        self.gbuf[n] = r * self.C + c
                        n += 1
        else:
            self._lists()
            for k in range(self.n_act):
                if self.owner[self.pid[k]] == s:
                    self.gbuf[n] = self.act[k]
                    n += 1
        return n

    cdef bint _fits(self, int ng, int np_) noexcept nogil:
        """Whether gbuf[:ng] and pbuf[:np_] together fit one foot (see reference._fits)."""
        cdef int k, i, r, c, total = ng + np_
        cdef double x, y, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
        cdef double mx, my, ux, uy, sv, t, s_min = INFINITY, s_max = -INFINITY
        cdef double t_min = INFINITY, t_max = -INFINITY, length, width
        for k in range(total):
            i = self.gbuf[k] if k < ng else self.pbuf[k - ng]
            r = i // self.C
            c = i - r * self.C
            x = self.xs[c]
            y = self.ys[r]
            sx += x
            sy += y
            sxx += x * x
            syy += y * y
            sxy += x * y
        principal_axis(sx, sy, sxx, syy, sxy, <double>total, &mx, &my, &ux, &uy)
        for k in range(total):
            i = self.gbuf[k] if k < ng else self.pbuf[k - ng]
            r = i // self.C
            c = i - r * self.C
            x = self.xs[c] - mx
            y = self.ys[r] - my
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
        length = (s_max - s_min) + fabs(ux) * self.px + fabs(uy) * self.py
        width = (t_max - t_min) + fabs(uy) * self.px + fabs(ux) * self.py
        return length <= self.max_len + SLACK and width <= self.max_wid + SLACK

    cdef double _gap(self, int ng, int np_) noexcept nogil:
        """Edge gap (mm) between gbuf[:ng] and pbuf[:np_]: nearest centres less one pitch."""
        return self._gap_lists(self.gbuf, ng, self.pbuf, np_)

    cdef double _gap_lists(self, int* la, int na, int* lb, int nb) noexcept nogil:
        cdef int a, b, ia, ib, ra, rb
        cdef double dx, dy, d2, best = INFINITY, xa, ya
        for a in range(na):
            ia = la[a]
            ra = ia // self.C
            xa = self.xs[ia - ra * self.C]
            ya = self.ys[ra]
            for b in range(nb):
                ib = lb[b]
                rb = ib // self.C
                dx = xa - self.xs[ib - rb * self.C]
                dy = ya - self.ys[rb]
                d2 = dx * dx + dy * dy
                if d2 < best:
                    best = d2
        return sqrt(best) - self.max_pitch

    cdef bint _beside(self, int s, int np_) noexcept nogil:
        """Whether pbuf[:np_] lies wholly beside slot s's whole footprint (see reference)."""
        cdef Geom* g = &self.slots[s].geom
        cdef int k, i, r, c
        cdef double t, t_min = INFINITY
        if g.length < self.full_footprint:
            return False
        for k in range(np_):
            i = self.pbuf[k]
            r = i // self.C
            c = i - r * self.C
            t = fabs(-(self.xs[c] - g.mx) * g.uy + (self.ys[r] - g.my) * g.ux)
            if t < t_min:
                t_min = t
        return t_min > g.half_width + self.max_pitch + SLACK

    cdef bint _beyond_toes(self, int s, int np_) noexcept nogil:
        """Whether pbuf[:np_] lies wholly beyond the toes of slot s's foot (see reference)."""
        cdef Slot* sl = &self.slots[s]
        cdef Geom* g = &sl.geom
        cdef int k, i, r, c
        cdef double along, a_min = INFINITY, known = 0.0
        for k in range(np_):
            i = self.pbuf[k]
            r = i // self.C
            c = i - r * self.C
            along = (self.xs[c] - g.mx) * g.ux + (self.ys[r] - g.my) * g.uy
            if along < a_min:
                a_min = along
        if sl.side >= 0:
            known = self.stance_length[sl.side]
        if known > 0.0:
            return a_min > g.heel_s + known + SLACK
        if g.length < self.full_footprint or sl.heel_loaded:
            return False
        return a_min > g.s_max + SLACK and self._toes_in_footprint(s)

    cdef bint _toes_in_footprint(self, int s) noexcept nogil:
        """Whether the front of slot s's stance footprint is toe tips, not the metatarsal
        heads (see reference._toes_in_footprint)."""
        cdef Slot* sl = &self.slots[s]
        cdef Geom* g = &sl.geom
        cdef unsigned char* mask = &self.fp[s * self.N]
        cdef int r, c
        cdef double x, y, sv, t, lim = g.s_max - FRONT_BAND * g.length - SLACK
        cdef double t_min = INFINITY, t_max = -INFINITY, f_min = INFINITY, f_max = -INFINITY
        for r in range(sl.ur0, sl.ur1 + 1):
            for c in range(sl.uc0, sl.uc1 + 1):
                if not mask[r * self.C + c]:
                    continue
                x = self.xs[c] - g.mx
                y = self.ys[r] - g.my
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

    # -- the analysis ---------------------------------------------------------------------
    def analyze(self, frame):
        cdef cnp.ndarray arr
        if not (cnp.PyArray_Check(frame)
                and cnp.PyArray_TYPE(<cnp.ndarray>frame) == cnp.NPY_FLOAT32
                and cnp.PyArray_NDIM(<cnp.ndarray>frame) == 2
                and cnp.PyArray_DIM(<cnp.ndarray>frame, 0) == self.R
                and cnp.PyArray_DIM(<cnp.ndarray>frame, 1) == self.C
                and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>frame)):
            from kernels.frame import check_frame

            check_frame(frame, self.R, self.C)
            raise FrameError("unsupported frame")  # check_frame names the problem
        arr = <cnp.ndarray>frame
        cdef const float* f = <const float*>cnp.PyArray_DATA(arr)
        cdef int n_inv = 0, n_neg = 0, K = 0, n_pieces = 0
        cdef double total = 0.0, spx = 0.0, spy = 0.0, peak = 0.0, stray = 0.0
        self.fr = f
        # The GIL stays held: a frame takes a few µs, less than releasing and taking it
        # back costs (two mutex operations), and no other thread could use the gap.
        self._scan(f, &n_inv, &n_neg, &total, &spx, &spy, &peak)
        K = self._label()
        n_pieces = self._split(K)
        self.split = n_pieces != K
        self._piece_stats(K, n_pieces)
        self._assign(n_pieces)
        stray = self._update_feet(n_pieces)
        self._decide_sides()
        cdef FrameResult res = FrameResult.__new__(FrameResult)
        res.force_n = total * self.scale
        res.has_cop = res.force_n >= self.min_force and total > 0
        if res.has_cop:
            res.cx = spx / total
            res.cy = spy / total
        res.feet = self._feet()
        res.contact_area_mm2 = self.n_act * self.area
        res.peak_kpa = peak
        res.stray_force_n = stray * self.scale
        res.invalid_sensels = n_inv
        res.negative_sensels = n_neg
        return res

    cdef void _scan(self, const float* f, int* n_inv, int* n_neg, double* total, double* spx,
                    double* spy, double* peak) noexcept nogil:
        """Steps 1-3 in one pass: clean, threshold, totals; the active sensels in raster
        order, as row runs (a run: loaded sensels side by side in one row) with their sums,
        and the runs' provisional labels (union-find; a run touches a run of the row below
        when their column ranges, each widened by one, overlap: 8-connectivity)."""
        cdef int r, c, a, b, i, n = 0, C = self.C, w, wn, s, ln, q, p, p_end, lab_, odd
        cdef int nr = 0, row_q0, prev_q0 = 0, prev_q1 = 0, last_row = -2
        cdef unsigned long long m, x
        cdef float v, thr = self.thr_f
        cdef double dv, t = 0.0, sx = 0.0, sy = 0.0, pk = 0.0, rf, rsx, rpk, rowsum
        cdef int* run_c0 = self.run_c0
        cdef int* run_c1 = self.run_c1
        cdef int* run_lab = self.run_lab
        self.nlab = 0
        gk_rows(f, self.R, C, thr, self.row_flag)
        for r in range(self.R):
            if not self.row_flag[r]:
                continue  # the common case: an empty row
            i = r * C
            # the row's runs, from its bit mask (64 columns a word)
            row_q0 = nr
            odd = 0
            w = 0
            while w < C:
                wn = C - w if C - w < 64 else 64
                m = gk_row_mask(&f[i + w], wn, thr, &odd)
                while m:
                    s = gk_ctz64(m)
                    x = ~(m >> s)
                    ln = 64 if x == 0 else gk_ctz64(x)
                    if s + ln >= 64:
                        m = 0
                    else:
                        m &= (~0ULL) << (s + ln)
                    a = w + s
                    if nr > row_q0 and run_c1[nr - 1] == a:
                        run_c1[nr - 1] = a + ln  # a run across a 64-column boundary
                    else:
                        run_c0[nr] = a
                        run_c1[nr] = a + ln
                        nr += 1
                w += wn
            if odd:
                # rare: count NaN, infinite and negative values of this row
                for c in range(C):
                    v = f[i + c]
                    if v != v or v == INFINITY or v == -INFINITY:
                        n_inv[0] += 1
                    elif v < 0:
                        n_neg[0] += 1
            if last_row != r - 1:
                prev_q0 = prev_q1  # the row below had no runs
            p = prev_q0
            rowsum = 0.0
            for q in range(row_q0, nr):
                a = run_c0[q]
                b = run_c1[q]
                # label: union of the touching runs of the row below
                while p < prev_q1 and run_c1[p] < a:
                    p += 1
                lab_ = -1
                p_end = p
                while p_end < prev_q1 and run_c0[p_end] <= b:
                    lab_ = self._union(lab_, run_lab[p_end])
                    p_end += 1
                if lab_ < 0:
                    lab_ = self.nlab
                    self.parent[lab_] = lab_
                    self.nlab += 1
                run_lab[q] = lab_
                self.run_r[q] = r
                self.run_k0[q] = n
                rf = 0.0
                rsx = 0.0
                rpk = 0.0
                n += b - a
                for c in range(a, b):
                    dv = f[i + c]
                    rf += dv
                    rsx += dv * self.xs[c]
                    if dv > rpk:
                        rpk = dv
                self.run_f[q] = rf
                self.run_sx[q] = rsx
                self.run_pk[q] = rpk
                t += rf
                sx += rsx
                rowsum += rf
                if rpk > pk:
                    pk = rpk
            sy += rowsum * self.ys[r]
            if nr > row_q0:
                prev_q0 = row_q0
                prev_q1 = nr
                last_row = r
        if n == 0:
            # nothing active: the peak is the highest sub-threshold value
            pk = gk_max(f, self.R * C)
        self.n_act = n
        self.n_runs = nr
        self.lists_ok = False
        total[0] = t
        spx[0] = sx
        spy[0] = sy
        peak[0] = pk

    cdef int _label(self) noexcept nogil:
        """Step 3: 8-connected components numbered in raster order of their first sensel,
        with their statistics (they are the pieces unless step 4 splits one); run by run."""
        cdef int q, k, k0, k1, i, i0, r, c0, c1, l, nlab = self.nlab, root, K = 0, j
        cdef int o0, o1, n0, n1
        cdef signed char was
        cdef signed char* prev = self.prev_slot
        cdef unsigned char* fp0 = self.fp
        cdef unsigned char* fp1 = &self.fp[self.N]
        # Every label points at a smaller one or itself, so one forward pass flattens.
        for l in range(nlab):
            self.parent[l] = self.parent[self.parent[l]]
            self.root_id[l] = -1
        for q in range(self.n_runs):
            root = self.parent[self.run_lab[q]]
            j = self.root_id[root]
            r = self.run_r[q]
            c0 = self.run_c0[q]
            c1 = self.run_c1[q]
            k0 = self.run_k0[q]
            k1 = k0 + c1 - c0
            if j < 0:
                j = K
                self.root_id[root] = K
                K += 1
                self.cfirst[j] = k0
                self.cr0[j] = r
                self.cc0[j] = c0
                self.cc1[j] = c1 - 1
                self._zero_piece(j)
            self.run_pid[q] = j
            o0 = o1 = n0 = n1 = 0
            i0 = r * self.C
            for i in range(i0 + c0, i0 + c1):
                was = prev[i]
                o0 += was == 0
                o1 += was == 1
                n0 += fp0[i]
                n1 += fp1[i]
            self.pn[j] += c1 - c0
            self.pforce[j] += self.run_f[q]
            self.pov0[j] += o0
            self.pov1[j] += o1
            self.pin0[j] += n0
            self.pin1[j] += n1
            self.cr1[j] = r  # raster order: rows never decrease
            if c0 < self.cc0[j]:
                self.cc0[j] = c0
            if c1 - 1 > self.cc1[j]:
                self.cc1[j] = c1 - 1
        return K

    cdef void _lists(self) noexcept nogil:
        """The active sensels one by one (flat index, row, column, piece), from the runs.
        Only the rarer steps need them (splitting a blob, fitting a piece to a foot,
        grouping new feet), so they are built on first use in a frame."""
        cdef int q, c, k = 0, i, r, j
        if self.lists_ok:
            return
        for q in range(self.n_runs):
            r = self.run_r[q]
            i = r * self.C
            j = self.run_pid[q]
            for c in range(self.run_c0[q], self.run_c1[q]):
                self.act[k] = i + c
                self.ar[k] = r
                self.ac[k] = c
                self.pid[k] = j
                k += 1
        self.lists_ok = True

    cdef inline void _zero_piece(self, int j) noexcept nogil:
        self.pn[j] = 0
        self.pforce[j] = 0.0
        self.pov0[j] = 0
        self.pov1[j] = 0
        self.pin0[j] = 0
        self.pin1[j] = 0
        self.pmom[j] = False

    cdef inline void _add_to_piece(self, int j, int k) noexcept nogil:
        cdef int i = self.act[k]
        cdef signed char was = self.prev_slot[i]
        self.pn[j] += 1
        self.pforce[j] += self.fr[i]
        if was == 0:
            self.pov0[j] += 1
        elif was == 1:
            self.pov1[j] += 1
        if self.fp[i]:
            self.pin0[j] += 1
        if self.fp[self.N + i]:
            self.pin1[j] += 1

    cdef void _moments(self, int j) noexcept nogil:
        """Area moments of piece j, computed when first needed (rarely, in steady state)."""
        cdef int k
        cdef double x, y, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
        if self.pmom[j]:
            return
        self._lists()
        for k in range(self.n_act):
            if self.pid[k] != j:
                continue
            x = self.xs[self.ac[k]]
            y = self.ys[self.ar[k]]
            sx += x
            sy += y
            sxx += x * x
            syy += y * y
            sxy += x * y
        self.psx[j] = sx
        self.psy[j] = sy
        self.psxx[j] = sxx
        self.psyy[j] = syy
        self.psxy[j] = sxy
        self.pmom[j] = True

    cdef int _split(self, int K) noexcept nogil:
        """Step 4: divide blobs holding two feet; returns the number of pieces."""
        cdef int j, n_pieces = K
        cdef bint both_live = self.slots[0].live and self.slots[1].live
        for j in range(K):
            if both_live and self.pov0[j] > 0 and self.pov1[j] > 0:  # pieces == blobs here
                self._history_split(j, n_pieces)
                n_pieces += 1
            elif self._valley_split(j, n_pieces, True) or self._valley_split(j, n_pieces, False):
                n_pieces += 1
        return n_pieces

    cdef void _history_split(self, int j, int new_id) noexcept nogil:
        cdef int k, i, r, c
        cdef signed char to, first_to = -1
        cdef double x, y, d0, d1
        cdef Geom* g0 = &self.slots[0].geom
        cdef Geom* g1 = &self.slots[1].geom
        self._lists()
        for k in range(self.cfirst[j], self.n_act):
            if self.pid[k] != j:
                continue
            i = self.act[k]
            to = self.prev_slot[i]
            if to < 0:
                x = self.xs[self.ac[k]]
                y = self.ys[self.ar[k]]
                d0 = seg_dist2(x, y, g0.heel_x, g0.heel_y, g0.toe_x, g0.toe_y)
                d1 = seg_dist2(x, y, g1.heel_x, g1.heel_y, g1.toe_x, g1.toe_y)
                to = 1 if d1 < d0 - SLACK else 0
            if first_to < 0:
                first_to = to
            if to != first_to:
                self.pid[k] = new_id

    cdef bint _valley_split(self, int j, int new_id, bint rows) noexcept nogil:
        cdef int lo, hi, nb, m, b, jj, k, i, coord, first_side, side
        cdef int best, left_peak = 0, right_peak = 0, smaller
        cdef double pitch, limit
        if rows:
            lo = self.cr0[j]
            hi = self.cr1[j]
            pitch = self.py
            limit = self.max_len
        else:
            lo = self.cc0[j]
            hi = self.cc1[j]
            pitch = self.px
            limit = self.max_wid
        nb = hi - lo + 1
        if nb * pitch <= limit or nb < 3:
            return False
        self._lists()
        for b in range(nb):
            self.profile[b] = 0
        for k in range(self.cfirst[j], self.n_act):
            if self.pid[k] != j:
                continue
            coord = self.ar[k] if rows else self.ac[k]
            self.profile[coord - lo] += 1
        m = nb // 5
        jj = m
        best = self.profile[m]
        for b in range(m + 1, nb - m):
            if self.profile[b] < best:
                best = self.profile[b]
                jj = b
        for b in range(jj + 1):
            if self.profile[b] > left_peak:
                left_peak = self.profile[b]
        for b in range(jj, nb):
            if self.profile[b] > right_peak:
                right_peak = self.profile[b]
        smaller = left_peak if left_peak < right_peak else right_peak
        if not (best <= self.valley_ratio * smaller):
            return False
        first_side = -1
        for k in range(self.cfirst[j], self.n_act):
            if self.pid[k] != j:
                continue
            coord = self.ar[k] if rows else self.ac[k]
            side = 1 if coord - lo <= jj else 0
            if first_side < 0:
                first_side = side
            if side != first_side:
                self.pid[k] = new_id
        return True

    cdef void _piece_stats(self, int K, int n_pieces) noexcept nogil:
        """Recompute the statistics if step 4 split anything; order the pieces."""
        cdef int j, k
        if n_pieces != K:
            for j in range(n_pieces):
                self._zero_piece(j)
            for k in range(self.n_act):
                self._add_to_piece(self.pid[k], k)
        for j in range(n_pieces):
            self.keys[j].n = self.pn[j]
            self.keys[j].force = self.pforce[j]
            self.keys[j].id = j
        qsort(self.keys, n_pieces, sizeof(PieceKey), _cmp_piece)

    cdef inline int _was(self, int j) noexcept nogil:
        if self.pov0[j] > 0:
            return 0
        if self.pov1[j] > 0:
            return 1
        return -1

    cdef inline int _overlap(self, int j) noexcept nogil:
        return self.pov0[j] if self.pov0[j] > self.pov1[j] else self.pov1[j]

    cdef void _assign(self, int n_pieces) noexcept nogil:
        """Step 5 (see reference._assign)."""
        cdef int o, j, s, ng, np_, inside, target
        cdef int main[SLOTS]
        cdef double gap, best
        for s in range(SLOTS):
            main[s] = -1
            self.new_track[s] = False
        for o in range(n_pieces):
            j = self.keys[o].id
            self.owner[j] = -1
            self.released[j] = -1
        for o in range(n_pieces):
            j = self.keys[o].id
            s = self._was(j)
            if s >= 0 and (main[s] < 0 or self._overlap(j) > self._overlap(main[s])):
                main[s] = j
        for s in range(SLOTS):
            if main[s] >= 0:
                self.owner[main[s]] = s
        for o in range(n_pieces):
            j = self.keys[o].id
            s = self._was(j)
            if s < 0 or self.owner[j] >= 0:
                continue
            inside = self.pin0[j] if s == 0 else self.pin1[j]
            if inside == self.pn[j]:
                self.owner[j] = s
                continue
            ng = self._gather_group(s, True)
            np_ = self._gather_piece(j)
            if self._fits(ng, np_):
                self.owner[j] = s
            else:
                self.released[j] = s
        # free pieces, 1: join the nearest foot seen before that they lie near and fit with
        for o in range(n_pieces):
            j = self.keys[o].id
            if self.owner[j] >= 0:
                continue
            target = -1
            best = INFINITY
            np_ = -1
            for s in range(SLOTS):
                if main[s] < 0:
                    continue
                if np_ < 0:
                    np_ = self._gather_piece(j)
                if self._beyond_toes(s, np_) or self._beside(s, np_):
                    continue
                ng = self._gather_group(s, True)
                gap = self._gap(ng, np_)
                if gap <= self.fragment_gap + SLACK and gap < best and self._fits(ng, np_):
                    target = s
                    best = gap
            if target >= 0:
                self.owner[j] = target
        # 2-3: the rest gather into new feet
        self._new_feet(n_pieces, main)
        for o in range(n_pieces):
            j = self.keys[o].id
            if self.owner[j] < 0 and self.released[j] >= 0:
                self.owner[j] = self.released[j]

    cdef void _new_feet(self, int n_pieces, int* main) noexcept nogil:
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
            j = self.keys[o].id
            if self.owner[j] < 0 and nf < MAXC:
                free[nf] = j
                nf += 1
        if nf == 0:
            return
        # each free piece's sensels, contiguous in plist (raster order within a piece)
        n = 0
        for a in range(nf):
            poff[a] = n
            n += self._gather_piece_into(free[a], &self.plist[n])
            cid[a] = a
        poff[nf] = n
        for a in range(nf):
            for b in range(a + 1, nf):
                pgap[a][b] = self._gap_lists(&self.plist[poff[a]], poff[a + 1] - poff[a],
                                             &self.plist[poff[b]], poff[b + 1] - poff[b])
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
                        if g > self.fragment_gap + SLACK:
                            continue
                        if best_a < 0 or g < best_g:
                            best_g = g
                            best_a = ca
                            best_b = cb
                if best_a < 0:
                    break
                len_a = self._gather_cluster(cid, nf, best_a, poff, self.gbuf)
                len_b = self._gather_cluster(cid, nf, best_b, poff, self.pbuf)
                if self._fits(len_a, len_b):
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
                if cid[ca] != ca or self.owner[free[ca]] != -1:
                    continue
                n = 0
                total_f = 0.0
                for a in range(nf):
                    if cid[a] == ca:
                        n += self.pn[free[a]]
                        total_f += self.pforce[free[a]]
                if best_a < 0 or n > total_n or (n == total_n and total_f > best_g):
                    best_a = ca
                    total_n = n
                    best_g = total_f
            if best_a < 0:
                break
            released = False
            for a in range(nf):
                if cid[a] == best_a and self.released[free[a]] >= 0:
                    released = True
            fs = -1
            for s in range(SLOTS):
                if main[s] < 0:
                    fs = s
                    break
            if fs >= 0 and (best_g * self.area * 1e-3 >= self.min_foot_force or released):
                main[fs] = free[best_a]
                self.new_track[fs] = True
                for a in range(nf):
                    if cid[a] == best_a:
                        self.owner[free[a]] = fs
            else:
                for a in range(nf):
                    if cid[a] == best_a:
                        self.owner[free[a]] = -2  # considered: stays free
        for a in range(nf):
            if self.owner[free[a]] == -2:
                self.owner[free[a]] = -1

    cdef int _gather_piece_into(self, int j, int* out) noexcept nogil:
        cdef int k, n = 0
        self._lists()
        for k in range(self.n_act):
            if self.pid[k] == j:
                out[n] = self.act[k]
                n += 1
        return n

    cdef int _gather_cluster(self, int* cid, int nf, int c, int* poff, int* out) noexcept nogil:
        cdef int a, k, n = 0
        for a in range(nf):
            if cid[a] != c:
                continue
            for k in range(poff[a], poff[a + 1]):
                out[n] = self.plist[k]
                n += 1
        return n

    cdef inline void _release(self, int gone, int r, int c0, int c1) noexcept nogil:
        """Active sensels (r, c0..c1-1), taken for part of another foot: out of slot gone's
        stance footprint (a neighbour is not its footprint)."""
        cdef int c, i
        cdef double x, y = self.ys[r]
        cdef Slot* sl = &self.slots[gone]
        cdef unsigned char* mask = &self.fp[gone * self.N + r * self.C]
        for c in range(c0, c1):
            if not mask[c]:
                continue
            mask[c] = 0
            x = self.xs[c]
            sl.dirty = True
            sl.un -= 1.0
            sl.usx -= x
            sl.usy -= y
            sl.usxx -= x * x
            sl.usyy -= y * y
            sl.usxy -= x * y

    cdef inline void _grow(self, int s, int r, int c0, int c1) noexcept nogil:
        """Active sensels (r, c0..c1-1) into slot s's stance footprint (moments, bounding box)."""
        cdef int c
        cdef double x, y = self.ys[r]
        cdef Slot* sl = &self.slots[s]
        cdef unsigned char* mask = &self.fp[s * self.N + r * self.C]
        for c in range(c0, c1):
            if mask[c]:
                continue  # the common case: already in the footprint
            mask[c] = 1
            x = self.xs[c]
            sl.dirty = True
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

    cdef double _update_feet(self, int n_pieces) noexcept nogil:
        """Step 6: stray force, released sensels, tracks, stance footprints, foot map."""
        cdef int j, k, i, s, q, c0, c1, gone, n_foot = 0
        cdef double stray = 0.0
        cdef int count[SLOTS]
        cdef Slot* sl
        cdef signed char* prev = self.prev_slot
        for j in range(n_pieces):
            if self.owner[j] < 0:
                stray += self.pforce[j]
        # new contacts start afresh (remembering the length of a stance that ended)
        for s in range(SLOTS):
            count[s] = 0
            sl = &self.slots[s]
            if self.new_track[s]:
                if sl.live and sl.side >= 0 and sl.geom.length > self.stance_length[sl.side]:
                    self.stance_length[sl.side] = sl.geom.length
                self._clear_slot(s)
                sl.live = True
                sl.track_id = self.next_track_id
                self.next_track_id += 1
        # forget last frame's foot map
        for k in range(self.n_foot):
            gk_fill(&prev[self.foot_list[k]], self.foot_len[k], -1)
        # one pass: released sensels out of their old footprint, the new foot map, and
        # the stance footprints grown by this frame's sensels
        if self.split:
            # a blob was split: pieces are per sensel (foot-map runs of one sensel)
            for k in range(self.n_act):
                j = self.pid[k]
                s = self.owner[j]
                gone = self.released[j]
                if gone >= 0 and s != gone:
                    self._release(gone, self.ar[k], self.ac[k], self.ac[k] + 1)
                if s < 0:
                    continue
                count[s] += 1
                i = self.act[k]
                prev[i] = s
                self.foot_list[n_foot] = i
                self.foot_len[n_foot] = 1
                n_foot += 1
                self._grow(s, self.ar[k], self.ac[k], self.ac[k] + 1)
        else:
            # every run lies in one piece: memset the foot map run by run
            for q in range(self.n_runs):
                j = self.run_pid[q]
                s = self.owner[j]
                gone = self.released[j]
                c0 = self.run_c0[q]
                c1 = self.run_c1[q]
                k = self.run_k0[q]
                if gone >= 0 and s != gone:
                    self._release(gone, self.run_r[q], c0, c1)
                if s < 0:
                    continue
                count[s] += c1 - c0
                i = self.run_r[q] * self.C + c0
                gk_fill(&prev[i], c1 - c0, s)
                self.foot_list[n_foot] = i
                self.foot_len[n_foot] = c1 - c0
                n_foot += 1
                self._grow(s, self.run_r[q], c0, c1)
        self.n_foot = n_foot
        for s in range(SLOTS):
            sl = &self.slots[s]
            if count[s] == 0:
                if sl.live and sl.side >= 0 and sl.geom.length > self.stance_length[sl.side]:
                    self.stance_length[sl.side] = sl.geom.length  # this stance has ended
                if sl.live or sl.un != 0.0:
                    self._clear_slot(s)
            else:
                sl.frames += 1
        for s in range(SLOTS):
            if self.slots[s].live and self.slots[s].dirty:
                self._slot_geom(s)
                self.slots[s].dirty = False
        return stray

    cdef int _arch_side(self, int s) noexcept nogil:
        """0 left / 1 right from where the midfoot sensels of the stance footprint lie, -1."""
        cdef Slot* sl = &self.slots[s]
        cdef Geom* g = &sl.geom
        cdef unsigned char* mask = &self.fp[s * self.N]
        cdef int r, c, n = 0
        cdef double x, y, along, right = 0.0, offset
        if g.length < self.full_footprint:
            return -1
        for r in range(sl.ur0, sl.ur1 + 1):
            for c in range(sl.uc0, sl.uc1 + 1):
                if not mask[r * self.C + c]:
                    continue
                x = self.xs[c] - g.mx
                y = self.ys[r] - g.my
                along = x * g.ux + y * g.uy - g.heel_s
                if along >= REGION_0 * g.length + SLACK and along < REGION_1 * g.length + SLACK:
                    right += x * g.uy - y * g.ux
                    n += 1
        if n == 0:
            return -1
        offset = right / n
        if offset <= -self.arch_offset + SLACK:
            return 0
        if offset >= self.arch_offset - SLACK:
            return 1
        return -1

    cdef void _decide_sides(self) noexcept nogil:
        """Step 7 (see reference._decide_sides)."""
        cdef Slot* a
        cdef Slot* b
        cdef int s, n_live = 0, only = -1, side
        cdef double ax, bx, lx, rx
        for s in range(SLOTS):
            if self.slots[s].live:
                n_live += 1
                only = s
        if n_live == 2:
            a = &self.slots[0]
            b = &self.slots[1]
            ax = a.geom.mx
            bx = b.geom.mx
            if a.side < 0 and b.side >= 0:
                a.side = 1 - b.side
            elif b.side < 0 and a.side >= 0:
                b.side = 1 - a.side
            elif a.side < 0 and b.side < 0 and fabs(ax - bx) >= self.side_min_dx - SLACK:
                if ax < bx:
                    a.side = 0
                    b.side = 1
                else:
                    a.side = 1
                    b.side = 0
        elif n_live == 1:
            a = &self.slots[only]
            lx = self.last_x[0]
            rx = self.last_x[1]
            if (a.side < 0 and self.has_last_x[0] and self.has_last_x[1]
                    and fabs(lx - rx) >= self.side_min_dx - SLACK):
                ax = a.geom.mx
                a.side = 0 if fabs(ax - lx) <= fabs(ax - rx) + SLACK else 1
        # anatomy: the loaded band of the midfoot lies lateral
        for s in range(SLOTS):
            a = &self.slots[s]
            if a.live and a.side < 0:
                side = self._arch_side(s)
                if side >= 0 and not (self.slots[1 - s].live and self.slots[1 - s].side == side):
                    a.side = side
        if n_live == 2:
            a = &self.slots[0]
            b = &self.slots[1]
            if a.side < 0 and b.side >= 0:
                a.side = 1 - b.side
            elif b.side < 0 and a.side >= 0:
                b.side = 1 - a.side
        for s in range(SLOTS):
            a = &self.slots[s]
            if a.live and a.side >= 0:
                self.last_x[a.side] = a.geom.mx
                self.has_last_x[a.side] = True
                if a.geom.length > self.foot_length[a.side]:
                    self.foot_length[a.side] = a.geom.length

    cdef void _sums(self, int s, bint regions, double cut0, double cut1, double* force,
                    double* sx, double* sy, double* pk, int* n, int* r0, int* r1, int* c0,
                    int* c1, double* reg) noexcept nogil:
        """Force, COP sums, peak, area, bounding box and region loads of slot s's sensels
        (one pass, accumulating in locals)."""
        cdef Geom* g = &self.slots[s].geom
        cdef int k, i, r, c, cnt = 0, rmin = self.R, rmax = -1, cmin = self.C, cmax = -1
        cdef double v, x, y, along, f = 0.0, ax = 0.0, ay = 0.0, peak = 0.0
        cdef double rear = 0.0, mid = 0.0, fore = 0.0
        cdef double mx = g.mx, my = g.my, ux = g.ux, uy = g.uy, heel = g.heel_s
        for k in range(self.n_act):
            i = self.act[k]
            if self.prev_slot[i] != s:
                continue
            r = self.ar[k]
            c = self.ac[k]
            x = self.xs[c]
            y = self.ys[r]
            v = self.fr[i]
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

    cdef void _sums_runs(self, bint* regions, double* cut0, double* cut1, double* force,
                         double* sx, double* sy, double* pk, int* n, int* r0, int* r1, int* c0,
                         int* c1, double (*reg)[3]) noexcept nogil:
        """What _sums gives, for both slots in one pass over the runs (when no blob was
        split, each run lies in one piece, so in one foot). Force and COP sums come from
        the runs' sums; only the region split visits the sensels."""
        cdef int q, s, r, c, a, b, i, first, last
        cdef double v, y, dy, along, rear, mid, fore, k0, k1
        cdef Geom* g
        for q in range(self.n_runs):
            s = self.owner[self.run_pid[q]]
            if s < 0:
                continue
            r = self.run_r[q]
            a = self.run_c0[q]
            b = self.run_c1[q]
            y = self.ys[r]
            force[s] += self.run_f[q]
            sx[s] += self.run_sx[q]
            sy[s] += self.run_f[q] * y
            n[s] += b - a
            if self.run_pk[q] > pk[s]:
                pk[s] = self.run_pk[q]
            if r < r0[s]:
                r0[s] = r
            r1[s] = r  # raster order
            if a < c0[s]:
                c0[s] = a
            if b - 1 > c1[s]:
                c1[s] = b - 1
            if regions[s]:
                g = &self.slots[s].geom
                dy = (y - g.my) * g.uy
                k0 = cut0[s]
                k1 = cut1[s]
                # along (the reference's expression, rounding included) is monotonic in
                # the column: every rounded step of it is. So a run whose two ends lie in
                # one region lies wholly in it, and most runs do.
                along = (self.xs[a] - g.mx) * g.ux + dy - g.heel_s
                first = 0 if along < k0 else (1 if along < k1 else 2)
                along = (self.xs[b - 1] - g.mx) * g.ux + dy - g.heel_s
                last = 0 if along < k0 else (1 if along < k1 else 2)
                if first == last:
                    reg[s][first] += self.run_f[q]
                    continue
                rear = 0.0
                mid = 0.0
                fore = 0.0
                i = r * self.C
                for c in range(a, b):
                    v = self.fr[i + c]
                    along = (self.xs[c] - g.mx) * g.ux + dy - g.heel_s
                    if along < k0:
                        rear += v
                    elif along < k1:
                        mid += v
                    else:
                        fore += v
                reg[s][0] += rear
                reg[s][1] += mid
                reg[s][2] += fore

    cdef tuple _feet(self):
        """Per-foot sums and result objects, ordered left, right, unknown (by COP x)."""
        cdef int k, i, j, s, r, c, n_live = 0
        cdef double v, x, y, along, length
        cdef FootResult foot, first = None
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
            sl = &self.slots[s]
            force[s] = 0.0
            sx[s] = 0.0
            sy[s] = 0.0
            pk[s] = 0.0
            reg[s][0] = 0.0
            reg[s][1] = 0.0
            reg[s][2] = 0.0
            n[s] = 0
            r0[s] = self.R
            r1[s] = -1
            c0[s] = self.C
            c1[s] = -1
            length = sl.geom.length
            if sl.side >= 0 and self.foot_length[sl.side] > length:
                length = self.foot_length[sl.side]
            has_regions[s] = sl.live and length >= self.min_region_len
            cut0[s] = REGION_0 * length + SLACK
            cut1[s] = REGION_1 * length + SLACK
            if sl.live:
                n_live += 1
        if n_live == 0:
            return ()
        if not self.split:
            self._sums_runs(has_regions, cut0, cut1, force, sx, sy, pk, n, r0, r1, c0, c1, reg)
        else:
            for s in range(SLOTS):
                if self.slots[s].live:
                    self._sums(s, has_regions[s], cut0[s], cut1[s], &force[s], &sx[s], &sy[s],
                               &pk[s], &n[s], &r0[s], &r1[s], &c0[s], &c1[s], reg[s])
        for s in range(SLOTS):
            sl = &self.slots[s]
            if not sl.live:
                continue
            g = &sl.geom
            sl.heel_loaded = not has_regions[s] or reg[s][0] > HEEL_OFF_SHARE * force[s]
            foot = FootResult.__new__(FootResult)
            foot.track_id = sl.track_id
            foot.side = None if sl.side < 0 else (_LEFT if sl.side == 0 else _RIGHT)
            foot.force_n = force[s] * self.scale
            foot.cx = sx[s] / force[s]
            foot.cy = sy[s] / force[s]
            foot.contact_area_mm2 = n[s] * self.area
            foot.peak_kpa = pk[s]
            foot.has_regions = has_regions[s]
            foot.rear = reg[s][0] * self.scale
            foot.mid = reg[s][1] * self.scale
            foot.fore = reg[s][2] * self.scale
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
            elif self._second_first(force, sx):
                return (foot, first)
            else:
                return (first, foot)
        return (first,)

    cdef bint _second_first(self, double* force, double* sx):
        """Whether slot 1's foot sorts before slot 0's: left, right, unknown; then COP x."""
        cdef int rank0 = self.slots[0].side if self.slots[0].side >= 0 else 2
        cdef int rank1 = self.slots[1].side if self.slots[1].side >= 0 else 2
        cdef double x0 = sx[0] / force[0], x1 = sx[1] / force[1]
        if rank0 != rank1:
            return rank1 < rank0
        if x0 != x1:
            return x1 < x0
        return self.slots[1].track_id < self.slots[0].track_id


cdef class InsoleKernel:
    """Compiled twin of :class:`kernels.reference.InsoleKernel`."""

    cdef int n
    cdef double[::1] x, y, area
    cdef int[::1] region
    cdef double thr, min_force

    def __init__(self, geometry):
        self.n = geometry.n
        self.x = geometry.x_mm
        self.y = geometry.y_mm
        self.area = geometry.area_mm2
        self.region = geometry.region
        self.thr = geometry.threshold_kpa
        self.min_force = geometry.min_force_n

    def analyze(self, frame):
        if not (cnp.PyArray_Check(frame)
                and cnp.PyArray_TYPE(<cnp.ndarray>frame) == cnp.NPY_FLOAT32
                and cnp.PyArray_NDIM(<cnp.ndarray>frame) == 1
                and cnp.PyArray_DIM(<cnp.ndarray>frame, 0) == self.n
                and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>frame)):
            check_insole_frame(frame, self.n)
            raise FrameError("unsupported insole frame")
        cdef const float* f = <const float*>cnp.PyArray_DATA(<cnp.ndarray>frame)
        cdef int i, n_inv = 0, n_neg = 0
        cdef double v, load, total = 0.0, sx = 0.0, sy = 0.0, peak = 0.0
        cdef double reg[3]
        reg[0] = 0.0
        reg[1] = 0.0
        reg[2] = 0.0
        for i in range(self.n):
            v = f[i]
            if v != v or v == INFINITY or v == -INFINITY:
                n_inv += 1
                continue
            if v < 0:
                n_neg += 1
                continue
            if v > peak:
                peak = v
            if v < self.thr:
                continue
            load = v * self.area[i]
            total += load
            sx += load * self.x[i]
            sy += load * self.y[i]
            reg[self.region[i]] += load
        force = total * 1e-3
        cop = None
        if force >= self.min_force and total > 0:
            cop = (sx / total, sy / total)
        return InsoleResult(force, cop, (reg[0] * 1e-3, reg[1] * 1e-3, reg[2] * 1e-3), peak,
                            n_inv, n_neg)
