# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# Per-frame analysis, compiled (docs/frame-analysis.md): what all its steps share.
# Not a step itself: the compiled analyzer's buffers (allocated once, sized by the mat),
# the two foot slots and what is remembered between frames, the constants of the steps,
# and the principal axis that steps 4 and the footprint both compute.
# The steps are included into kernels/_frame.pyx, one file each, in the order it runs
# them (the order of kernels/reference.py): one C module, so the compiler inlines across
# steps as it did when they were one file. (One cimported module per step ran 0.3-3 %
# slower per frame on every mat size, with the same instruction count: calls through
# module pointers; docs/performance.md, "Per-frame analysis".)
#   _frame_scan.pxi       1 Threshold, 2 Blobs (row runs, labels, blob statistics)
#   _frame_split.pxi      3 Two feet in one blob
#   _frame_assign.pxi     4 Pieces to feet
#   _frame_tandem.pxi     5 Tandem walking (and a blob wholly beside a whole footprint)
#   _frame_footprint.pxi  the stance footprint and track of each foot
#   _frame_sides.pxi      Sides
#   _frame_regions.pxi    Regions, and the per-foot results ("What you get per mat frame")
# The result types are the module _frame_results (.pxd/.pyx), the insole kernel
# _frame_insole.pyx ("Insoles").

cimport cython
from libc.math cimport atan2, cos, fabs, sin

cdef enum:
    SLOTS = 2
    MAXC = 32  # free pieces grouped into new feet per frame (reference.MAX_CLUSTER_PIECES)

# C constants, so the compiler folds them (a module variable is read from memory).
cdef extern from *:
    """
    #define GK_REGION_0 0.27
    #define GK_REGION_1 0.55
    #define GK_HEEL_OFF_SHARE 0.15
    #define GK_FRONT_BAND 0.1
    #define GK_TOES_FRONT_RATIO 0.65
    #define GK_SLACK 1e-6
    """
    const double REGION_0 "GK_REGION_0"  # region cut-offs, share of the foot length (Regions)
    const double REGION_1 "GK_REGION_1"
    const double HEEL_OFF_SHARE "GK_HEEL_OFF_SHARE"  # see reference.HEEL_OFF_SHARE
    const double FRONT_BAND "GK_FRONT_BAND"  # see reference.FRONT_BAND
    const double TOES_FRONT_RATIO "GK_TOES_FRONT_RATIO"  # see reference.TOES_FRONT_RATIO
    const double SLACK "GK_SLACK"  # tie-breaking slack, mm (see reference.SLACK)


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
    bint grew  # last frame added sensels to the stance footprint


cdef struct PieceKey:
    int n
    double force
    int id


@cython.final  # direct (inlinable) calls, no vtable
cdef class FrameKernel:

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
    cdef bint split  # a blob was split this frame (step 3)
    cdef bint lists_ok  # act, ar, ac, pid hold this frame's sensels (see _lists)
    cdef const float* fr  # the frame being analysed (valid inside analyze only)
    cdef int n_act
    cdef int nlab  # provisional labels given by the scan this frame
    cdef float thr_f  # the smallest float >= threshold_kpa: float compares == double compares
    cdef int* parent
    cdef int* root_id
    cdef int* pid
    # per component / piece (capacity N)
    cdef int* cfirst
    cdef int* cr0
    cdef int* cr1
    cdef int* cc0
    cdef int* cc1
    cdef int* pn
    cdef double* pforce
    cdef int* pov0
    cdef int* pov1
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

    cpdef reset(self)


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
