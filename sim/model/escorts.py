"""Escorts: the caregiver's time taking children to school and to the clinic."""

from __future__ import annotations

import numpy as np

__all__ = ["clinic_escort_min", "school_escort_min"]


def school_escort_min(
    *,
    escort: np.ndarray,
    caregiver: np.ndarray,
    school: np.ndarray,
    one_way_min: np.ndarray,
    days: np.ndarray,
    legs: int,
) -> np.ndarray:
    """Escort minutes over the run per pupil (their share of their caregiver's trips).

    A caregiver escorts the children going to one school in one trip: each (caregiver, school)
    pair costs ``legs`` one-way journeys per school day, shared equally among its children.

    Args:
        escort, caregiver, school, one_way_min, days: per pupil, escorted or not, caregiver row,
            school code, one-way minutes and school days attended.

    Returns:
        per pupil escort minutes (0 for pupils not escorted); their sum per caregiver is the
        caregiver's school escort time.
    """
    out = np.zeros(len(escort))
    rows = np.flatnonzero(escort)
    if len(rows) == 0:
        return out
    pair = caregiver[rows].astype(np.int64) * (int(school.max()) + 1) + school[rows]
    _, group, count = np.unique(pair, return_inverse=True, return_counts=True)
    trip = np.zeros(len(count))
    np.maximum.at(trip, group, legs * one_way_min[rows] * days[rows])
    out[rows] = trip[group] / count[group]
    return out


def clinic_escort_min(
    *,
    resident: np.ndarray,
    purpose: np.ndarray,
    minutes: np.ndarray,
    age: np.ndarray,
    below_age: int,
    clinic_services: np.ndarray,
) -> np.ndarray:
    """Per trip, the minutes a caregiver spends with a child at the clinic: the whole trip (there,
    wait, service, home) when the child is younger than ``below_age`` and the errand is a clinic
    service; 0 otherwise."""
    escorted = (age[resident] < below_age) & clinic_services[purpose]
    return np.where(escorted, minutes, 0.0)
