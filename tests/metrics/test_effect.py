"""merger-effect: difference in differences of the merger-effect cells of paired runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.metrics.effect import merger_effect, pair_effect
from sim.results.io import read_summary, write_run
from sim.runner import run_scenario
from tests.conftest import TINY, TINY_MERGED


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    root = tmp_path_factory.mktemp("effect")
    out: dict[str, list[Path]] = {"before": [], "after": []}
    for seed in (1, 2):
        for key, file in (("before", TINY), ("after", TINY_MERGED)):
            loaded, result = run_scenario(file, days=14, seed=seed)
            path = root / f"{key}_{seed}"
            write_run(result, path, scenario_raw=loaded.raw)
            out[key].append(path)
    return out


def test_did_equals_hand_computation(runs: dict[str, list[Path]]) -> None:
    before, after = runs["before"][0], runs["after"][0]
    cells = {
        k: pd.DataFrame([c.to_json_dict() for c in read_summary(p).access.merger_effect_cells.rows])
        for k, p in (("a", before), ("b", after))
    }
    status = read_summary(after).access.merger_effect_cells.merger_status
    assert status == {"east": "new_seat", "west": "absorbed", "isle": "unmerged"}
    col = "nearest_km_admin_complex"

    def change(units: list[str]) -> float:
        a = cells["a"][cells["a"]["former_unit"].isin(units) & cells["a"][col].notna()]
        b = (
            cells["b"]
            .set_index(["former_unit", "age_band"])
            .loc[list(zip(a["former_unit"], a["age_band"], strict=True))]
        )
        return float(np.average(b[col].to_numpy() - a[col].to_numpy(), weights=a["population"]))

    effect = pair_effect(before, after)
    assert effect.loc[("did_absorbed", "all"), col] == pytest.approx(
        change(["west"]) - change(["isle"]), abs=1e-9
    )
    assert effect.loc[("did_merged", "all"), col] == pytest.approx(
        change(["east", "west"]) - change(["isle"]), abs=1e-9
    )
    # the West hall became a service point: complex errands now need the East hall, the isle is untouched
    assert effect.loc[("change_unmerged", "all"), col] == pytest.approx(0, abs=1e-9)
    assert effect.loc[("did_absorbed", "all"), col] > 1.0
    assert effect.loc[("did_absorbed", "all"), "e2sfca_admin_complex"] < 0


def test_pairs_give_a_confidence_interval_and_cli_prints_it(
    runs: dict[str, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = merger_effect(runs["before"], runs["after"])
    col = "round_trip_km_per_errand_admin"
    row = table.loc[("did_absorbed", "all")]
    assert row[(col, "n")] == 2
    assert row[(col, "ci_low")] <= row[(col, "mean")] <= row[(col, "ci_high")]
    structural = table.loc[("did_absorbed", "all"), ("nearest_km_admin_complex", "ci_high")]
    assert structural == pytest.approx(
        table.loc[("did_absorbed", "all"), ("nearest_km_admin_complex", "mean")]
    )
    csv = tmp_path / "effect.csv"
    args = ["merger-effect", "--before", *map(str, runs["before"]), "--after", *map(str, runs["after"])]
    assert main([*args, "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "== nearest_km_admin_complex ==" in out
    # the published effect is printed beside the measure it compares with
    assert "== round_trip_km_per_errand_admin ==\npublished: Liu (CDEMS 2026): +6.3 km" in out
    assert "nearest_km_admin_complex.mean" in csv.read_text(encoding="utf-8")
    assert main([*args, "--csv", str(csv)]) == 0  # its own unchanged table is replaced
    csv.write_text("mine\n", encoding="utf-8")
    assert main([*args, "--csv", str(csv)]) == 2  # a file changed since townsim wrote it is kept
    assert "was changed after townsim wrote it" in capsys.readouterr().err
    assert csv.read_text(encoding="utf-8") == "mine\n"
    assert main(["merger-effect", "--before", str(runs["before"][0]), "--after", str(runs["after"][1])]) == 2
    assert "same seed" in capsys.readouterr().err


def test_compare_shows_accessibility_by_former_township(runs: dict[str, list[Path]]) -> None:
    from sim.metrics.compare import compare_runs

    table = compare_runs(runs["before"][0], runs["after"][0])
    change = table[("B-A", "e2sfca_admin_complex")]
    assert change["west"] < 0  # its hall became a service point
    assert change["isle"] == pytest.approx(0, abs=1e-9)  # untouched
    assert np.isfinite(table[("A", "burden_theil_between_share")]["ALL"])
