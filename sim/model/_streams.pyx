# cython: language_level=3, boundscheck=False, wraparound=False
"""The keyed streams' hashing, compiled (optional build of :mod:`sim.model.streams`; the numpy
functions there give the same bits when it is absent): one pass per key instead of nine numpy
operations, all in uint64 arithmetic that wraps as numpy's does."""

import numpy as np

from libc.stdint cimport uint64_t

cdef uint64_t GOLDEN = 0x9E3779B97F4A7C15
cdef uint64_t M1 = 0xBF58476D1CE4E5B9
cdef uint64_t M2 = 0x94D049BB133111EB
cdef double SCALE = 2.0 ** -53


cdef inline uint64_t _mix(uint64_t z) noexcept nogil:
    z = (z ^ (z >> 30)) * M1
    z = (z ^ (z >> 27)) * M2
    return z ^ (z >> 31)


def mix_key(const uint64_t[::1] h, const uint64_t[::1] key):
    """``mix(h + GOLDEN * (key + 1))`` elementwise; ``h`` or ``key`` of length 1 is broadcast."""
    cdef Py_ssize_t nh = h.shape[0], nk = key.shape[0], i
    cdef Py_ssize_t n = 0 if nh == 0 or nk == 0 else (nh if nh > nk else nk)
    out = np.empty(n, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    with nogil:
        if nh == nk:
            for i in range(n):
                o[i] = _mix(h[i] + GOLDEN * (key[i] + 1))
        elif nh == 1:
            for i in range(n):
                o[i] = _mix(h[0] + GOLDEN * (key[i] + 1))
        else:
            for i in range(n):
                o[i] = _mix(h[i] + GOLDEN * (key[0] + 1))
    return out


def to_uniform(const uint64_t[::1] bits):
    """Uniforms on (0, 1) from the top 53 of 64 random bits, ``((bits >> 11) + 0.5) * 2**-53``."""
    cdef Py_ssize_t n = bits.shape[0], i
    out = np.empty(n)
    cdef double[::1] o = out
    with nogil:
        for i in range(n):
            o[i] = (<double>(bits[i] >> 11) + 0.5) * SCALE
    return out
