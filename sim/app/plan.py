"""What a planner can change on the page, and the overlay YAML those changes make.

The page sends *edits* (JSON); :func:`overlay_from_edits` turns them into an overlay mapping that
holds only what differs from the base scenario; :func:`save_overlay` writes it, content-addressed,
into the app's folder and validates it exactly as ``townsim validate --overlay`` does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.app.geo import facility_name
from sim.errors import ScenarioError
from sim.scenario.load import LoadedScenario, load_scenario
from sim.scenario.schema import Hours
from sim.transit.candidates import read_candidates

__all__ = [
    "ACTIONS",
    "EDITABLE_KINDS",
    "Choices",
    "FacilityChoice",
    "choices_of",
    "drawn_line",
    "overlay_from_edits",
    "overlay_text",
    "save_overlay",
]

#: Facility kinds whose windows (doctors), plan action and opening hours the page edits.
EDITABLE_KINDS = ("hall", "service_point", "clinic")
#: Plan actions offered per kind (a clinic cannot become a service point).
ACTIONS = {
    "hall": ("keep", "restaff", "downgrade", "close"),
    "service_point": ("keep", "close"),
    "clinic": ("keep", "restaff", "close"),
}


@dataclass(frozen=True)
class FacilityChoice:
    """One editable facility as the base plan has it."""

    id: str
    kind: str  # kind before the plan (hall, service_point, clinic)
    unit: str
    zh: str
    en: str
    action: str  # keep / restaff / downgrade / close in the base plan
    servers: int  # windows (doctors) after the base plan; 0 if closed
    services: tuple[str, ...] | None  # services the base plan's change sets, if any
    hours: dict[str, str] | None  # its own opening hours {"open", "close"}; None: its kind's hours
    week: dict[str, Any]  # days and by_day of the hours it has in the base plan (kept when edited)


@dataclass(frozen=True)
class Choices:
    """Everything the page offers to change, with the base plan's values."""

    candidates: dict[str, dict[str, Any]]  # candidate line id -> line spec (as in transit.lines)
    facilities: list[FacilityChoice]
    hours: dict[str, dict[str, str]]  # kind -> {"open": "HH:MM", "close": "HH:MM"}
    existing_lines: list[str] = field(default_factory=list)


def choices_of(loaded: LoadedScenario, candidates: str | Path | None) -> Choices:
    """The editable facilities, hours and candidate lines of a loaded base scenario.

    Raises:
        ScenarioError: the candidates file is malformed or reuses a line id of the base.
    """
    sc = loaded.scenario
    lines = read_candidates(candidates) if candidates is not None else {}
    existing = list(sc.transit.lines) if sc.transit else []
    clash = sorted(set(lines) & set(existing))
    if clash:
        raise ScenarioError(
            str(candidates), f"lines.{clash[0]}", "expected an id the base scenario does not use"
        )
    facilities = []
    for fid, fac in sc.facilities.items():
        if fac.kind not in EDITABLE_KINDS:
            continue
        change = sc.merger.facilities.get(fid)
        action = change.action if change else "keep"
        servers = fac.servers if change is None or change.servers is None else change.servers
        # a downgrade takes the service points' hours (the facility's own are dropped)
        own = None if action == "downgrade" else fac.hours
        kind_hours = sc.facility_defaults.get("service_point" if action == "downgrade" else fac.kind)
        effective = own or (kind_hours.hours if kind_hours is not None else None)
        facilities.append(
            FacilityChoice(
                id=fid,
                kind=fac.kind,
                unit=fac.unit,
                zh=facility_name(loaded.scenario, fid, "zh"),
                en=facility_name(loaded.scenario, fid, "en"),
                action=action,
                servers=0 if action == "close" else int(servers),
                services=change.services if change else None,
                hours={"open": own.open, "close": own.close} if own is not None else None,
                week=_week(effective),
            )
        )
    hours = {}
    for kind in EDITABLE_KINDS:
        defaults = sc.facility_defaults.get(kind)  # type: ignore[call-overload]
        if defaults is not None and defaults.hours is not None:
            hours[kind] = {"open": defaults.hours.open, "close": defaults.hours.close}
    return Choices(candidates=lines, facilities=facilities, hours=hours, existing_lines=existing)


def _week(hours: Hours | None) -> dict[str, Any]:
    """The days and other-weekday hours of ``hours`` as overlay YAML holds them ({} if none)."""
    if hours is None:
        return {}
    week: dict[str, Any] = {"days": list(hours.days)}
    if hours.by_day:
        week["by_day"] = {d: {"open": h.open, "close": h.close} for d, h in hours.by_day.items()}
    return week


def _own_hours(value: Any) -> dict[str, str] | None:
    """Own hours as typed on the page; ``None`` (its kind's hours) when both fields are empty."""
    if not isinstance(value, dict):
        return None
    new = {k: str(value.get(k) or "").strip() for k in ("open", "close")}
    return None if not any(new.values()) else new


