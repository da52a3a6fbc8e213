"""Keyed random streams and the keyed draws built on them (needs, service times)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.model import streams
from sim.model.needs import draw_new_needs, need_cells, poisson_cdf
from sim.model.streams import Streams


@settings(max_examples=50, deadline=None)
@given(
    keys=st.lists(st.integers(min_value=-(2**40), max_value=2**40), min_size=1, max_size=40),
    trip=st.integers(min_value=0, max_value=50),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_a_draw_depends_only_on_its_keys_not_on_the_batch(keys: list[int], trip: int, seed: int) -> None:
    s = Streams(seed)
    batch = s.uniform("x", np.array(keys), trip)
    one_by_one = np.array([s.uniform("x", k, trip)[0] for k in keys])
    reversed_batch = s.uniform("x", np.array(keys[::-1]), trip)[::-1]
    assert np.array_equal(batch, one_by_one) and np.array_equal(batch, reversed_batch)
    assert np.all((batch > 0) & (batch < 1))


def test_streams_seeds_and_keys_are_independent() -> None:
    keys = np.arange(200_000)
    a = Streams(1).uniform("a", keys)
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    for other in (
        Streams(1).uniform("b", keys),
        Streams(2).uniform("a", keys),
        Streams(1).uniform("a", keys, 1),
    ):
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.01
        assert stats.kstest(other, "uniform").pvalue > 1e-3
    # neighbouring keys are not correlated (serial pairs)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.01
    normal = Streams(3).normal("n", keys)
    assert stats.kstest(normal, "norm").pvalue > 1e-3


def test_poisson_cdf_matches_scipy() -> None:
    for lam in (0.05, 3.0, 250.0, 4000.0):
        cdf = poisson_cdf(lam)
        k = np.arange(len(cdf))
        np.testing.assert_allclose(cdf, stats.poisson.cdf(k, lam), atol=1e-9)
        assert cdf[-1] > 1 - 1e-12


def test_daily_need_counts_are_poisson_and_residents_uniform() -> None:
    members = [np.arange(0, 300), np.arange(300, 1000)]
    rate = np.array([[0.01, 0.002]])  # (services, bands): expected 3 and 1.4 per day
    cells = need_cells(members, rate, ["clinic"], ("young", "old"))
    streams = Streams(5)
    days = 4000
    counts = np.zeros((days, 2), dtype=np.int64)
    hits = np.zeros(1000, dtype=np.int64)
    for day in range(days):
        who, _service, key = draw_new_needs(streams, cells, day)
        counts[day] = [np.sum(who < 300), np.sum(who >= 300)]
        np.add.at(hits, who, 1)
        assert len(np.unique(key)) == len(key)
    for b, lam in enumerate((3.0, 1.4)):
        observed = np.bincount(counts[:, b], minlength=12)[:12]
        expected = stats.poisson.pmf(np.arange(12), lam) * days
        expected[-1] += days - expected.sum()  # lump the tail into the last bin
        observed[-1] += days - observed.sum()
        assert stats.chisquare(observed, expected).pvalue > 1e-3
    # within a band every member is equally likely
    assert stats.chisquare(hits[:300]).pvalue > 1e-3 and stats.chisquare(hits[300:]).pvalue > 1e-3


def test_needs_on_a_day_do_not_depend_on_other_days_or_services() -> None:
    members = [np.arange(50), np.arange(50, 120)]
    one = need_cells(members, np.array([[0.05, 0.02]]), ["clinic"], ("a", "b"))
    two = need_cells(members, np.array([[0.05, 0.02], [0.03, 0.0]]), ["clinic", "hall"], ("a", "b"))
    s = Streams(9)
    for day in (0, 17, -3):
        who1, _svc1, key1 = draw_new_needs(s, one, day)
        who2, svc2, key2 = draw_new_needs(s, two, day)
        clinic = svc2 == 0
        assert np.array_equal(who1, who2[clinic]) and np.array_equal(key1, key2[clinic])


@pytest.mark.parametrize("seed", [0, 1])
def test_keys_repeat_only_with_their_inputs(seed: int) -> None:
    s = Streams(seed)
    a = s.key("errand", 3, np.arange(1000))
    assert len(np.unique(a)) == 1000
    assert np.array_equal(a, s.key("errand", 3, np.arange(1000)))
    assert not np.array_equal(a, s.key("errand", 4, np.arange(1000)))


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 40),
    h_one=st.booleans(),
    key_one=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_compiled_hashing_gives_the_numpy_bits(n: int, h_one: bool, key_one: bool, seed: int) -> None:
    if streams._compiled is None:
        pytest.skip("installed without a C compiler: only the numpy hashing exists")
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**64, size=1 if h_one else n, dtype=np.uint64, endpoint=False)
    key = rng.integers(-(2**63), 2**63, size=1 if key_one else n, dtype=np.int64).view(np.uint64)
    compiled, numpy = streams._mix_key(h, key), streams._mix_key_numpy(h, key)
    assert compiled.dtype == numpy.dtype == np.uint64 and compiled.shape == numpy.shape
    assert np.array_equal(compiled, numpy)
    bits = np.concatenate([h, np.array([0, 2**64 - 1], dtype=np.uint64)])
    assert np.array_equal(streams._to_uniform(bits), streams._to_uniform_numpy(bits))


def test_streams_without_the_compiled_hashing_draw_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = (np.arange(-5, 500), 3, np.array([7], dtype=np.int16))
    s = Streams(11)
    compiled = s.uniform("x", *keys), s.key("y", *keys), s.normal("z", 2, np.arange(9))
    monkeypatch.setattr(streams, "_compiled", None)
    numpy = s.uniform("x", *keys), s.key("y", *keys), s.normal("z", 2, np.arange(9))
    for a, b in zip(compiled, numpy, strict=True):
        assert np.array_equal(a, b)
