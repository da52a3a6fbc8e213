"""Road and node CSVs: the whole-table reader gives exactly what reading row by row gives, and a bad
row is still named."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.world.network import read_road_file, read_road_nodes

KNOWN = {"a", "b", "c", "seat:x"}
#: Valid but untidy: quoted fields, a blank line, short rows lacking the optional columns, mixed
#: flags, a ferry with a fare, blank fares, exponent notation, parallel edges.
ROADS = (
    "u,v,length_km,road_class,oneway,time_min,fare_yuan\n"
    "a,b,1.5,rural,yes,,\n"
    '"b","c",2e-1,trunk, No ,,\n'
    "\n"
    "a,b,0.75,rural\n"
    "c,seat:x,3,ferry,1,40,12.5\n"
    "b,a,1,track,TRUE,,0\n"
)


def _by_rows(text: str) -> list[tuple[object, ...]]:
    """The edges as an independent row-by-row reading of the CSV (csv.DictReader) gives them."""
    out = []
    for row in csv.DictReader(text.splitlines()):
        ferry = row["road_class"] == "ferry"
        oneway = (row.get("oneway") or "").strip().lower() in {"1", "true", "yes", "y", "t"}
        fare = row.get("fare_yuan") or ""
        out.append(
            (
                row["u"],
                row["v"],
                float(row["length_km"]),
                row["road_class"],
                oneway,
                float(row["time_min"]) if ferry else math.nan,
                float(fare) if fare.strip() else 0.0,
                f"{row['u']}-{row['v']}" if ferry else "",
            )
        )
    return out


def test_whole_table_reading_equals_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "roads.csv"
    path.write_text(ROADS, encoding="utf-8")
    got = read_road_file(path, KNOWN)
    columns = (
        got.u,
        got.v,
        got.length_km,
        got.road_class,
        got.oneway,
        got.fixed_min,
        got.fare_yuan,
        got.name,
    )
    rows = list(zip(*columns, strict=True))
    expected = _by_rows(ROADS)
    assert len(rows) == len(expected) == 5
    for mine, ref in zip(rows, expected, strict=True):
        assert mine[:5] == ref[:5] and mine[6:] == ref[6:]
        assert (math.isnan(mine[5]) and math.isnan(ref[5])) or mine[5] == ref[5]


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ("a,b,1,rural\nb,zz,1,rural\n", "edge 2.v"),
        ("a,b,1,rural\nb,c,-1,rural\n", "edge 2.length_km"),
        ("a,b,1,rural,maybe\n", "edge 1.oneway"),
        ("a,b,1,rural\nc,seat:x,2,ferry\n", "edge 2.time_min"),
        ("a,b,1,rural,,,free\n", "edge 1.fare_yuan"),
    ],
)
def test_a_bad_row_is_named(tmp_path: Path, bad: str, where: str) -> None:
    path = tmp_path / "roads.csv"
    path.write_text("u,v,length_km,road_class,oneway,time_min,fare_yuan\n" + bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_road_file(path, KNOWN)
    assert info.value.field == where


def test_node_file_read_whole_or_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "nodes.csv"
    path.write_text('id,x_km,y_km\nn1,0.5,1\n"n2",-2e0,3.25\n', encoding="utf-8")
    assert read_road_nodes(path) == {"n1": (0.5, 1.0), "n2": (-2.0, 3.25)}
    path.write_text("id,x_km,y_km,name\nn1,0.5,1,first\n", encoding="utf-8")  # extra column: row reader
    assert read_road_nodes(path) == {"n1": (0.5, 1.0)}
    path.write_text("id,x_km,y_km\nn1,0.5,1\nn1,2,2\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_road_nodes(path)
    assert info.value.field == "line 3"
