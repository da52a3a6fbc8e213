"""Erlang C (M/M/c) waiting times and window sizing for a wait target."""

from __future__ import annotations

__all__ = [
    "erlang_c_mean_wait",
    "erlang_c_wait_probability",
    "servers_for_wait",
]


def erlang_c_wait_probability(lam: float, mu: float, c: int) -> float:
    """Probability an arrival waits in an M/M/c queue (Erlang C); 1 when the queue is unstable.

    Computed through the Erlang B recursion, which stays finite for large c.

    Args:
        lam: arrival rate (per minute).
        mu: service rate of one server (per minute, 1 / mean service time).
        c: servers.
    """
    a = lam / mu
    if c <= 0 or a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def erlang_c_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue (same time unit as 1 / lam) of M/M/c; inf when lam >= c mu."""
    if lam <= 0:
        return 0.0
    if c <= 0 or lam >= c * mu:
        return float("inf")
    return erlang_c_wait_probability(lam, mu, c) / (c * mu - lam)


def servers_for_wait(
    lam: float, mu: float, target_wait: float, *, at_least: int = 1, at_most: int = 500
) -> int:
    """Fewest servers (>= at_least) whose Erlang C mean wait is within the target.

    Raises:
        ValueError: no number up to ``at_most`` meets the target.
    """
    for c in range(max(at_least, 1), at_most + 1):
        if erlang_c_mean_wait(lam, mu, c) <= target_wait:
            return c
    raise ValueError(
        f"no server count up to {at_most} meets a mean wait of {target_wait} (load {lam / mu:.1f})"
    )
