# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# steps 1 Threshold and 2 Blobs (kernels/reference.py steps 1-3: clean, threshold, totals,
# 8-connected blobs in raster order). One pass over the frame: empty rows skipped with a
# vector compare, loaded sensels as row runs with their sums, union-find labels per run;
# then each blob's statistics (they are the pieces unless step 3 splits one).

from libc.math cimport INFINITY


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
    static inline int gk_ctz64(uint64_t x) { return __builtin_ctzll(x); }
    """
    int gk_unusual(const float* f, int n, float thr) noexcept nogil
    void gk_rows(const float* f, int R, int C, float thr, unsigned char* flags) noexcept nogil
    void gk_rows_base(const float* f, int R, int C, float thr, unsigned char* flags) noexcept nogil
    int gk_init_rows() noexcept nogil
    int gk_select_rows(int avx2) noexcept nogil
    unsigned long long gk_row_mask(const float* f, int n, float thr, int* odd) noexcept nogil
    int gk_ctz64(unsigned long long x) noexcept nogil


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


cdef int select_rows(int avx2) noexcept nogil:
    """The empty-row scan: AVX2 if asked for and the CPU has it, else the baseline SSE2 /
    plain path; returns 1 when AVX2 is now used (kernels._frame.AVX2)."""
    return gk_select_rows(avx2)


cdef inline int _find(FrameKernel st, int a) noexcept nogil:
    cdef int root = a, nxt
    while st.parent[root] != root:
        root = st.parent[root]
    while st.parent[a] != root:  # path compression
        nxt = st.parent[a]
        st.parent[a] = root
        a = nxt
    return root


cdef inline int _union(FrameKernel st, int a, int b) noexcept nogil:
    # a may be -1 (no label yet); returns the merged root (the smaller label)
    cdef int rb = _find(st, b), ra
    if a < 0:
        return rb
    ra = _find(st, a)
    if ra == rb:
        return ra
    if ra < rb:
        st.parent[rb] = ra
        return ra
    st.parent[ra] = rb
    return rb


cdef void _scan(FrameKernel st, const float* f, int* n_inv, int* n_neg, double* total, double* spx,
                double* spy, double* peak) noexcept nogil:
    """Steps 1-3 in one pass: clean, threshold, totals; the active sensels in raster
    order, as row runs (a run: loaded sensels side by side in one row) with their sums,
    and the runs' provisional labels (union-find; a run touches a run of the row below
    when their column ranges, each widened by one, overlap: 8-connectivity)."""
    cdef int r, c, a, b, i, n = 0, C = st.C, w, wn, s, ln, q, p, p_end, lab_, odd
    cdef int nr = 0, row_q0, prev_q0 = 0, prev_q1 = 0, last_row = -2
    cdef unsigned long long m, x
    cdef float v, thr = st.thr_f
    cdef double dv, t = 0.0, sx = 0.0, sy = 0.0, pk = 0.0, rf, rsx, rpk, rowsum
    cdef int* run_c0 = st.run_c0
    cdef int* run_c1 = st.run_c1
    cdef int* run_lab = st.run_lab
    st.nlab = 0
    gk_rows(f, st.R, C, thr, st.row_flag)
    for r in range(st.R):
        if not st.row_flag[r]:
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
                lab_ = _union(st, lab_, run_lab[p_end])
                p_end += 1
            if lab_ < 0:
                lab_ = st.nlab
                st.parent[lab_] = lab_
                st.nlab += 1
            run_lab[q] = lab_
            st.run_r[q] = r
            st.run_k0[q] = n
            rf = 0.0
            rsx = 0.0
            rpk = 0.0
            n += b - a
            for c in range(a, b):
                dv = f[i + c]
                rf += dv
                rsx += dv * st.xs[c]
                if dv > rpk:
                    rpk = dv
            st.run_f[q] = rf
            st.run_sx[q] = rsx
            st.run_pk[q] = rpk
            t += rf
            sx += rsx
            rowsum += rf
            if rpk > pk:
                pk = rpk
        sy += rowsum * st.ys[r]
        if nr > row_q0:
            prev_q0 = row_q0
            prev_q1 = nr
            last_row = r
    if n == 0:
        # nothing active: the peak is the highest sub-threshold value
        pk = gk_max(f, st.R * C)
    st.n_act = n
    st.n_runs = nr
    st.lists_ok = False
    total[0] = t
    spx[0] = sx
    spy[0] = sy
    peak[0] = pk


cdef int _label(FrameKernel st) noexcept nogil:
    """Step 3: 8-connected components numbered in raster order of their first sensel,
    with their statistics (they are the pieces unless step 4 splits one); run by run."""
    cdef int q, k, k0, k1, i, i0, r, c0, c1, l, nlab = st.nlab, root, K = 0, j
    cdef int o0, o1, n0, n1
    cdef signed char was
    cdef signed char* prev = st.prev_slot
    cdef unsigned char* fp0 = st.fp
    cdef unsigned char* fp1 = &st.fp[st.N]
    # Every label points at a smaller one or itself, so one forward pass flattens.
    for l in range(nlab):
        st.parent[l] = st.parent[st.parent[l]]
        st.root_id[l] = -1
    for q in range(st.n_runs):
        root = st.parent[st.run_lab[q]]
        j = st.root_id[root]
        r = st.run_r[q]
        c0 = st.run_c0[q]
        c1 = st.run_c1[q]
        k0 = st.run_k0[q]
        k1 = k0 + c1 - c0
        if j < 0:
            j = K
            st.root_id[root] = K
            K += 1
            st.cfirst[j] = k0
            st.cr0[j] = r
            st.cc0[j] = c0
            st.cc1[j] = c1 - 1
            _zero_piece(st, j)
        st.run_pid[q] = j
        o0 = o1 = n0 = n1 = 0
        i0 = r * st.C
        for i in range(i0 + c0, i0 + c1):
            was = prev[i]
            o0 += was == 0
            o1 += was == 1
            n0 += fp0[i]
            n1 += fp1[i]
        st.pn[j] += c1 - c0
        st.pforce[j] += st.run_f[q]
        st.pov0[j] += o0
        st.pov1[j] += o1
        st.pin0[j] += n0
        st.pin1[j] += n1
        st.cr1[j] = r  # raster order: rows never decrease
        if c0 < st.cc0[j]:
            st.cc0[j] = c0
        if c1 - 1 > st.cc1[j]:
            st.cc1[j] = c1 - 1
    return K


cdef void _lists(FrameKernel st) noexcept nogil:
    """The active sensels one by one (flat index, row, column, piece), from the runs.
    Only the rarer steps need them (splitting a blob, fitting a piece to a foot,
    grouping new feet), so they are built on first use in a frame."""
    cdef int q, c, k = 0, i, r, j
    if st.lists_ok:
        return
    for q in range(st.n_runs):
        r = st.run_r[q]
        i = r * st.C
        j = st.run_pid[q]
        for c in range(st.run_c0[q], st.run_c1[q]):
            st.act[k] = i + c
            st.ar[k] = r
            st.ac[k] = c
            st.pid[k] = j
            k += 1
    st.lists_ok = True


cdef inline void _zero_piece(FrameKernel st, int j) noexcept nogil:
    st.pn[j] = 0
    st.pforce[j] = 0.0
    st.pov0[j] = 0
    st.pov1[j] = 0
    st.pin0[j] = 0
    st.pin1[j] = 0


cdef inline void _add_to_piece(FrameKernel st, int j, int k) noexcept nogil:
    cdef int i = st.act[k]
    cdef signed char was = st.prev_slot[i]
    st.pn[j] += 1
    st.pforce[j] += st.fr[i]
    if was == 0:
        st.pov0[j] += 1
    elif was == 1:
        st.pov1[j] += 1
    if st.fp[i]:
        st.pin0[j] += 1
    if st.fp[st.N + i]:
        st.pin1[j] += 1
