"""``townsim plan-facilities``: keep or open p sites of one kind, size their windows, check by simulation.

1. Sites = the scenario's facilities of the kind (after its merger plan) plus the candidates file's.
2. Demand = expected visits per day of every village for the services the kind completes; cost =
   one-way minutes by each resident's fastest own mode (village mean), forbidden (a large penalty)
   to sites outside the resident's unit for errands with jurisdiction.
3. p-median or maximal covering (spopt) chooses the sites; every village uses its nearest one.
4. Windows: the fewest servers whose Erlang C (M/M/c) mean wait meets the target at the site's
   assigned arrival rate over its opening hours.
5. The plan becomes an overlay YAML (unchosen existing sites closed, chosen candidates added,
   windows set), which is run for ``check_days``; sites whose simulated mean wait misses the
   target are sized again by Erlang C on their simulated peak-hour arrival rate (which includes
   referrals, retries and the daily arrival peak; at least one more window), and the run is
   repeated (up to ``refine`` times).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.errors import ScenarioError
from sim.metrics.access import facility_mean_wait, resident_cells
from sim.model.model import AccessModel
from sim.planning.erlang import erlang_c_mean_wait, servers_for_wait
from sim.planning.errors import PlanInputError
from sim.planning.locate import METHODS, Selection, evaluate, select_sites
from sim.runner import run_loaded
from sim.scenario.load import LoadedScenario, load_raw, load_scenario
from sim.world.world import FACILITY_KINDS

__all__ = ["PLAN_KIND", "PlanRequest", "PlanResult", "plan_facilities", "write_overlay"]

#: Kind of a plan overlay in its ownership marker (:mod:`sim.ownership`).
PLAN_KIND = "plan"

PLANNED_KINDS = ("clinic", "hall", "service_point")


@dataclass(frozen=True)
class PlanRequest:
    """What to plan (see ``townsim plan-facilities --help``)."""

    scenario: Path
    kind: str
    p: int
    overlays: tuple[Path, ...] = ()
    candidates: Path | None = None
    method: str = "pmedian"
    radius_min: float = 15.0
    wait_target_min: float = 10.0
    keep: tuple[str, ...] = ()
    check_days: int = 28
    refine: int = 3
    seed: int | None = None


@dataclass
class PlanResult:
    """Chosen sites, windows, predicted and simulated waits, and the overlay that applies them."""

    request: PlanRequest
    sites: list[str]
    chosen: list[str]
    closed: list[str]
    opened: list[str]
    windows: dict[str, int]
    arrivals_per_day: dict[str, float]
    erlang_wait_min: dict[str, float]
    simulated_wait_min: dict[str, float | None]
    current: Selection | None  # the existing sites with windows, None if there are none
    planned: Selection
    overlay: dict[str, Any]
    rounds: int = 0
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        """One line per chosen site."""
        lines = [
            f"{'site':<24}{'new':>4}{'windows':>8}{'visits/day':>11}{'Erlang C wait':>14}"
            f"{'simulated wait':>15}"
        ]
        for site in self.chosen:
            sim = self.simulated_wait_min.get(site)
            lines.append(
                f"{site:<24}{'yes' if site in self.opened else '':>4}{self.windows[site]:>8}"
                f"{self.arrivals_per_day[site]:>11.1f}{self.erlang_wait_min[site]:>14.1f}"
                f"{'-' if sim is None else f'{sim:.1f}':>15}"
            )
        return "\n".join(lines)

    def headline(self) -> str:
        """Plan against the current configuration: mean travel and coverage."""
        r = self.request

        def describe(s: Selection | None) -> str:
            if s is None:
                return "none"
            share = 100 * (s.covered_share or 0)
            return f"{s.mean_cost:.1f} min mean one-way travel, {share:.1f}% within {r.radius_min:g} min"

        return (
            f"{r.method} {r.kind}: {len(self.chosen)} sites ({len(self.opened)} new, "
            f"{len(self.closed)} closed); existing sites: {describe(self.current)}; "
            f"plan: {describe(self.planned)}; windows sized for a mean "
            f"wait <= {r.wait_target_min:g} min (Erlang C), checked over {r.check_days} simulated days"
        )


def _candidates(req: PlanRequest, base: LoadedScenario) -> dict[str, dict[str, Any]]:
    """The candidates file's facilities (validated later by loading it as an overlay)."""
    if req.candidates is None:
        return {}
    file = str(req.candidates)
    if not req.candidates.is_file():
        raise ScenarioError(file, "(file)", "expected an existing YAML file of candidate sites")
    raw, _ = load_raw(req.candidates)
    extra = set(raw) - {"facilities"}
    if extra:
        raise ScenarioError(file, sorted(extra)[0], "expected only a 'facilities' mapping of candidate sites")
    facilities = raw.get("facilities")
    if not isinstance(facilities, dict) or not facilities:
        raise ScenarioError(file, "facilities", "expected a mapping of candidate id -> facility")
    for fid, spec in facilities.items():
        if fid in base.scenario.facilities:
            raise ScenarioError(
                file, f"facilities.{fid}", "expected a new id (it names an existing facility)"
            )
        if not isinstance(spec, dict) or spec.get("kind") != req.kind:
            raise ScenarioError(file, f"facilities.{fid}.kind", f"expected '{req.kind}' (the planned kind)")
    return facilities


