"""Expected queue waits of a plan not yet simulated: demand assignment, then the M(t)/M/c chain.

1. Demand: each resident cell (own modes, village, age band; :class:`ResidentCells`) makes
   ``rate_per_person_year / 365`` visits a day per service, less the share done online
   (``levers.online``: share x (1 - failure)). Demand arising on a weekday when no facility the
   cell may use is open is carried to the next day (as the model postpones it).
2. Assignment: the scenario's choice rule on generalised cost (round-trip minutes + money as
   minutes, by each owned mode) plus the facility's expected wait, only to facilities open that
   weekday, completing the errand and, for errands with jurisdiction, in the resident's unit.
   Waits and flows are solved together by the method of successive averages (``MSA_ROUNDS``).
3. Waits: each facility-weekday's arrivals follow the model's arrival-time distribution
   (|N(mean, sd)| after opening, clamped at the latest arrival), a Poisson process with that
   time-varying rate; the c-server birth-death chain (the M/M/c queue whose stationary wait is
   Erlang C, :mod:`sim.planning.erlang`) is integrated over the day from empty, so the morning
   peak and closing count; times (1 + cv^2) / 2 for non-exponential service (Allen-Cunneen).
   Those still queued at closing (turned away) come back on the facility's next open day. The
   facility's wait is the visit-weighted mean over weekdays. Erlang C at the week's mean rate is
   reported beside it: it ignores the daily peak and underestimates waits several-fold.

Not represented: referrals of residents who do not know a service point's scope, proxy agents
and mobile service, bus timetables (the bus mode's table times are used every day). The check
against simulated waits is in ``tests/planning/test_waits.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from sim.model.choice import round_trip_cost_min
from sim.planning.erlang import erlang_c_mean_wait
from sim.scenario.schema import Behaviour

if TYPE_CHECKING:
    from sim.metrics.access import ResidentCells
    from sim.model.model import AccessModel

__all__ = ["MSA_ROUNDS", "PlannedWaits", "arrival_density", "planned_waits", "transient_mean_wait"]

MSA_ROUNDS = 8  # successive-average rounds of the wait/flow fixed point
MAX_STEP_MIN = 1.0  # integration step of the chain, at most (smaller when rates are high)
MAX_QUEUE = 400  # states of the chain above c: at most this many waiting (more are not admitted)
RETRY_ROUNDS = 3  # rounds adding the turned away to the next open day's arrivals
CLAMP_SPREAD_MIN = 30.0  # arrivals clamped at the latest arrival time are spread over this
TRIM_EVERY = 25  # steps between checks of the highest state holding probability


@dataclass(frozen=True)
class PlannedWaits:
    """Per facility: visits per open day, expected wait (min) and the stationary reference.

    ``wait_min``: visit-weighted mean over weekdays of the M(t)/M/c chain's mean wait (the morning
    peak and closing included); ``erlang_c_day_mean_min``: Erlang C at the week's mean rate per
    open minute (the planning formula, :func:`sim.planning.erlang.erlang_c_mean_wait`; inf when
    the mean load reaches the servers); both times (1 + cv^2) / 2 for non-exponential service.
    ``utilisation``: mean offered load per server over opening hours.
    """

    visits_per_open_day: np.ndarray
    wait_min: np.ndarray
    erlang_c_day_mean_min: np.ndarray
    utilisation: np.ndarray


def arrival_density(behaviour: Behaviour, open_min: float, close_min: float, step_min: float) -> np.ndarray:
    """Share of the day's arrivals in each ``step_min`` step from opening to closing.

    The model's desired arrival is open + |N(mean, sd)|, no later than close - latest_before_close
    (never before opening). The clamped mass (arrivals at the latest time) is spread over the
    ``CLAMP_SPREAD_MIN`` before it, so the arrival rate stays finite.
    """
    n = max(int(np.ceil((close_min - open_min) / step_min)), 1)
    latest = max(close_min - behaviour.latest_arrival_before_close_min - open_min, 0.0)
    edges = np.minimum(np.arange(n + 1) * step_min, latest)
    m, s = behaviour.arrival_after_open_min, behaviour.arrival_sd_min
    # P(|N(m, s)| <= x)
    cdf = ndtr((edges - m) / s) - ndtr((-edges - m) / s) if s > 0 else (edges >= abs(m)).astype(float)
    share = np.diff(cdf)
    mid = (np.arange(n) + 0.5) * step_min
    tail = (mid < latest) & (mid >= latest - CLAMP_SPREAD_MIN)
    if not tail.any():
        tail[min(int(latest // step_min), n - 1)] = True
    share[tail] += (1.0 - cdf[-1]) / tail.sum()
    return share


def transient_mean_wait(
    visits: np.ndarray,
    density: np.ndarray,
    servers: np.ndarray,
    mean_service_min: np.ndarray,
    open_steps: np.ndarray,
    step_min: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean queue wait (min) and expected queue at closing of M(t)/M/c facility-days (birth-death chain).

    Batched over rows: ``visits`` per day, ``density`` (rows, steps) share of arrivals per step,
    ``servers`` c, mean service minutes and the steps the facility is open. The chain's state
    probabilities are integrated forward (explicit Euler, ``step_min`` small against
    1 / (rate + c mu)) from an empty facility at opening; total waiting = integral of the expected
    queue length up to closing, which counts those still queued at closing until then, as the
    simulation does; divided by visits (Little's law over the day). Those queued at closing are
    turned away. With a constant rate over a long day this is Erlang C.
    """
    rows = len(visits)
    mu = 1.0 / mean_service_min
    cap = int(np.max(servers + np.minimum(np.ceil(visits), MAX_QUEUE))) + 1
    n = np.arange(cap + 1)
    down = np.minimum(n[None, 1:], servers[:, None]) * mu[:, None] * step_min  # (rows, cap) n -> n-1
    queued = np.maximum(n[None, :] - servers[:, None], 0).astype(float)
    p = np.zeros((rows, cap + 1))
    p[:, 0] = 1.0
    waiting = np.zeros(rows)
    at_close = np.zeros(rows)
    lam = density * visits[:, None]  # arrivals per step
    hi = min(cap, int(servers.max()) + TRIM_EVERY)  # states above hi hold no mass (yet)
    for t in range(density.shape[1]):
        if t % TRIM_EVERY == 0:  # mass moves up at most one state a step
            held = np.flatnonzero((p[:, : hi + 1] > 1e-13).any(axis=0))
            hi = min(cap, int(held[-1]) + TRIM_EVERY + 1)
        q = p[:, : hi + 1]
        up = lam[:, t : t + 1] * q[:, :-1]
        dn = down[:, :hi] * q[:, 1:]
        q[:, :-1] += dn - up
        q[:, 1:] += up - dn
        lq = (q * queued[:, : hi + 1]).sum(axis=1)
        waiting += lq * step_min * (t < open_steps)
        at_close = np.where(t < open_steps, lq, at_close)
    return np.divide(waiting, visits, out=np.zeros(rows), where=visits > 0), at_close


