"""Households: ages within bands, a per-village fit of household types and sizes, caregivers.

Per village, persons are cross-classified by age class (child under 15, adult 15-59, elder 60+),
household type and household size (1..6, 6 = six or more) by iterative proportional fitting
(:func:`ipf`) to three margins: the village's persons per age class, persons per household type
(from the shares of children living with parents only, left behind with grandparents, or in
three generations, and of elders living alone) and persons per household size (from the size
shares). Households are then cut from the fitted table and filled with the village's residents
in an order keyed by identity. Every household with children has a caregiver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from sim.errors import ScenarioError
from sim.model.streams import Streams
from sim.scenario.families import Households

__all__ = [
    "CLASSES",
    "TYPES",
    "HouseholdTable",
    "Shares",
    "age_classes",
    "band_ages",
    "build_households",
    "draw_ages",
    "fit_villages",
    "ipf",
]

CLASSES = ("child", "adult", "elder")
#: Household types: parents and children; grandparents and children (parents away: left-behind
#: children); three generations; adults (with or without elders) without children; elders alone.
TYPES = ("nuclear", "skipped", "three_generation", "adults", "elders")
SIZES = np.arange(1, 7)
#: Oldest age drawn in an open band such as "60+", years (assumed).
OPEN_BAND_TOP = 85
_BAND = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|\+)\s*$")


def band_ages(bands: tuple[str, ...], file: str) -> np.ndarray:
    """(bands, 2) youngest and oldest age of each band label ("6-11", "60+").

    Raises:
        ScenarioError: a label that is not "a-b" or "a+".
    """
    out = np.zeros((len(bands), 2), dtype=np.int64)
    for i, band in enumerate(bands):
        m = _BAND.match(band)
        if m is None:
            raise ScenarioError(
                file, "age_bands", f"expected bands like '6-11' or '60+' for families, got '{band}'"
            )
        lo = int(m.group(1))
        out[i] = (lo, int(m.group(2)) if m.group(2) else max(OPEN_BAND_TOP, lo))
    return out


def draw_ages(ages: np.ndarray, band: np.ndarray, key: np.ndarray, streams: Streams) -> np.ndarray:
    """Age in whole years of each resident: uniform over their band, keyed by identity."""
    lo, hi = ages[band, 0], ages[band, 1]
    u = streams.uniform("families.age", key)
    return (lo + np.floor(u * (hi - lo + 1))).astype(np.int16)


def age_classes(ages: np.ndarray) -> np.ndarray:
    """Class index (0 child, 1 adult, 2 elder) per band from its (youngest, oldest) ages."""
    return np.where(ages[:, 1] < 15, 0, np.where(ages[:, 0] >= 60, 2, 1)).astype(np.int8)


def _composition() -> np.ndarray:
    """(classes, types, sizes) persons of each class in a typical household of each type and size
    (zero where the type cannot have that size or class): the IPF seed."""
    seed = np.zeros((3, len(TYPES), len(SIZES)))
    for j, s in enumerate(SIZES.tolist()):
        if s >= 2:
            parents = min(2, s - 1)
            seed[:, 0, j] = (s - parents, parents, 0)  # nuclear
            grand = min(2, s - 1)
            seed[:, 1, j] = (s - grand, 0, grand)  # skipped generation
        if s >= 3:
            grand = 1 if s == 3 else 2
            parents = 1 if s == 3 else min(2, s - grand - 1)
            seed[:, 2, j] = (s - grand - parents, parents, grand)  # three generations
        seed[:, 3, j] = (0, max(s - 1, 0.5), min(1, s - 1) + (0.5 if s == 1 else 0))  # adults, maybe an elder
        if s <= 2:
            seed[:, 4, j] = (0, 0, s)  # elders alone
    return seed


def ipf(
    seed: np.ndarray, margins: list[np.ndarray], axes: list[int], *, tol: float = 1e-10, max_iter: int = 2000
) -> np.ndarray:
    """Iterative proportional fitting: scale ``seed`` until its sums over all table axes but
    ``axes[k]`` equal ``margins[k]`` (one-dimensional margins). Zero cells stay zero.

    Args:
        seed: a table with one margin per axis, or a batch of such tables (leading axes).
        margins: per margin, its target (with the batch's leading axes).
        axes: per margin, the table axis it runs along (0 = the table's first axis).

    Returns:
        the fitted table(s), the shape of ``seed``.
    """
    x = seed.astype(float).copy()
    lead = x.ndim - (max(axes) + 1)  # batch axes in front of the table's
    table_axes = range(lead, x.ndim)
    scale = np.maximum(x.sum(axis=tuple(table_axes)), 1.0)
    for _ in range(max_iter):
        worst = 0.0
        for margin, axis in zip(margins, axes, strict=True):
            other = tuple(a for a in table_axes if a != lead + axis)
            total = x.sum(axis=other)
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(total > 0, margin / total, 0.0)
            x *= np.expand_dims(factor, tuple(a for a in other))
            gap = np.abs(total - margin).max(axis=-1) / scale
            worst = max(worst, float(np.max(gap, initial=0.0)))
        if worst <= tol:
            break
    return x


@dataclass(frozen=True)
class Shares:
    """The marginal shares of each village (the county's where a village has none of its own).

    Attributes:
        sizes: (villages, 6) share of households by members.
        child: (villages, 3) share of children in nuclear, skipped and three-generation households.
        elders_alone: (villages,) share of elders living alone.
    """

    sizes: np.ndarray
    child: np.ndarray
    elders_alone: np.ndarray

    @classmethod
    def of(cls, spec: Households, village_ids: list[str]) -> Shares:
        """Per village of ``village_ids``: its ``by_village`` entry, else the county's figures."""
        own = [spec.by_village.get(v) for v in village_ids]

        def pick(name: str) -> list:
            return [
                getattr(spec, name) if o is None or getattr(o, name) is None else getattr(o, name)
                for o in own
            ]

        sizes = np.array([[shares.get(int(k), 0.0) for k in SIZES] for shares in pick("size_shares")])
        lb, tg = np.array(pick("left_behind_share")), np.array(pick("three_generation_share"))
        child = np.maximum(np.stack([1 - lb - tg, lb, tg], axis=-1), 0.0)
        return cls(
            sizes=sizes.reshape(-1, len(SIZES)),
            child=child,
            elders_alone=np.array(pick("elders_alone_share")),
        )


def village_margins(shares: Shares, persons: np.ndarray, seed: np.ndarray) -> list[np.ndarray]:
    """Margins of villages: persons per class, per household type, per household size.

    Args:
        shares: the villages' marginal shares.
        persons: (villages, 3) residents per class (child, adult, elder).
        seed: the composition seed (classes, types, sizes).
    """
    persons = np.asarray(persons, dtype=float)
    total = persons.sum(axis=-1)
    child, elder = persons[:, 0], persons[:, 2]
    weighted = shares.sizes * SIZES
    per_size = weighted / weighted.sum(axis=-1, keepdims=True) * total[:, None]  # persons per size
    weight = (shares.sizes / shares.sizes.sum(axis=-1, keepdims=True))[:, None, :]  # (villages, 1, sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (seed.sum(axis=0)[None] * weight).sum(axis=-1) / (seed[0][None] * weight).sum(axis=-1)
    by_type = np.zeros((len(total), len(TYPES)))
    by_type[:, :3] = shares.child * child[:, None] * ratio[:, :3]  # persons per child of each type
    by_type[:, 4] = shares.elders_alone * elder
    by_type[:, 3] = np.maximum(total - by_type.sum(axis=-1), 0.0)
    _normalise(by_type, total)
    return [persons, by_type, per_size]


def _normalise(by_type: np.ndarray, total: np.ndarray) -> None:
    """Scale persons per type (in place) to the village totals."""
    s = by_type.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_type *= np.where(s > 0, total / s, 0.0)[..., None]


def fit_villages(
    shares: Shares, persons: np.ndarray, seed: np.ndarray, rounds: int = 30
) -> tuple[list[np.ndarray], np.ndarray]:
    """Fit every village's table at once; the persons per household type are corrected round by
    round until the children in each type match the shares asked for (persons per type carry the
    adults and elders of those households, which the fit itself settles).

    Args:
        shares: the villages' marginal shares.
        persons: (villages, 3) residents per class.

    Returns:
        the margins (each with a leading village axis) and the fitted (villages, 3, types, sizes).
    """
    margins = village_margins(shares, persons, seed)
    total = persons.sum(axis=-1).astype(float)
    want = shares.child * persons[:, :1]
    fitted = ipf(np.broadcast_to(seed, (len(persons), *seed.shape)), margins, [0, 1, 2])
    for _ in range(rounds):
        got = fitted[:, 0, :3].sum(axis=-1)
        if np.all(np.abs(got - want) <= 1e-3 * np.maximum(persons[:, :1], 1)):
            break
        by_type = margins[1].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            by_type[:, :3] *= np.where(got > 0, want / got, 1.0)
        by_type[:, 3] = np.maximum(total - by_type[:, [0, 1, 2, 4]].sum(axis=-1), 0.0)
        _normalise(by_type, total)
        margins = [margins[0], by_type, margins[2]]
        fitted = ipf(np.broadcast_to(seed, fitted.shape), margins, [0, 1, 2])
    return margins, fitted


@dataclass(frozen=True)
class HouseholdTable:
    """Households of a run.

    Attributes:
        household: per resident, household index.
        village, kind, size: per household, village index, type index (TYPES) and members.
        caregiver: per household, resident row who escorts its children (-1: no children).
        fit_error: per village, largest relative gap between the fitted table's margins and targets.
    """

    household: np.ndarray
    village: np.ndarray
    kind: np.ndarray
    size: np.ndarray
    caregiver: np.ndarray
    fit_error: np.ndarray


def _whole(values: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers summing to ``total`` in proportion to ``values`` (largest remainders)."""
    exact = values / values.sum() * total
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(-(exact - out), kind="stable")[: total - out.sum()]] += 1
    return out


def _cut(fitted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Households (type, size, members per class) cut from a fitted table of persons.

    Each (type, size) cell becomes its nearest whole number of households; its persons per class,
    rounded to fill them exactly, are dealt out in turn (children first), so the households of a
    cell differ by at most one member of a class and the cell's class totals are kept. A household
    dealt only children swaps one for a carer of the type's class.
    """
    kinds, sizes, comps = [], [], []
    for t in range(len(TYPES)):
        for j, s in enumerate(SIZES.tolist()):
            cell = fitted[:, t, j]
            n = int(np.floor(cell.sum() / s + 0.5))
            if n == 0:
                continue
            totals = _whole(cell, n * s)
            comp = np.zeros((n, 3), dtype=np.int64)
            np.add.at(comp, (np.arange(n * s) % n, np.repeat(np.arange(3), totals)), 1)
            alone = comp[:, 0] == s  # children never alone: one becomes the caregiver's class
            comp[alone, 0] -= 1
            comp[alone, 2 if t == 1 else 1] += 1
            kinds.append(np.full(n, t))
            sizes.append(np.full(n, s))
            comps.append(comp)
    if not kinds:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3), np.int64)
    return np.concatenate(kinds), np.concatenate(sizes), np.concatenate(comps)


def build_households(
    spec: Households,
    *,
    village: np.ndarray,
    klass: np.ndarray,
    age: np.ndarray,
    key: np.ndarray,
    n_villages: int,
    village_ids: list[str],
    streams: Streams,
    file: str,
) -> HouseholdTable:
    """Households of every village (see the module docstring).

    Args:
        village, klass, age, key: per resident, village index, age class, age and identity.

    Raises:
        ScenarioError: a village with children but no adult or elder to care for them.
    """
    seed = _composition()
    order = np.lexsort((streams.uniform("households.order", key), klass, village))  # village, class, random
    n = len(village)
    household = np.full(n, -1, dtype=np.int64)
    hh_village: list[np.ndarray] = []
    hh_kind: list[np.ndarray] = []
    errors = np.zeros(n_villages)
    counts = np.bincount(village.astype(np.int64) * 3 + klass, minlength=3 * n_villages).reshape(-1, 3)
    starts = np.r_[0, np.cumsum(counts.ravel())]
    next_id = 0
    margins, fitted_all = fit_villages(Shares.of(spec, village_ids), counts, seed)
    for k, margin in enumerate(margins):
        other = tuple(a for a in (1, 2, 3) if a != k + 1)
        gap = np.abs(fitted_all.sum(axis=other) - margin).max(axis=-1)
        errors = np.maximum(errors, gap / np.maximum(margin.sum(axis=-1), 1))
    for v in range(n_villages):
        persons = counts[v]
        if persons.sum() == 0:
            continue
        if persons[0] > 0 and persons[1:].sum() == 0:
            raise ScenarioError(
                file, "families.households", f"village '{village_ids[v]}' has children but no adult or elder"
            )
        kinds, _, comps = _cut(fitted_all[v])
        ids = next_id + np.arange(len(kinds))
        grown = np.zeros(len(kinds), dtype=np.int64)  # adults and elders placed per household
        for c in (1, 2, 0):  # carers first, so that children are placed where one lives
            pool = order[starts[3 * v + c] : starts[3 * v + c + 1]]
            slot = np.repeat(ids[: len(comps)], comps[:, c])[: len(pool)]
            household[pool[: len(slot)]] = slot
            left = pool[len(slot) :]
            if c == 0:
                parents = (grown[: len(comps)] > 0) & (kinds[: len(comps)] != 1) & (comps[:, 0] > 0)
                hosts = ids[: len(comps)][parents] if parents.any() else ids[grown > 0]
                lone = pool[: len(slot)][grown[slot - next_id] == 0]  # planned where no carer came
                left = np.r_[left, lone]
                household[left] = hosts[np.arange(len(left)) % len(hosts)]
                continue
            grown += np.bincount(slot - next_id, minlength=len(grown))
            if len(left):  # adults and elders beyond the cut live alone
                single = next_id + len(kinds) + np.arange(len(left))
                household[left] = single
                kinds = np.r_[kinds, np.full(len(left), 3 if c == 1 else 4)]
                grown = np.r_[grown, np.ones(len(left), dtype=np.int64)]
                ids = np.r_[ids, single]
        next_id += len(kinds)
        hh_village.append(np.full(len(kinds), v))
        hh_kind.append(kinds)
    kind = np.concatenate(hh_kind) if hh_kind else np.zeros(0, np.int64)
    size = np.bincount(household[household >= 0], minlength=len(kind))
    caregiver = _caregivers(spec, household, klass, age, kind, key, streams)
    used = size > 0
    remap = np.cumsum(used) - 1  # drop households left empty by the pools
    return HouseholdTable(
        household=remap[household],
        village=np.concatenate(hh_village)[used] if hh_village else np.zeros(0, np.int64),
        kind=kind[used],
        size=size[used],
        caregiver=caregiver[used],
        fit_error=errors,
    )


def _caregivers(
    spec: Households,
    household: np.ndarray,
    klass: np.ndarray,
    age: np.ndarray,
    kind: np.ndarray,
    key: np.ndarray,
    streams: Streams,
) -> np.ndarray:
    """Per household with children: the grandparent (youngest elder) in skipped-generation
    households, in three-generation ones a grandparent with probability ``grandparent_care_share``
    (keyed by the household's first member) else the youngest adult, otherwise the youngest adult
    (or elder when there is none). -1 for households without children."""
    n_hh = len(kind)
    rows = np.arange(len(household))

    def youngest(of_class: int) -> np.ndarray:
        pick = np.full(n_hh, -1, dtype=np.int64)
        sel = rows[klass == of_class]
        sel = sel[np.lexsort((-age[sel].astype(np.int64), household[sel]))]  # by household, oldest first
        pick[household[sel]] = sel  # the last written per household is the youngest
        return pick

    adult, elder = youngest(1), youngest(2)
    has_child = np.bincount(household[klass == 0], minlength=n_hh) > 0
    first = np.full(n_hh, -1, dtype=np.int64)
    first[household[::-1]] = rows[::-1]
    u = streams.uniform("households.carer", key[np.maximum(first, 0)])
    prefer_elder = (kind == 1) | ((kind == 2) & (u < spec.grandparent_care_share))
    carer = np.where(prefer_elder, np.where(elder >= 0, elder, adult), np.where(adult >= 0, adult, elder))
    return np.where(has_child, carer, -1)