def _check_request(req: PlanRequest) -> None:
    if req.kind not in PLANNED_KINDS:
        raise PlanInputError(f"--kind: expected one of {list(PLANNED_KINDS)}, got '{req.kind}'")
    if req.method not in METHODS:
        raise PlanInputError(f"--method: expected one of {list(METHODS)}, got '{req.method}'")
    for name, value in (("--p", req.p), ("--radius", req.radius_min), ("--wait-target", req.wait_target_min)):
        if not value > 0:
            raise PlanInputError(f"{name}: expected a positive number, got {value}")
    if req.check_days < 0 or req.refine < 0:
        raise PlanInputError("--check-days and --refine: expected numbers >= 0")


class _Problem:
    """Sites, village demand and costs of one planning request."""

    def __init__(self, req: PlanRequest, loaded: LoadedScenario) -> None:
        model = AccessModel(loaded, seed=req.seed)
        w, tab = model.world, model.tables
        sc = loaded.scenario
        self.world = w
        self.sites = np.flatnonzero(w.fac_kind == FACILITY_KINDS.index(req.kind))
        self.services = np.flatnonzero(w.fac_completes[self.sites].any(axis=0))
        rates = np.array(
            [
                [sc.services[w.services[s]].rate_per_person_year.get(b, 0.0) for b in w.age_bands]
                for s in self.services
            ]
        )  # (services, bands) per year
        self.demand = (w.village_pop * rates.sum(axis=0)[None, :]).sum(axis=1) / 365.0  # visits per day
        cells = resident_cells(model)
        times = tab.time_min[:, :, self.sites]  # (modes, villages, sites)
        cell_cost = np.where(cells.owns[:, :, None], times[:, cells.village], np.inf).min(axis=0)
        cell_w = cells.weight * rates.sum(axis=0)[cells.band]
        finite = np.isfinite(cell_cost)
        num = np.zeros((len(w.village_ids), len(self.sites)))
        den = np.zeros_like(num)
        np.add.at(num, cells.village, np.where(finite, cell_cost, 0) * cell_w[:, None])
        np.add.at(den, cells.village, finite * cell_w[:, None])
        cost = np.divide(num, den, out=np.full_like(num, np.inf), where=den > 0)
        self.jurisdiction = any(sc.services[w.services[s]].jurisdiction for s in self.services)
        if self.jurisdiction:
            village_unit = w.unit_new[w.village_unit]
            cost[w.fac_new_unit[self.sites][None, :] != village_unit[:, None]] = np.inf
        self.rows = np.flatnonzero(self.demand > 0)
        self.cost_min = cost[self.rows]
        finite_max = (
            self.cost_min[np.isfinite(self.cost_min)].max() if np.isfinite(self.cost_min).any() else 1.0
        )
        self.penalty = 10 * finite_max + 1000.0
        self.cost = np.where(np.isfinite(self.cost_min), self.cost_min, self.penalty)

    def arrivals_per_min(self, sel: Selection) -> np.ndarray:
        """Arrival rate per opening minute at each chosen site, from the villages assigned to it."""
        w = self.world
        per_day = np.bincount(sel.assigned, weights=self.demand[self.rows], minlength=len(self.sites))[
            sel.open
        ]
        fac = self.sites[sel.open]
        open_days = w.fac_days[fac].sum(axis=1)
        minutes = w.fac_close_min[fac] - w.fac_open_min[fac]
        return per_day * 7 / np.maximum(open_days, 1) / np.maximum(minutes, 1)


