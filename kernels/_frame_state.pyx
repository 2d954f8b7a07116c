# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# Per-frame analysis, compiled (docs/frame-analysis.md): the state all its steps share.
# Not a step itself: allocates and frees one analyzer's buffers, once, sized by the mat
# (declarations and the list of steps: _frame_state.pxd).

from libc.stdlib cimport free, malloc


cdef class FrameState:

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
        self.cfirst = <int*>malloc(n * sizeof(int))
        self.cr0 = <int*>malloc(n * sizeof(int))
        self.cr1 = <int*>malloc(n * sizeof(int))
        self.cc0 = <int*>malloc(n * sizeof(int))
        self.cc1 = <int*>malloc(n * sizeof(int))
        self.pn = <int*>malloc(n * sizeof(int))
        self.pforce = <double*>malloc(n * sizeof(double))
        self.pov0 = <int*>malloc(n * sizeof(int))
        self.pov1 = <int*>malloc(n * sizeof(int))
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
                or self.pid == NULL or self.cfirst == NULL
                or self.cr0 == NULL or self.cr1 == NULL or self.cc0 == NULL or self.cc1 == NULL
                or self.pn == NULL or self.pforce == NULL or self.pov0 == NULL or self.pov1 == NULL
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
        free(self.parent); free(self.root_id); free(self.pid)
        free(self.cfirst); free(self.cr0); free(self.cr1); free(self.cc0)
        free(self.cc1); free(self.pn); free(self.pforce)
        free(self.pov0); free(self.pov1)
        free(self.pin0); free(self.pin1); free(self.gbuf); free(self.pbuf); free(self.plist)
        free(self.owner); free(self.released); free(self.keys)
        free(self.profile); free(self.row_flag); free(self.prev_slot); free(self.foot_list)
        free(self.fp)
