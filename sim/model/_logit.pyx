# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Inverse-CDF draws of the logit choice, compiled (optional build of :mod:`sim.model.choice`; the
numpy functions there give the same floats when it is absent). Sums run in the order of the
alternatives, one addition at a time, as ``np.cumsum`` does."""

import numpy as np


cdef inline Py_ssize_t _first_above(
    const double[:, ::1] weight, Py_ssize_t col, double factor, Py_ssize_t slot, double target,
    double* before, double* chosen,
) noexcept nogil:
    """Alternative whose cumulative weight (row ``col``, alternative ``slot`` times ``factor``) first
    exceeds ``target``, as ``min(sum(cum <= target), alternatives - 1)``; a zero-weight alternative
    found by rounding gives way to the last positive one. Sets the cumulative weight before it and
    its weight."""
    cdef Py_ssize_t m = weight.shape[1], i, count = m, k
    cdef double cum = 0.0, nxt, w
    for i in range(m):  # weights are >= 0, so the cumulative weights <= target are a prefix
        w = weight[col, i] * factor if i == slot else weight[col, i]
        nxt = w if i == 0 else cum + w
        if not nxt <= target:  # (a NaN target counts nothing, as the full count would)
            count = i
            break
        cum = nxt
    k = count if count < m - 1 else m - 1
    w = weight[col, k] * factor if k == slot else weight[col, k]
    if w <= 0:
        k = m - 1
        for i in range(m - 1, -1, -1):
            w = weight[col, i] * factor if i == slot else weight[col, i]
            if w > 0:
                k = i
                break
    if k != count:  # cum holds the weights before ``count``: add them up to ``k`` again
        cum = 0.0
        for i in range(k):
            w = weight[col, i] * factor if i == slot else weight[col, i]
            cum = w if i == 0 else cum + w
    before[0] = cum
    chosen[0] = weight[col, k] * factor if k == slot else weight[col, k]
    return k


def row_totals(const double[:, ::1] weight, const long long[::1] col, const int[::1] slot,
                  const double[::1] factor):
    """Per chooser, the sum of row ``col`` of ``weight`` (rows, alternatives), alternative ``slot``
    (-1: none) multiplied by ``factor`` first."""
    cdef Py_ssize_t n = col.shape[0], m = weight.shape[1], j, i, c, s
    cdef double cum, w, f
    out = np.empty(n)
    cdef double[::1] total = out
    with nogil:
        for j in range(n):
            c, s, f = col[j], slot[j], factor[j]
            cum = 0.0
            for i in range(m):
                w = weight[c, i] * f if i == s else weight[c, i]
                cum = w if i == 0 else cum + w
            total[j] = cum
    return out


def row_pick(const double[:, ::1] weight, const long long[::1] col, const int[::1] slot,
                const double[::1] factor, const double[::1] target):
    """Per chooser, the alternative picked by ``target`` (0 < target <= total) in the cumulative
    weights of :func:`row_totals`, and where in its interval (0..1)."""
    cdef Py_ssize_t n = col.shape[0], j, k
    cdef double before = 0.0, chosen = 0.0, within
    rows = np.empty(n, dtype=np.int64)
    at = np.empty(n)
    cdef long long[::1] k_out = rows
    cdef double[::1] within_out = at
    with nogil:
        for j in range(n):
            k = _first_above(weight, col[j], factor[j], slot[j], target[j], &before, &chosen)
            within = (target[j] - before) / chosen
            within_out[j] = 0.0 if within < 0.0 else (1.0 if within > 1.0 else within)
            k_out[j] = k
    return rows, at


def scaled_pick(const double[:, ::1] weight, const long long[::1] col, const double[::1] within):
    """Per chooser, the alternative picked by ``within`` times the total of row ``col``: the mode
    drawn by the uniform rescaled within the chosen facility."""
    cdef Py_ssize_t n = col.shape[0], m = weight.shape[1], j, i, c
    cdef double cum, before = 0.0, chosen = 0.0
    rows = np.empty(n, dtype=np.int64)
    cdef long long[::1] k_out = rows
    with nogil:
        for j in range(n):
            c, cum = col[j], 0.0
            for i in range(m):
                cum = weight[c, i] if i == 0 else cum + weight[c, i]
            k_out[j] = _first_above(weight, c, 1.0, -1, within[j] * cum, &before, &chosen)
    return rows



cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define SIM_PREFETCH(p) __builtin_prefetch(p)
    #else
    #define SIM_PREFETCH(p) ((void)0)
    #endif
    """
    void SIM_PREFETCH(const void* p) noexcept nogil