def plan_facilities(req: PlanRequest) -> PlanResult:
    """Solve a planning request and check the windows by simulation (see the module docstring)."""
    _check_request(req)
    base = load_scenario(req.scenario, overlays=req.overlays)
    candidates = _candidates(req, base)
    overlays = (*req.overlays, req.candidates) if req.candidates else req.overlays
    loaded = load_scenario(req.scenario, overlays=overlays)
    prob = _Problem(req, loaded)
    w = prob.world
    site_ids = [w.fac_ids[j] for j in prob.sites]
    if req.p > len(site_ids):
        raise PlanInputError(
            f"--p: expected at most {len(site_ids)} ({req.kind} sites, existing and candidate), got {req.p}"
        )
    unknown = [k for k in req.keep if k not in site_ids]
    if unknown:
        raise PlanInputError(
            f"--keep: expected ids among the {req.kind} sites {site_ids}, got '{unknown[0]}'"
        )
    if prob.jurisdiction:
        units = set(w.unit_new[w.village_unit][prob.rows].tolist())
        no_site = sorted(w.new_unit_ids[u] for u in units - set(w.fac_new_unit[prob.sites].tolist()))
        if no_site:
            raise PlanInputError(
                f"unit '{no_site[0]}' has no {req.kind} site, existing or candidate (its errands need one)"
            )
        if req.p < len(units):
            raise PlanInputError(
                f"--p: expected at least {len(units)} (one {req.kind} per unit: errands with jurisdiction)"
            )
    keep = np.array([site_ids.index(k) for k in req.keep], dtype=int)
    radius = req.radius_min
    groups = None
    if prob.jurisdiction:  # every unit with demand keeps at least one site of its own
        site_unit = w.fac_new_unit[prob.sites]
        groups = [np.flatnonzero(site_unit == u) for u in sorted(units)]
    planned = select_sites(
        prob.cost, prob.demand[prob.rows], req.p, method=req.method, radius=radius, keep=keep, groups=groups
    )
    if np.any(prob.cost[np.arange(len(prob.rows)), planned.assigned] >= prob.penalty):
        raise PlanInputError(f"--p: {req.p} {req.kind} sites leave some villages without one they may use")
    existing = [j for j, f in enumerate(site_ids) if f not in candidates and w.fac_servers[prob.sites[j]] > 0]
    current = (
        evaluate(prob.cost, prob.demand[prob.rows], np.array(existing, dtype=int), radius=radius)
        if existing
        else None
    )

    lam = prob.arrivals_per_min(planned)
    chosen = [site_ids[j] for j in planned.open]
    spec = [w.fac_service_time[prob.sites[j]] for j in planned.open]
    missing = [f for f, st in zip(chosen, spec, strict=True) if st is None]
    if missing:
        raise PlanInputError(
            f"{missing[0]}: expected a service_time (on the facility or in facility_defaults)"
        )
    mu = np.array([1 / st.mean_min for st in spec if st is not None])
    windows = {f: _windows(f, x, m, req.wait_target_min) for f, x, m in zip(chosen, lam, mu, strict=True)}
    result = PlanResult(
        request=req,
        sites=site_ids,
        chosen=chosen,
        closed=[site_ids[j] for j in existing if j not in planned.open],
        opened=[f for f in chosen if f in candidates],
        windows=windows,
        arrivals_per_day={
            f: float(x * (w.fac_close_min[prob.sites[j]] - w.fac_open_min[prob.sites[j]]))
            for f, x, j in zip(chosen, lam, planned.open, strict=True)
        },
        erlang_wait_min={},
        simulated_wait_min={},
        current=current,
        planned=planned,
        overlay={},
    )
    lam_by = dict(zip(chosen, lam, strict=True))
    mu_by = dict(zip(chosen, mu, strict=True))
    for round_ in range(req.refine + 1 if req.check_days > 0 else 1):
        result.overlay = _overlay(base, site_ids, result, candidates)
        result.erlang_wait_min = {
            f: erlang_c_mean_wait(lam_by[f], mu_by[f], c) for f, c in result.windows.items()
        }
        if req.check_days == 0:
            result.notes.append("not checked by simulation (--check-days 0)")
            break
        result.simulated_wait_min, peak = _simulate(req, result.overlay, chosen)
        result.rounds = round_
        short = [f for f, x in result.simulated_wait_min.items() if x is not None and x > req.wait_target_min]
        if not short:
            break
        if round_ == req.refine:
            result.notes.append(
                f"simulated mean wait still above target at {short} after {req.refine} refinements"
            )
            break
        for f in short:  # size again on the simulated peak-hour arrival rate (referrals, retries, peaks)
            c = result.windows[f]
            result.windows[f] = max(c + 1, _windows(f, peak[f], mu_by[f], req.wait_target_min))
    return result


