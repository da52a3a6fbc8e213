"""Hostile run folders given to every reader: gis, figures, report, compare, merger-effect, explain.

One tiny run (3 days), one of the merged plan and one replicated run are made per module; each
case damages a copy. Every case asserts: exit code 2, one ``townsim: error:`` message naming the
file and the field, nothing written, every file the user had left as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.cli import main
from tests.conftest import TINY, TINY_MERGED

Damage = Callable[[Path], None]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Finished runs: ``base`` (tiny, 3 days), ``merged`` (3 days), ``reps`` (2 replications, 2 days)."""
    root = tmp_path_factory.mktemp("runs")
    out = {"base": root / "base", "merged": root / "merged", "reps": root / "reps", "reps_b": root / "reps_b"}
    assert main(["run", str(TINY), "--days", "3", "--out", str(out["base"]), "--quiet"]) == 0
    assert main(["run", str(TINY_MERGED), "--days", "3", "--out", str(out["merged"]), "--quiet"]) == 0
    for name, scenario in (("reps", TINY), ("reps_b", TINY_MERGED)):
        argv = [
            "run",
            str(scenario),
            "--days",
            "2",
            "--replications",
            "2",
            "--out",
            str(out[name]),
            "--quiet",
        ]
        assert main(argv) == 0
    return out


# -- damage to one file of a copied run folder -------------------------------------------------
def _json_edit(name: str, edit: Callable[[Any], Any]) -> Damage:
    def damage(folder: Path) -> None:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        result = edit(data)
        (folder / name).write_text(json.dumps(data if result is None else result), encoding="utf-8")

    return damage