def _demand(model: AccessModel, cells: ResidentCells) -> np.ndarray:
    """(services, cells) visits per day, online share removed."""
    w, sc = model.world, model.loaded.scenario
    rates = np.array(
        [[sc.services[s].rate_per_person_year.get(b, 0.0) for b in w.age_bands] for s in w.services]
    )
    offline = np.ones_like(rates)
    for s, online in sc.levers.online.items():
        share = np.array([online.share.get(b, 0.0) for b in w.age_bands])
        offline[w.services.index(s)] = 1.0 - share * (1.0 - online.failure)
    return (rates * offline)[:, cells.band] * cells.weight[None, :] / 365.0


def planned_waits(model: AccessModel, cells: ResidentCells) -> PlannedWaits:
    """Expected waits of the model's plan by demand assignment and the M(t)/M/c chain (module docstring)."""
    w, tab, b = model.world, model.tables, model.behaviour
    n_f = len(w.fac_ids)
    receiving = w.fac_receives_visitors
    static = round_trip_cost_min(tab.time_min, tab.money_yuan, b.value_of_time_yuan_per_h)  # as the model
    live = cells.weight > 0
    cell_static = np.where(
        cells.owns[:, live, None], static[:, cells.village[live]], np.inf
    )  # (modes, cells, F)
    demand = _demand(model, cells)[:, live]
    new_unit = w.unit_new[cells.unit[live]]
    times = [st for st in w.fac_service_time]
    mean_svc = np.array([st.mean_min if st is not None else 1.0 for st in times])
    cv2 = np.array(
        [
            0.0 if st is None or st.dist == "fixed" else 1.0 if st.dist == "exponential" else st.cv**2
            for st in times
        ]
    )
    allowed = []  # per service: (cells, F) may use, whatever the weekday
    for s, name in enumerate(w.services):
        ok = np.broadcast_to((w.fac_completes[:, s] & receiving)[None, :], (len(new_unit), n_f))
        if model.loaded.scenario.services[name].jurisdiction:
            ok = ok & (w.fac_new_unit[None, :] == new_unit[:, None])
        allowed.append(ok)

    def flows(wait: np.ndarray) -> np.ndarray:
        """(7, F) visits per weekday when every facility's expected wait is ``wait``."""
        out = np.zeros((7, n_f))
        cost = cell_static + wait[None, None, :]
        if b.choice == "nearest":
            pick = cost.min(axis=0)
        else:
            low = cost.min(axis=(0, 2))
            low = np.where(np.isfinite(low), low, 0.0)
            with np.errstate(over="ignore", invalid="ignore"):
                pick = np.where(
                    np.isfinite(cost), np.exp(-b.logit_scale_per_min * (cost - low[None, :, None])), 0.0
                ).sum(axis=0)
        for s in range(len(w.services)):
            carry = np.zeros(len(new_unit))
            for week, d in np.ndindex(2, 7):  # the second week carries the first week's postponements
                ok = allowed[s] & w.fac_days[:, d][None, :]
                due = demand[s] + carry
                if b.choice == "nearest":
                    c = np.where(ok, pick, np.inf)
                    k = c.argmin(axis=1)
                    reach = np.isfinite(c[np.arange(len(k)), k])
                    share = np.zeros_like(c)
                    share[np.flatnonzero(reach), k[reach]] = 1.0
                else:
                    x = np.where(ok, pick, 0.0)
                    tot = x.sum(axis=1, keepdims=True)
                    share = np.divide(x, tot, out=np.zeros_like(x), where=tot > 0)
                    reach = tot[:, 0] > 0
                carry = np.where(reach, 0.0, due)
                if week == 1:
                    out[d] += due @ share
        return out

    f_idx, d_idx = np.nonzero(receiving[:, None] & w.fac_days)  # facility-weekdays open
    span = w.fac_close_wd[f_idx, d_idx] - w.fac_open_wd[f_idx, d_idx]
    servers = w.fac_servers[f_idx].astype(float)
    retry_from = np.arange(len(f_idx))  # row of the open day whose turned away come on this row's day
    for i, (f, d) in enumerate(zip(f_idx, d_idx, strict=True)):
        back = next((d - k) % 7 for k in range(1, 8) if w.fac_days[f, (d - k) % 7])
        retry_from[i] = np.flatnonzero((f_idx == f) & (d_idx == back))[0]

    open_wd, close_wd = w.fac_open_wd[f_idx, d_idx], w.fac_close_wd[f_idx, d_idx]

    def waits(per_day: np.ndarray, *, courant: float, retry_rounds: int) -> np.ndarray:
        """(7, F) mean wait per facility-weekday (min); the integration step keeps (peak arrival
        rate + c mu) x step <= ``courant``."""
        base = per_day[d_idx, f_idx]
        peak = np.array([arrival_density(b, o, c, 1.0).max() for o, c in zip(open_wd, close_wd, strict=True)])
        fastest = float(np.max(base * 1.5 * peak + servers / mean_svc[f_idx], initial=1e-9))
        step = min(MAX_STEP_MIN, courant / fastest)
        visits = base
        for _ in range(retry_rounds):  # the turned away come back on the facility's next open day
            key = np.column_stack([f_idx, open_wd, close_wd, visits])
            uniq, first, back = np.unique(key, axis=0, return_index=True, return_inverse=True)
            density = np.zeros((len(uniq), int(np.ceil(span.max() / step)) if len(span) else 0))
            for i, j in enumerate(first):
                x = arrival_density(b, open_wd[j], close_wd[j], step)
                density[i, : len(x)] = x
            wq_u, away_u = transient_mean_wait(
                visits[first],
                density,
                servers[first],
                mean_svc[f_idx[first]],
                np.ceil(span[first] / step),
                step,
            )
            wq, away = wq_u[back.reshape(-1)], away_u[back.reshape(-1)]
            visits = base + away[retry_from]
        out = np.zeros((7, n_f))
        out[d_idx, f_idx] = wq * (1.0 + cv2[f_idx]) / 2.0
        return out

    wait = np.zeros(n_f)
    per_day = flows(wait)
    for k in range(2, MSA_ROUNDS + 1):  # successive averages of the flows (coarser chain meanwhile)
        wait = _mean_over_days(waits(per_day, courant=0.5, retry_rounds=1), per_day)
        per_day += (flows(wait) - per_day) / k
    by_day = waits(per_day, courant=0.2, retry_rounds=RETRY_ROUNDS)
    wait = _mean_over_days(by_day, per_day)
    open_days = np.maximum(w.fac_days.sum(axis=1), 1)
    mu = 1.0 / mean_svc
    minutes = (np.where(w.fac_days, w.fac_close_wd - w.fac_open_wd, 0.0)).sum(axis=1)
    lam = per_day.sum(axis=0) / np.maximum(minutes, 1e-9)  # per open minute, over the week
    stationary = np.array(
        [
            erlang_c_mean_wait(lam[f], mu[f], int(w.fac_servers[f])) * (1 + cv2[f]) / 2
            if receiving[f]
            else 0.0
            for f in range(n_f)
        ]
    )
    return PlannedWaits(
        visits_per_open_day=per_day.sum(axis=0) / open_days,
        wait_min=wait,
        erlang_c_day_mean_min=stationary,
        utilisation=lam / mu / np.maximum(w.fac_servers, 1),
    )


def _mean_over_days(by_day: np.ndarray, per_day: np.ndarray) -> np.ndarray:
    """Visit-weighted mean over weekdays per facility (0 without visits)."""
    tot = per_day.sum(axis=0)
    return np.divide((by_day * per_day).sum(axis=0), tot, out=np.zeros(len(tot)), where=tot > 0)
