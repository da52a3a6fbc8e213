"""The planner's page in real headless Chromium: toggle a line, run, read numbers, download, check the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny" / "buses.yaml"
CANDIDATES = Path(__file__).with_name("tiny_candidates.yaml")
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and Path(p).is_file()), None)
DRIVER = next(
    (p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver")) if p and Path(p).is_file()), None
)
DAYS = 14

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="chromium and chromedriver not installed (apt-get install chromium-driver)",
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="module")
def server(folder):
    """``townsim app`` as a user starts it, on a free port; yields the URL it prints (with its token)."""
    err = (folder / "server.err").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "app",
            str(TINY),
            "--candidates",
            str(CANDIDATES),
            "--port",
            "0",
            "--folder",
            str(folder / "work"),
            "--workers",
            "1",
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )
    url = None
    for line in proc.stdout:  # type: ignore[union-attr]
        hit = re.search(r"serving (http://127\.0\.0\.1:\d+/\?token=[\w-]+)", line)
        if hit:
            url = hit.group(1)
            break
    assert url, (folder / "server.err").read_text()
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    proc.stdout.close()  # type: ignore[union-attr]
    err.close()


@pytest.fixture(scope="module")
def browser(folder):
    downloads = folder / "downloads"
    downloads.mkdir()
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=240):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition(d))


def _run(driver) -> str:
    driver.find_element(By.ID, "run").click()
    return _wait(
        driver,
        lambda d: (
            d.find_element(By.ID, "status").get_attribute("data-state") in ("done", "error", "cancelled")
            and d.find_element(By.ID, "status").get_attribute("data-state")
        ),
    )


def _per_seed(driver) -> dict[int, tuple[float, float, float]]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#per-seed tbody tr")
    out = {}
    for row in rows:
        cells = [c.text.replace(",", "") for c in row.find_elements(By.TAG_NAME, "td")]
        out[int(cells[0])] = (float(cells[1]), float(cells[2]), float(cells[3]))
    return out


def _download(driver, link_id: str, suffix: str) -> Path:
    before = set(driver.downloads.iterdir())
    driver.find_element(By.ID, link_id).click()

    def finished(_):
        new = [p for p in driver.downloads.iterdir() if p not in before and p.suffix == suffix]
        return new[0] if new else False

    return _wait(driver, finished, timeout=120)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_page_toggle_run_download_and_cli_reproduces(server, browser, folder):
    d = browser
    d.get(server)
    _wait(d, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", timeout=60)
    # map: villages, facilities, the base lines; hover names; zoom
    assert len(d.find_elements(By.CSS_SELECTOR, "#villages circle")) == 7
    assert len(d.find_elements(By.CSS_SELECTOR, "#lines polyline")) == 2  # b1 and the ferry; candidate off
    hall = d.find_element(By.CSS_SELECTOR, '#facilities rect[data-id="east_hall"]')
    ActionChains(d).move_to_element(hall).perform()
    assert "East" in d.find_element(By.ID, "hover-info").text
    box = d.find_element(By.ID, "map").get_dom_attribute("viewBox")
    assert box and len(box.split()) == 4
    d.find_element(By.ID, "zoom-in").click()
    assert d.find_element(By.ID, "map").get_dom_attribute("viewBox") != box
    # language switch
    d.find_element(By.ID, "lang").click()
    assert d.find_element(By.ID, "run").text == "运行"
    assert d.find_element(By.CSS_SELECTOR, '.fac-name[data-fac="east_hall"]').text == "东镇便民服务中心"
    ActionChains(d).move_to_element(
        d.find_element(By.CSS_SELECTOR, '#villages circle[data-id="w2"]')
    ).perform()
    ActionChains(d).move_to_element(hall).perform()
    assert "东镇便民服务中心" in d.find_element(By.ID, "hover-info").text
    heads = [th.text for th in d.find_elements(By.CSS_SELECTOR, "#facility-table th")]
    assert heads[-1] == "本设施开放时间（空：按类型）"
    d.find_element(By.ID, "lang").click()
    assert d.find_element(By.ID, "run").text == "Run"

    for name, value in (("reps", "3"), ("days", str(DAYS))):
        field = d.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)
    # the base plan against itself: every paired difference is exactly 0
    assert _run(d) == "done"
    same = _per_seed(d)
    assert len(same) == 3 and all(diff == 0.0 for _, _, diff in same.values())

    # toggle the candidate line and add a window at the West service point
    d.find_element(By.CSS_SELECTOR, 'input.line-toggle[data-line="cand_w2_east"]').click()
    assert len(d.find_elements(By.CSS_SELECTOR, "#lines polyline")) == 3
    servers = d.find_element(By.CSS_SELECTOR, 'input.servers[data-fac="west_hall"]')
    servers.clear()
    servers.send_keys("2")
    # own hours for one health centre (the other keeps the kind's); a downgraded hall has none
    for cls, value in (("fac-open", "07:00"), ("fac-close", "20:00")):
        d.find_element(By.CSS_SELECTOR, f'input.{cls}[data-fac="east_clinic"]').send_keys(value)
    assert d.find_element(By.CSS_SELECTOR, 'input.fac-open[data-fac="west_clinic"]').get_attribute(
        "placeholder"
    ) == d.find_element(By.CSS_SELECTOR, 'input.hours-open[data-kind="clinic"]').get_attribute("value")
    Select(d.find_element(By.CSS_SELECTOR, 'select.action[data-fac="east_hall"]')).select_by_value(
        "downgrade"
    )
    assert not d.find_element(By.CSS_SELECTOR, 'input.fac-open[data-fac="east_hall"]').is_enabled()
    Select(d.find_element(By.CSS_SELECTOR, 'select.action[data-fac="east_hall"]')).select_by_value("restaff")
    assert _run(d) == "done"
    changed = _per_seed(d)
    assert set(changed) == set(same)
    assert all(changed[s][0] == same[s][0] for s in same)  # base numbers unchanged
    assert any(changed[s][1] != same[s][1] for s in same)  # the plan's numbers moved
    unit_rows = d.find_elements(By.CSS_SELECTOR, "#unit-table tbody tr")
    assert len(unit_rows) == 4  # east, west, isle, county
    assert d.find_elements(By.CSS_SELECTOR, "#line-table tbody tr")
    assert d.find_elements(By.CSS_SELECTOR, "#queue-table tbody tr")
    assert not d.find_element(By.ID, "diff-legend").get_attribute("hidden")

    overlay = _download(d, "dl-overlay", ".yaml")
    written = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    assert list(written["transit"]["lines"]) == ["cand_w2_east"]
    assert written["merger"]["facilities"]["west_hall"]["servers"] == 2
    own = written["facilities"]["east_clinic"]["hours"]
    assert (own["open"], own["close"], len(own["days"])) == ("07:00", "20:00", 7)
    assert list(written["facilities"]) == ["east_clinic"]
    report = _download(d, "dl-report", ".html")
    assert 'name="generator" content="townsim report' in report.read_text(encoding="utf-8")

    # the command line reproduces the page's numbers for every seed from the downloaded overlay
    cli_dir = folder / "cli"
    cli_dir.mkdir()
    for seed, (base, plan, diff) in changed.items():
        for name, extra in (("base", []), ("plan", ["--overlay", str(overlay)])):
            out = _cli(
                "run",
                str(TINY),
                *extra,
                "--seed",
                str(seed),
                "--days",
                str(DAYS),
                "--out",
                f"{name}{seed}",
                "--quiet",
                cwd=cli_dir,
            )
            assert out.returncode == 0, out.stderr
        got = {
            n: json.loads((cli_dir / f"{n}{seed}" / "summary.json").read_text())["burden_min"]["mean"]
            for n in ("base", "plan")
        }
        assert got["base"] == pytest.approx(base, abs=6e-4)
        assert got["plan"] == pytest.approx(plan, abs=6e-4)
        assert plan - base == pytest.approx(diff, abs=2e-3)
    # ... and the replicated comparison (all seeds, 95% CI) that the page shows for the county
    seeds = sorted(changed)
    for name, extra in (("base", []), ("plan", ["--overlay", str(overlay)])):
        run = ["run", str(TINY), *extra, "--replications", str(len(seeds)), "--seed", str(seeds[0])]
        out = _cli(*run, "--days", str(DAYS), "--out", f"{name}_all", "--quiet", cwd=cli_dir)
        assert out.returncode == 0, out.stderr
    compare = _cli("compare", "base_all", "plan_all", "--format", "json", cwd=cli_dir)
    assert compare.returncode == 0, compare.stderr
    row = next(
        r
        for r in json.loads(compare.stdout)["rows"]
        if r["metric"] == "burden_min.mean" and r["group_kind"] == "overall"
    )
    county = [c.text for c in d.find_elements(By.CSS_SELECTOR, "#unit-table tbody tr:last-child td")]
    low, high = (float(x) for x in county[4].replace("+", "").split(" … "))
    assert float(county[3].replace("+", "")) == pytest.approx(row["mean_diff"], abs=0.051)
    assert (low, high) == pytest.approx((row["ci_low"], row["ci_high"]), abs=0.051)
    assert row["n"] == len(seeds) == int(county[5])


def test_malformed_edit_shows_the_cli_error(server, browser, folder):
    d = browser
    d.get(server)
    _wait(d, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", timeout=60)
    servers = d.find_element(By.CSS_SELECTOR, 'input.servers[data-fac="east_clinic"]')
    servers.clear()
    servers.send_keys("-2")
    d.find_element(By.ID, "run").click()
    error = _wait(
        d, lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error").text
    )
    assert error.startswith("townsim: error: ")
    assert (
        "field 'merger.facilities.east_clinic.servers': Input should be greater than or equal to 0, got -2"
        in error
    )
    assert not list((folder / "work" / "plans").glob("plan_*.yaml")) or all(
        "-2" not in p.read_text(encoding="utf-8") for p in (folder / "work" / "plans").glob("plan_*.yaml")
    )


def test_run_can_be_cancelled(server, browser, folder):
    d = browser
    d.get(server)
    _wait(d, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", timeout=60)
    d.find_element(By.CSS_SELECTOR, 'input.line-toggle[data-line="cand_w2_east"]').click()
    Select(d.find_element(By.CSS_SELECTOR, 'select.action[data-fac="isle_clinic"]')).select_by_value("close")
    # runs of 3000 days (~10 s of CPU each): Cancel must stop the runs in progress, not wait for them
    for name, value in (("reps", "2"), ("days", "3000"), ("seed", "100")):
        field = d.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)
    d.find_element(By.ID, "run").click()
    _wait(d, lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "running", timeout=30)
    time.sleep(1.0)  # the workers are running
    started = time.perf_counter()
    d.find_element(By.ID, "cancel").click()
    _wait(d, lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "cancelled", timeout=30)
    assert time.perf_counter() - started < 5
    assert int(d.find_element(By.ID, "progress").get_attribute("value")) == 0  # no run had finished
    assert not d.find_element(By.ID, "results").is_displayed()  # nothing shown as a result
    assert not d.find_element(By.ID, "downloads").is_displayed()
    assert not (folder / "work" / "runs" / "3000d").exists() or not any(
        (folder / "work" / "runs" / "3000d").rglob("summary.json")
    )


def test_offline_and_inside_its_folder(server, browser, folder):
    """Everything the page loads comes from the app itself; downloads cannot name other files."""
    d = browser
    d.get(server)
    _wait(d, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", timeout=60)
    loaded = d.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    base, token = server.split("?token=")
    assert loaded and all(url.startswith(base) for url in loaded), loaded
    for path in (
        "download/overlay/..%2F..%2Fserver.err.yaml",
        "download/overlay/plan_../../x.yaml",
        "download/report/nope.html",
        "static/../../server.err",
    ):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}{path}?token={token}")
        err.value.close()
        assert err.value.code in (400, 404)
    # the app wrote only inside its working folder (the test's own files aside)
    assert {p.name for p in folder.iterdir()} <= {"work", "downloads", "cli", "server.err"}
    work = folder / "work"  # made when a plan is first run
    assert not work.exists() or {p.name for p in work.iterdir()} <= {"plans", "runs", "reports"}