def _set(*path: Any, value: Any) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _yaml_edit(edit: Callable[[dict], None]) -> Damage:
    def damage(folder: Path) -> None:
        raw = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        edit(raw)
        (folder / "scenario.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    return damage


def _write(name: str, content: bytes) -> Damage:
    return lambda folder: (folder / name).write_bytes(content)


def _truncate(name: str) -> Damage:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    return damage


def _table(name: str, edit: Callable[[pd.DataFrame], pd.DataFrame | None]) -> Damage:
    def damage(folder: Path) -> None:
        frame = pd.read_parquet(folder / f"{name}.parquet")
        result = edit(frame)
        (result if result is not None else frame).to_parquet(folder / f"{name}.parquet", index=False)

    return damage


def _cell(column: str, value: Any, row: int = 0) -> Callable[[pd.DataFrame], None]:
    def edit(frame: pd.DataFrame) -> None:
        frame[column] = frame[column].astype(float) if isinstance(value, float) else frame[column]
        frame.loc[row, column] = value

    return edit


def _outline(folder: Path, target: str, content: bytes | None = None) -> None:
    if content is not None:
        (folder / target).write_bytes(content)
    prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    prov["outline_file"] = str(folder / target) if content is not None else target
    (folder / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")


NAN = float("nan")
# (id, damage, texts the message names)
DAMAGES: list[tuple[str, Damage, tuple[str, ...]]] = [
    ("yaml_syntax", _write("scenario.yaml", b"name: x\nunits: [\n"), ("scenario.yaml", "line 3")),
    ("yaml_list", _write("scenario.yaml", b"- a\n- b\n"), ("scenario.yaml", "(top level)")),
    ("yaml_gbk", _write("scenario.yaml", "name: 统计试验\n".encode("gbk")), ("scenario.yaml", "UTF-8")),
    ("yaml_crs_unknown", _yaml_edit(lambda raw: raw.update(crs="EPSG:999999")), ("scenario.yaml", "crs")),
    ("yaml_crs_number", _yaml_edit(lambda raw: raw.update(crs=[1, 2])), ("scenario.yaml", "crs")),
    ("places_truncated", _truncate("places.parquet"), ("places.parquet",)),
    ("places_no_x", _table("places", lambda f: f.drop(columns="x_km")), ("places.parquet", "x_km")),
    ("places_x_nan", _table("places", _cell("x_km", NAN)), ("places.parquet", "row 1, column x_km")),
    (
        "places_y_inf",
        _table("places", _cell("y_km", float("inf"), 2)),
        ("places.parquet", "row 3, column y_km"),
    ),
    ("places_x_1e300", _table("places", _cell("x_km", 1e300)), ("places.parquet", "column x_km")),
    (
        "places_population_negative",
        _table("places", _cell("population", -5)),
        ("places.parquet", "population"),
    ),
    ("edges_length_negative", _table("edges", _cell("length_km", -1.0)), ("edges.parquet", "length_km")),
    ("edges_x0_nan", _table("edges", _cell("x0_km", NAN)), ("edges.parquet", "x0_km")),
    ("edges_no_v", _table("edges", lambda f: f.drop(columns="v")), ("edges.parquet", "'v'")),
    ("trips_truncated", _truncate("trips.parquet"), ("trips.parquet",)),
    ("trips_no_wait", _table("trips", lambda f: f.drop(columns="wait_min")), ("trips.parquet", "wait_min")),
    ("errands_garbage", _write("errands.parquet", b"PAR1 not parquet"), ("errands.parquet",)),
    (
        "residents_no_weight",
        _table("residents", lambda f: f.drop(columns="weight")),
        ("residents.parquet", "weight"),
    ),
    ("provenance_truncated", _truncate("provenance.json"), ("provenance.json",)),
    ("provenance_list", _write("provenance.json", b"[1]"), ("provenance.json",)),
    (
        "provenance_seed_text",
        _json_edit("provenance.json", _set("seed", value="seven")),
        ("provenance.json", "seed"),
    ),
    (
        "provenance_seed_negative",
        _json_edit("provenance.json", _set("seed", value=-5)),
        ("provenance.json", "seed"),
    ),
    (
        "provenance_seed_other",
        _json_edit("provenance.json", _set("seed", value=8)),
        ("provenance.json", "seed"),
    ),
    (
        "provenance_days_zero",
        _json_edit("provenance.json", _set("days", value=0)),
        ("provenance.json", "days"),
    ),
    (
        "provenance_scale_nan",
        _write("provenance.json", b'{"scenario": "x", "seed": 7, "days": 3, "population_scale": NaN}'),
        ("provenance.json", "population_scale"),
    ),
    ("outline_outside", lambda f: _outline(f, "/etc/passwd"), ("provenance.json", "outline_file")),
    (
        "outline_dotdot",
        lambda f: _outline(f, "../../../../etc/hostname"),
        ("provenance.json", "outline_file"),
    ),
    (
        "outline_not_geojson",
        lambda f: _outline(f, "notes.txt", b"my notes"),
        ("provenance.json", "outline_file"),
    ),
    (
        "outline_broken_geojson",
        lambda f: _outline(f, "land.geojson", b'{"type": "Poly'),
        ("land.geojson", "outline"),
    ),
    ("summary_truncated", _truncate("summary.json"), ("summary.json",)),
    ("summary_days_text", _json_edit("summary.json", _set("days", value="three")), ("summary.json", "days")),
    (
        "summary_burden_nan",
        _json_edit("summary.json", _set("burden_min", "mean", value=NAN)),
        ("summary.json", "burden_min"),
    ),
    (
        "effect_population_negative",
        _json_edit(
            "summary.json", _set("access", "merger_effect_cells", "rows", 0, "population", value=-30.0)
        ),
        ("summary.json", "population"),
    ),
    (
        "effect_distance_negative",
        _json_edit(
            "summary.json", _set("access", "merger_effect_cells", "rows", 0, "nearest_km_clinic", value=-3.0)
        ),
        ("summary.json", "nearest_km_clinic"),
    ),
    (
        "effect_population_nan",
        _json_edit("summary.json", _set("access", "merger_effect_cells", "rows", 0, "population", value=NAN)),
        ("summary.json", "population"),
    ),
]

# Each reader with a damaged copy ``{run}`` of the base run, the good runs and an output path.
READERS: dict[str, tuple[str, ...]] = {
    "gis": ("gis", "{run}", "--out", "{out}"),
    "figures": ("figures", "{run}", "--out", "{out}", "--format", "png"),
    "report": ("report", "{run}", "--out", "{out}"),
    "compare": ("compare", "{merged}", "{run}"),
    "effect": ("merger-effect", "--before", "{run}", "--after", "{merged}"),
    "explain": ("explain", "{merged}", "{run}"),
}
#: Damages each reader sees (every reader sees the folder-level ones; gis all).
EVERY_READER = {
    "yaml_syntax",
    "places_x_nan",
    "places_no_x",
    "trips_truncated",
    "provenance_seed_text",
    "provenance_seed_other",
    "outline_outside",
    "summary_burden_nan",
    "edges_length_negative",
    "effect_population_negative",
    "provenance_truncated",
    "outline_not_geojson",
    "summary_truncated",
    "yaml_crs_unknown",
}


def _damaged(damage: Damage, argv: tuple[str, ...]) -> Callable[[Path, dict[str, Path]], list[str]]:
    def setup(tmp: Path, runs: dict[str, Path]) -> list[str]:
        copy_ = tmp / "r"
        shutil.copytree(runs["base"], copy_)
        damage(copy_)
        names = {"run": copy_, "out": tmp / "out", **runs}
        return [a.format(**names) for a in argv]

    return setup


def _reps_damage(damage: Damage, other: str = "reps") -> Callable[[Path, dict[str, Path]], list[str]]:
    def setup(tmp: Path, runs: dict[str, Path]) -> list[str]:
        copy_ = tmp / "reps"
        shutil.copytree(runs[other], copy_)
        damage(copy_)
        return ["compare", str(runs["reps_b"]), str(copy_)]

    return setup


def _pair(edit_b: Damage, *extra: str) -> Callable[[Path, dict[str, Path]], list[str]]:
    """compare base with a copy of the merged run edited by ``edit_b``."""

    def setup(tmp: Path, runs: dict[str, Path]) -> list[str]:
        copy_ = tmp / "m"
        shutil.copytree(runs["merged"], copy_)
        edit_b(copy_)
        return ["compare", str(runs["base"]), str(copy_), *extra]

    return setup


def _other_length(tmp: Path, runs: dict[str, Path]) -> list[str]:
    out = tmp / "m4"
    assert main(["run", str(TINY_MERGED), "--days", "4", "--out", str(out), "--quiet"]) == 0
    return ["compare", str(runs["base"]), str(out)]


def _other_seed(tmp: Path, runs: dict[str, Path]) -> list[str]:
    out = tmp / "m8"
    assert main(["run", str(TINY_MERGED), "--days", "3", "--seed", "8", "--out", str(out), "--quiet"]) == 0
    return ["compare", str(runs["base"]), str(out)]


def _village_moved(frame: pd.DataFrame) -> None:
    i = frame.index[frame["kind"] == "village"][0]
    frame.loc[i, "population"] = frame.loc[i, "population"] + 100


OTHER: list[tuple[str, Callable[[Path, dict[str, Path]], list[str]], tuple[str, ...]]] = [
    ("compare_other_lengths", _other_length, ("different lengths",)),
    ("compare_no_common_seed", _other_seed, ("no common seed",)),
    (
        "compare_other_warmup",
        _pair(_yaml_edit(lambda raw: raw.setdefault("simulation", {}).update(warmup_days=2))),
        ("different warm-ups", "warmup_days"),
    ),
    ("compare_other_places", _pair(_table("places", _village_moved)), ("different places",)),
    (
        "reps_seeds_repeat",
        _reps_damage(_json_edit("replications.json", _set("seeds", value=[7, 7]))),
        ("replications.json", "seeds"),
    ),
    (
        "reps_seeds_text",
        _reps_damage(_json_edit("replications.json", _set("seeds", value=["a", "b"]))),
        ("replications.json", "seeds[0]"),
    ),
    (
        "reps_seed_huge",
        _reps_damage(_json_edit("replications.json", _set("seeds", 1, value=2**40))),
        ("replications.json", "seeds"),
    ),
    (
        "reps_days_zero",
        _reps_damage(_json_edit("replications.json", _set("days", value=0))),
        ("replications.json", "days"),
    ),
    (
        "reps_n_wrong",
        _reps_damage(_json_edit("replications.json", _set("n", value=5))),
        ("replications.json", "'n'"),
    ),
    (
        "reps_more_seeds_than_runs",
        _reps_damage(_json_edit("replications.json", lambda meta: meta.update(seeds=[7, 8, 9], n=3))),
        ("summaries.json",),
    ),
    (
        "reps_summary_seed_swapped",
        _reps_damage(_json_edit("summaries.json", _set(1, "seed", value=7))),
        ("summaries.json", "[1].seed"),
    ),
    ("reps_summaries_object", _reps_damage(_write("summaries.json", b"{}")), ("summaries.json",)),
    (
        "reps_summary_nan",
        _reps_damage(_json_edit("summaries.json", _set(0, "burden_min", "mean", value=NAN))),
        ("summaries.json", "burden_min"),
    ),
    ("reps_villages_truncated", _reps_damage(_truncate("villages.parquet")), ("villages.parquet",)),
    (
        "reps_villages_foreign_seed",
        _reps_damage(_table("villages", _cell("seed", 99))),
        ("villages.parquet", "seed"),
    ),
    (
        "reps_facilities_missing",
        _reps_damage(lambda f: (f / "facilities.parquet").unlink()),
        ("facilities.parquet",),
    ),
    (
        "reps_meta_days_text",
        _reps_damage(_json_edit("replications.json", _set("days", value="two"))),
        ("replications.json", "days"),
    ),
    (
        "gis_format_comma",
        lambda tmp, runs: ["gis", str(runs["base"]), "--out", str(tmp / "g"), "--format", ","],
        ("--format",),
    ),
    (
        "gis_format_shp",
        lambda tmp, runs: ["gis", str(runs["base"]), "--out", str(tmp / "g"), "--format", "shp"],
        ("--format",),
    ),
    ("gis_not_a_folder", lambda tmp, runs: ["gis", str(tmp / "none")], ("none",)),
    (
        "effect_not_a_folder",
        lambda tmp, runs: ["merger-effect", "--before", str(tmp), "--after", str(runs["merged"])],
        ("summary.json",),
    ),
]


def _cases() -> list[tuple[str, Callable[[Path, dict[str, Path]], list[str]], tuple[str, ...]]]:
    cases = []
    for did, damage, expect in DAMAGES:
        for reader, argv in READERS.items():
            if reader == "gis" or did in EVERY_READER:
                cases.append((f"{reader}-{did}", _damaged(damage, argv), expect))
    return cases + OTHER


CASES = _cases()


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
    }


def test_the_readers_corpus_is_large() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_damaged_run_folder_exits_2_naming_file_and_field(
    case: tuple[str, Callable[[Path, dict[str, Path]], list[str]], tuple[str, ...]],
    tmp_path: Path,
    runs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, setup, expect = case
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = setup(tmp_path, runs)
    before = _snapshot(tmp_path)
    good = {name: _snapshot(path) for name, path in runs.items()}
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert re.match(r"townsim( [a-z-]+)?: error:", message), err
    for text in expect:
        assert text in message, f"{text!r} not in {message!r}"
    assert _snapshot(tmp_path) == before
    assert {name: _snapshot(path) for name, path in runs.items()} == good


def test_unpaired_comparison_is_allowed_and_says_so(
    tmp_path: Path, runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--allow-unpaired: exit 0, a warning naming the problem, and Welch intervals (checked by hand)."""
    import numpy as np
    from scipy import stats

    from sim.metrics.pairing import welch_difference
    from sim.replications import read_replications

    other = tmp_path / "reps3"
    argv = ["run", str(TINY_MERGED), "--days", "3", "--replications", "3", "--out", str(other), "--quiet"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["compare", str(runs["reps"]), str(other), "--allow-unpaired"]) == 0
    out = capsys.readouterr()
    assert "different lengths: 2 and 3 days" in out.err and "UNPAIRED" in out.err
    assert "B-A UNPAIRED: Welch" in out.out and "paired by seed" not in out.out
    table = welch_difference(read_replications(runs["reps"]), read_replications(other))
    row = table[(table["metric"] == "burden_min.mean") & (table["group_kind"] == "overall")].iloc[0]
    a = [s["burden_min"]["mean"] for s in json.loads((runs["reps"] / "summaries.json").read_text())]
    b = [s["burden_min"]["mean"] for s in json.loads((other / "summaries.json").read_text())]
    welch = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (row["n_a"], row["n_b"]) == (2, 3)
    assert row["mean_diff"] == pytest.approx(np.mean(b) - np.mean(a))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((welch.low, welch.high))


def test_the_outline_the_scenario_names_is_read_wherever_it_lies(
    tmp_path: Path, runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario extending one in another folder names its outline relative to that folder: the
    recorded file is accepted (and drawn), while an unnamed file there is refused."""
    land = tmp_path / "elsewhere" / "land.geojson"
    land.parent.mkdir()
    ring = [[119.0, 25.0], [120.5, 25.0], [120.5, 26.0], [119.0, 26.0], [119.0, 25.0]]
    land.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    copy_ = tmp_path / "r"
    shutil.copytree(runs["base"], copy_)
    _outline(copy_, str(land))
    capsys.readouterr()
    assert main(["gis", str(copy_), "--out", str(tmp_path / "refused")]) == 2
    assert "outline_file" in capsys.readouterr().err
    _yaml_edit(lambda raw: raw.update(outline="../elsewhere/land.geojson"))(copy_)
    assert main(["gis", str(copy_), "--out", str(tmp_path / "layers")]) == 0, capsys.readouterr().err
    assert (tmp_path / "layers").is_dir()
