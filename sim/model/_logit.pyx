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