def _number(value: Any) -> Any:
    """An integer typed on the page as an int; anything else unchanged (validation names it)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return text
    return value


def overlay_from_edits(choices: Choices, edits: dict[str, Any]) -> dict[str, Any]:
    """The overlay mapping of the page's edits; only what differs from the base is written.

    Args:
        choices: what the base offers (from :func:`choices_of`).
        edits: ``{"lines": [candidate ids switched on], "drawn": {id: {"name", "stops",
            "every_min", "first", "last"}} (lines drawn on the map), "facilities": {id: {"action", "servers",
            "hours": {"open", "close"} or None for its kind's hours}}, "hours": {kind: {"open",
            "close"}}}``; values are as typed (validation checks them). A facility's own hours
            keep the days of the hours it has in the base plan.

    Raises:
        ScenarioError: an edit names a line, facility, action or kind the page does not offer.
    """
    where = "(page edits)"
    overlay: dict[str, Any] = {}
    on = list(edits.get("lines") or [])
    for lid in on:
        if lid not in choices.candidates:
            raise ScenarioError(
                where, f"lines.{lid}", f"expected one of the candidate lines {sorted(choices.candidates)}"
            )
    lines = {lid: choices.candidates[lid] for lid in on}
    for lid, spec in (edits.get("drawn") or {}).items():
        if lid in choices.candidates or lid in choices.existing_lines:
            raise ScenarioError(
                where, f"drawn.{lid}", "expected a line id the base and candidates do not use"
            )
        lines[lid] = drawn_line(lid, spec)
    if lines:
        overlay["transit"] = {"lines": lines}
    by_id = {f.id: f for f in choices.facilities}
    changes: dict[str, Any] = {}
    own_hours: dict[str, Any] = {}
    for fid, edit in (edits.get("facilities") or {}).items():
        base = by_id.get(fid)
        if base is None:
            raise ScenarioError(
                where, f"facilities.{fid}", "expected a hall, service point or clinic of the base"
            )
        action = edit.get("action", base.action)
        if action not in ACTIONS[base.kind]:
            raise ScenarioError(
                where, f"facilities.{fid}.action", f"expected one of {list(ACTIONS[base.kind])}"
            )
        servers = _number(edit.get("servers", base.servers))
        own = _own_hours(edit["hours"]) if "hours" in edit else base.hours
        if own != base.hours and action != "close":
            if action == "downgrade" and own is not None:
                raise ScenarioError(
                    where,
                    f"facilities.{fid}.hours",
                    "expected no own hours for a facility the plan downgrades "
                    "(it takes the service points' hours)",
                )
            own_hours[fid] = {"hours": None if own is None else {**own, **base.week}}
        if action == base.action and (action == "close" or servers == base.servers):
            continue
        if action == "close":
            changes[fid] = {"action": "close", "servers": None, "services": None}
        else:
            keep_services = action == "downgrade" and base.services
            changes[fid] = {
                "action": action,
                "servers": servers,
                "services": list(base.services) if keep_services and base.services else None,
            }
    if own_hours:
        overlay["facilities"] = own_hours
    if changes:
        overlay["merger"] = {"facilities": changes}
    hours: dict[str, Any] = {}
    for kind, edit in (edits.get("hours") or {}).items():
        if kind not in choices.hours:
            raise ScenarioError(where, f"hours.{kind}", f"expected one of {sorted(choices.hours)}")
        new = {k: str(edit.get(k, choices.hours[kind][k])).strip() for k in ("open", "close")}
        if new != choices.hours[kind]:
            hours[kind] = {"hours": new}
    if hours:
        overlay["facility_defaults"] = hours
    return overlay


#: What a line drawn on the page assumes besides its stops, headway and hours.
DRAWN_DEFAULTS = {"along_road": True, "speed_kph": 25, "fare_yuan": 2, "capacity": 40}


def drawn_line(lid: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The scenario line of a line drawn on the page: its stops in click order, along the roads at
    :data:`DRAWN_DEFAULTS` speed, fare and capacity, departures every ``every_min`` from ``first``
    to ``last`` (values as typed: the overlay's validation names a bad one)."""
    name = str(spec.get("name") or "").strip() or lid
    return {
        "zh": name,
        "en": name,
        "stops": list(spec.get("stops") or []),
        **DRAWN_DEFAULTS,
        "headway": {
            "first": str(spec.get("first") or "").strip(),
            "last": str(spec.get("last") or "").strip(),
            "every_min": _number(spec.get("every_min")),
        },
        "source": "drawn on the planner's page; speed, fare and capacity assumed",
    }


def overlay_text(overlay: dict[str, Any], *, scenario: str) -> str:
    """The overlay as YAML with a header saying how to use it."""
    header = (
        f"# Overlay written by `townsim app` on {scenario}\n"
        f"# Use: townsim run {scenario} --overlay THIS_FILE --seed S --days D\n"
    )
    if not overlay:
        return header + "# (no changes: the base plan)\n{}\n"
    return header + yaml.safe_dump(overlay, allow_unicode=True, sort_keys=False)


def save_overlay(
    overlay: dict[str, Any], *, scenario: Path, scenario_label: str, folder: Path
) -> tuple[Path, LoadedScenario]:
    """Write the overlay into ``folder`` (name = hash of its content) and validate it like the CLI.

    Returns:
        The overlay file and the loaded base + overlay.

    Raises:
        ScenarioError: the changed plan is invalid (same message as ``townsim validate --overlay``).
    """
    text = overlay_text(overlay, scenario=scenario_label)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"plan_{digest}.yaml"
    fresh = not path.is_file()
    if not fresh and path.read_text(encoding="utf-8", errors="replace") != text:
        raise ScenarioError(
            str(path),
            "(file)",
            "expected the plan the app wrote there (its name is the hash of its content), but the "
            "file was changed; move it out of the app's folder",
        )
    if fresh:
        tmp = folder / f".{path.name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    from sim.world.world import build_world  # imported when a plan is first run, not at start-up

    try:
        loaded = load_scenario(scenario, overlays=[path])
        build_world(loaded)
    except ScenarioError:
        if fresh:  # keep only plans that validate
            path.unlink()
        raise
    return path, loaded