def kept_pick(const double[:, ::1] weight, const long long[:, ::1] pos, const int[:, ::1] slot_of,
              const double[:, ::1] left_out, const double[::1] left_total, const long long[::1] cand,
              const long long[::1] row, const long long[::1] col, const double[::1] factor,
              const double[::1] u, const long long[::1] forced, const long long[::1] mem_fac,
              const double[:, ::1] owned, const long long[::1] base):
    """The first stage of the two-stage draw, one chooser at a time: the region of the uniform's
    interval (0 kept candidates, 1 a remembered left-out facility, 2 the other left-out ones, -1
    referred, -2 no weight in float range, -3 region 2 where the other left-out weights add up to
    0) and, in regions 0 to 2, the facility and the mode; in region -3 the uniform rescaled within
    the left-out weight. Rows of ``owned`` (the owned modes' weights) are ``base + facility``.

    Passes over the choosers (the gathers, the draw, region 2, the mode), each with few dependent
    memory reads per chooser, so that the reads of several choosers overlap."""
    cdef Py_ssize_t n = row.shape[0], last = slot_of.shape[0] - 1, n_cand = cand.shape[0]
    cdef Py_ssize_t m = weight.shape[1], n_modes = owned.shape[1], j, i, r, c, s, k, p, f, o
    cdef Py_ssize_t ahead = 16
    cdef double cum, w, fj, total, extra, left, kept_extra, target, within
    cdef double before = 0.0, chosen = 0.0
    fac_out = np.full(n, -1, dtype=np.int64)
    mode_out = np.full(n, -1, dtype=np.int64)
    region_out = np.empty(n, dtype=np.int8)
    scaled_out = np.zeros(n)  # region 2: the rescaled uniform; regions 0 and 1: where in the facility
    slot_arr = np.empty(n, dtype=np.intp)
    remembered_arr = np.empty(n)
    cdef long long[::1] fac_v = fac_out
    cdef long long[::1] mode_v = mode_out
    cdef signed char[::1] region_v = region_out
    cdef double[::1] scaled_v = scaled_out
    cdef Py_ssize_t[::1] slot_v = slot_arr
    cdef double[::1] remembered_v = remembered_arr
    cdef double[:, ::1] buf_v = np.zeros((1, n_cand))
    cdef double[:, ::1] cums = np.zeros((4, m))
    cdef Py_ssize_t g, q
    cdef Py_ssize_t rq[4]
    cdef Py_ssize_t sq[4]
    cdef double fq[4]
    cdef double cumq[4]
    cdef signed char region
    with nogil:
        for j in range(n):  # the gathers: slot and left-out weight of the remembered candidate
            c = col[j] if col[j] >= 0 else last  # -1 (no remembered candidate): the last row
            slot_v[j] = slot_of[c, row[j]]
            remembered_v[j] = left_out[c, row[j]]
        for g in range(0, n, 4):  # the draw among the kept candidates, or the region outside them
            for q in range(4):  # four choosers' sums side by side (the last of them again past n)
                j = g + q if g + q < n else n - 1
                rq[q], fq[q], sq[q] = row[j], factor[j], slot_v[j]
                if j + ahead < n:
                    for i in range(0, m, 8):
                        SIM_PREFETCH(&weight[row[j + ahead], i])
            for i in range(m):  # cumulative weights, one addition at a time (as np.cumsum)
                for q in range(4):
                    w = weight[rq[q], i] * fq[q] if i == sq[q] else weight[rq[q], i]
                    cumq[q] = w if i == 0 else cumq[q] + w
                    cums[q, i] = cumq[q]
            for q in range(4):
                j = g + q
                if j >= n:
                    break
                r, fj, s = rq[q], fq[q], sq[q]
                total = cumq[q]
                extra = remembered_v[j] * fj
                left = left_total[r] - remembered_v[j]
                left = left if (left > 0.0 or left != left) else 0.0  # as np.maximum(left, 0.0)
                kept_extra = total + extra
                target = u[j] * (kept_extra + left)
                region = (1 if target >= total else 0) + (1 if target >= kept_extra else 0)
                if region == 2 and left <= 0:
                    region = 1
                if region == 1 and extra <= 0:
                    region = 0
                if forced[j] >= 0:
                    region = -1
                elif kept_extra + left <= 0:
                    region = -2
                region_v[j] = region
                if region == 0:  # as _first_above, on the cumulative weights at hand
                    k = m
                    for i in range(m):
                        if not cums[q, i] <= target:  # (a NaN target counts nothing)
                            k = i
                            break
                    k = k if k < m - 1 else m - 1
                    w = weight[r, k] * fj if k == s else weight[r, k]
                    if w <= 0:  # a zero weight found by rounding: the last positive one
                        k = m - 1
                        for i in range(m - 1, -1, -1):
                            w = weight[r, i] * fj if i == s else weight[r, i]
                            if w > 0:
                                k = i
                                break
                        w = weight[r, k] * fj if k == s else weight[r, k]
                    within = (target - (cums[q, k - 1] if k > 0 else 0.0)) / w
                    p = pos[r, k]
                    if p < n_cand:
                        fac_v[j] = cand[p]
                elif region == 1:
                    within = (target - total) / extra
                    fac_v[j] = mem_fac[j]
                elif region == 2:
                    within = ((target - total) - extra) / left
                else:
                    within = 0.0
                scaled_v[j] = 0.0 if within < 0.0 else (1.0 if within > 1.0 else within)
        for j in range(n):  # region 2: the other left-out candidates, by the rescaled uniform
            if region_v[j] != 2:
                continue
            r, c = row[j], col[j]
            cum = 0.0
            for i in range(n_cand):
                w = 0.0 if i == c else left_out[i, r]
                buf_v[0, i] = w
                cum = w if i == 0 else cum + w
            if not cum > 0:  # no weight in float range: left to the one-stage draw
                region_v[j] = -3
                continue
            target = scaled_v[j] * cum
            k = _first_above(buf_v, 0, 1.0, -1, target, &before, &chosen)
            within = (target - before) / chosen
            scaled_v[j] = 0.0 if within < 0.0 else (1.0 if within > 1.0 else within)
            fac_v[j] = cand[k]
        for j in range(n):  # the mode, by the uniform rescaled within the facility's interval
            if j + ahead < n and fac_v[j + ahead] >= 0:
                SIM_PREFETCH(&owned[base[j + ahead] + fac_v[j + ahead], 0])
            f = fac_v[j]
            if f < 0:
                continue
            o = base[j] + f
            cum = 0.0
            for i in range(n_modes):
                cum = owned[o, i] if i == 0 else cum + owned[o, i]
            mode_v[j] = _first_above(owned, o, 1.0, -1, scaled_v[j] * cum, &before, &chosen)
            scaled_v[j] = 0.0
    return fac_out, mode_out, region_out, scaled_out
