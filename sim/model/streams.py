"""Keyed random streams: common random numbers across scenarios run with one seed.

Every random number of a run is a pure function of (seed, stream name, the keys of the entity
it belongs to): a counter-based generator (SplitMix64's output function applied to the seed,
a hash of the stream name and each key in turn). No draw depends on how many draws came before,
so two scenarios run with one seed give every resident the same needs on the same days and every
unchanged decision the same number, whatever else differs between them.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.special import ndtri

from sim.compiled import optional_extension

__all__ = ["Streams", "name_key"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1
KeyLike = np.ndarray | int


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 output function (a bijection of uint64 with full avalanche), elementwise."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _mix_key_numpy(h: np.ndarray, key: np.ndarray) -> np.ndarray:
    """``_mix(h + GOLDEN * (key + 1))``, broadcast: one key folded into the hashes ``h``."""
    return _mix(h + _GOLDEN * (key + np.uint64(1)))


def _to_uniform_numpy(bits: np.ndarray) -> np.ndarray:
    """Uniforms on the open interval (0, 1) from the top 53 of 64 random bits."""
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


_compiled = optional_extension("sim.model._streams")  # None without a C compiler (sim/compiled.py)


def _mix_key(h: np.ndarray, key: np.ndarray) -> np.ndarray:
    """:func:`_mix_key_numpy`, compiled where both are 1-D and of equal length or one of length 1."""
    if (
        _compiled is None
        or h.ndim != 1
        or key.ndim != 1
        or (len(h) != len(key) and 1 not in (len(h), len(key)))
    ):
        return _mix_key_numpy(h, key)
    return _compiled.mix_key(np.ascontiguousarray(h), np.ascontiguousarray(key))


def _to_uniform(bits: np.ndarray) -> np.ndarray:
    """:func:`_to_uniform_numpy`, compiled for 1-D bits."""
    if _compiled is None or bits.ndim != 1:
        return _to_uniform_numpy(bits)
    return _compiled.to_uniform(np.ascontiguousarray(bits))


def _u64(key: KeyLike) -> np.ndarray:
    """Keys as uint64 arrays (negative integers wrap, so day -3 is a valid key)."""
    arr = np.asarray(key)
    if arr.dtype == np.uint64:
        return np.atleast_1d(arr)
    if arr.dtype == np.int64:
        return np.atleast_1d(arr).view(np.uint64)  # two's complement: the bits astype(uint64) gives
    return np.atleast_1d(arr.astype(np.int64)).view(np.uint64)


def name_key(name: str) -> int:
    """A stable 64-bit key for a name (stream, service, mode, level): same name, same key."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


class Streams:
    """Named independent streams of uniforms keyed by entity.

    ``uniform("trip.arrival", errand_key, trip_no)`` is the same number in every run with this
    seed, for every scenario. Keys broadcast against each other like numpy arrays.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._base = int(_mix(np.array([self.seed & _MASK], dtype=np.uint64))[0])
        self._streams: dict[str, np.ndarray] = {}

    def _start(self, stream: str) -> np.ndarray:
        start = self._streams.get(stream)
        if start is None:
            start = _mix(np.array([(self._base + name_key(stream)) & _MASK], dtype=np.uint64))
            self._streams[stream] = start
        return start

    def bits(self, stream: str, *keys: KeyLike) -> np.ndarray:
        """64 random bits per key tuple (uint64 array of the keys' broadcast shape)."""
        h = self._start(stream)
        for k in keys or (np.zeros(1, np.uint64),):  # keys broadcast against each other in the sums
            h = _mix_key(h, _u64(k))
        return h

    def uniform(self, stream: str, *keys: KeyLike) -> np.ndarray:
        """Uniform on the open interval (0, 1), 53 random bits, one per key tuple."""
        return _to_uniform(self.bits(stream, *keys))

    def normal(self, stream: str, *keys: KeyLike) -> np.ndarray:
        """Standard normal by inverse CDF of one keyed uniform."""
        return ndtri(self.uniform(stream, *keys))

    def key(self, stream: str, *keys: KeyLike) -> np.ndarray:
        """A 64-bit identity for a key tuple (for keying later draws, e.g. an errand)."""
        return self.bits(stream, *keys)