def _windows(facility: str, lam: float, mu: float, target_min: float) -> int:
    """Windows of ``facility`` for the wait target (:func:`servers_for_wait`), or PlanInputError
    when no count the search allows meets it."""
    try:
        return servers_for_wait(lam, mu, target_min)
    except ValueError as exc:
        raise PlanInputError(
            f"--wait-target: {facility}: {exc}; expected a larger --wait-target or more sites (--p)"
        ) from None


def _overlay(
    base: LoadedScenario, site_ids: list[str], result: PlanResult, candidates: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Scenario overlay applying the plan to the base scenario (without the candidates file)."""
    changes = base.raw.get("merger", {}).get("facilities", {}) or {}
    facilities: dict[str, Any] = {}
    merger: dict[str, Any] = {}
    for fid in result.chosen:
        c = result.windows[fid]
        if fid in candidates:
            facilities[fid] = {**candidates[fid], "servers": c}
        elif fid in changes and "servers" in changes[fid]:
            merger[fid] = {"servers": c}
        else:
            facilities[fid] = {"servers": c}
    for fid in result.closed:
        merger[fid] = {"action": "close", **{k: None for k in changes.get(fid, {}) if k != "action"}}
    out: dict[str, Any] = {}
    if facilities:
        out["facilities"] = facilities
    if merger:
        out["merger"] = {"facilities": merger}
    return out


def _simulate(
    req: PlanRequest, overlay: dict[str, Any], chosen: list[str]
) -> tuple[dict[str, float | None], dict[str, float]]:
    """Run the base with the overlay; per chosen site: mean simulated queue wait (min, None without
    arrivals) and the peak-hour arrival rate (per minute, over the days the site was open)."""
    with tempfile.TemporaryDirectory(prefix="townsim-plan-") as tmp:
        path = Path(tmp) / "plan.yaml"
        path.write_text(yaml.safe_dump(overlay, allow_unicode=True, sort_keys=False), encoding="utf-8")
        loaded = load_scenario(req.scenario, overlays=(*req.overlays, path))
        result = run_loaded(loaded, days=req.check_days, seed=req.seed)
    fd, trips = result.facility_days, result.trips
    model_ids = list(fd["facility"].cat.categories)
    waits = facility_mean_wait(fd, model_ids)
    open_days = fd.groupby("facility", observed=True).size()
    hour = (trips["arrival_min"] // 60).astype(int)
    per_hour = trips.assign(hour=hour).groupby(["facility", "hour"], observed=True).size()
    mean_wait: dict[str, float | None] = {}
    peak: dict[str, float] = {}
    busiest = per_hour.groupby(level="facility", observed=True).max()
    for f in chosen:
        n = int(open_days.get(f, 0))
        seen = f in busiest.index
        mean_wait[f] = float(waits[model_ids.index(f)]) if seen else None
        peak[f] = float(busiest[f]) / (60 * n) if seen and n else 0.0
    return mean_wait, peak


def write_overlay(result: PlanResult, out: Path) -> None:
    """Write the plan overlay (with the plan's figures as comments) by the ownership rule.

    Raises:
        SimError: ``out`` exists and is not an unchanged plan townsim wrote (:mod:`sim.ownership`).
    """
    from sim.ownership import write_file_owned

    r = result.request
    seed = "scenario's" if r.seed is None else r.seed
    header = [
        f"# townsim plan-facilities: {r.scenario}" + "".join(f" --overlay {o}" for o in r.overlays),
        f"# candidates: {r.candidates}; kind {r.kind}; p {r.p}; method {r.method};"
        f" radius {r.radius_min:g} min; wait target {r.wait_target_min:g} min; seed {seed}",
        f"# {result.headline()}",
        *[f"# {line}" for line in result.table().splitlines()],
        *[f"# note: {n}" for n in result.notes],
        f"# use: townsim run {r.scenario} --overlay {out}",
    ]
    text = "\n".join(header) + "\n" + yaml.safe_dump(result.overlay, allow_unicode=True, sort_keys=False)
    write_file_owned(out, PLAN_KIND, lambda tmp: tmp.write_text(text, encoding="utf-8"))
