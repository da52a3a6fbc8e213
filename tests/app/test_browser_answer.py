"""The page's answer block in headless Chromium: sentences, age bands, township × age, both languages,
and the county sentence reproduced word for word by ``townsim compare`` on the page's own commands."""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By

from tests.app.test_browser import (  # noqa: F401 (fixtures)
    DAYS,
    _cli,
    _download,
    _run,
    _wait,
    browser,
    folder,
    server,
)


def _answer_text(d) -> str:
    return d.find_element(By.ID, "answer").text


def test_answer_block_gives_sentences_and_crossed_tables(server, browser, folder):  # noqa: F811
    d = browser
    d.get(server)
    _wait(d, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", timeout=60)
    assert not d.find_element(By.ID, "answer").is_displayed()
    # the map reads like the figures': township names, a legend, a scale bar and a north arrow
    names = {
        t.get_attribute("data-unit"): t.text for t in d.find_elements(By.CSS_SELECTOR, "#unit-names text")
    }
    assert names == {"east": "East", "west": "West", "isle": "Isle"}
    legend = d.find_element(By.ID, "legend").text
    assert "Service hall" in legend or "hall" in legend.lower()
    assert re.fullmatch(r"[\d.]+ km", d.find_element(By.ID, "scale-label").text)
    before = d.find_element(By.ID, "scale-label").text
    d.find_element(By.ID, "zoom-in").click()
    d.find_element(By.ID, "zoom-in").click()
    assert d.find_element(By.ID, "scale-label").text != before  # the bar follows the zoom
    d.find_element(By.ID, "zoom-reset").click()
    assert d.find_element(By.CSS_SELECTOR, "#north text").text == "N"
    for name, value in (("reps", "3"), ("days", str(DAYS))):
        field = d.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)
    d.find_element(By.CSS_SELECTOR, 'input.line-toggle[data-line="cand_w2_east"]').click()
    assert _run(d) == "done"
    assert d.find_element(By.ID, "answer").is_displayed()
    assert d.find_element(By.ID, "colour-scale").is_displayed()
    low, high = d.find_element(By.ID, "scale-low").text, d.find_element(By.ID, "scale-high").text
    assert low.startswith("-") and high.startswith("+") and low[1:] == high[1:]
    county = d.find_element(By.ID, "county-sentence").text
    assert county.startswith("Residents of the county")
    assert re.search(r"95% CI −?[\d.]+ to −?[\d.]+|no change|no clear change", county)
    units = d.find_elements(By.CSS_SELECTOR, "#unit-sentences li")
    assert {li.get_attribute("data-unit") for li in units} == {"east", "west", "isle"}
    assert all(li.text.startswith("Residents of former township") for li in units)
    ages = d.find_elements(By.CSS_SELECTOR, "#age-table tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in ages] == [
        "0-2",
        "3-5",
        "6-11",
        "12-14",
        "15-59",
        "60+",
    ]
    heat = d.find_elements(By.CSS_SELECTOR, "#heat-table tbody tr")
    assert len(heat) == 3 and all(len(r.find_elements(By.TAG_NAME, "td")) == 7 for r in heat)
    cell = d.find_element(By.CSS_SELECTOR, '#heat-table td[data-key="heat-west-60+"]')
    assert "95% CI" in cell.get_attribute("title")
    # intervals are rounded to their own precision: never a collapsed "-0.3 … -0.3"
    for row in d.find_elements(By.CSS_SELECTOR, "#unit-table tbody tr"):
        ci = row.find_elements(By.TAG_NAME, "td")[4].text
        if "…" in ci:
            low, high = (x.strip() for x in ci.split("…"))
            assert low != high or low.lstrip("+−-") in ("0", "0.0", "0.00")

    # Chinese: the whole answer block without English words
    d.find_element(By.ID, "lang").click()
    text = _answer_text(d)
    assert "95%置信区间" in d.find_element(By.ID, "county-sentence").text
    assert d.find_element(By.ID, "county-sentence").text.startswith("全县居民")
    assert not re.findall(r"[A-Za-z]{2,}", text.replace("CI", "")), text
    page = d.find_element(By.ID, "right").text + d.find_element(By.ID, "legend").text
    assert not re.findall(r"[A-Za-z]{2,}", page.replace("CI", "")), re.findall(r"[A-Za-z]{2,}", page)
    assert d.find_element(By.ID, "scale-label").text.endswith("公里")
    d.find_element(By.ID, "lang").click()

    # the CLI on the page's own overlay gives the same county sentence, word for word
    overlay = _download(d, "dl-overlay", ".yaml")
    commands = d.find_element(By.ID, "commands").text.splitlines()
    work = folder / "answer_cli"
    work.mkdir()
    (work / overlay.name).write_bytes(overlay.read_bytes())
    for line in commands[:2]:
        args = line.split()[1:]
        args = [a if a != overlay.name else str(work / overlay.name) for a in args]
        assert _cli(*args, "--workers", "1", "--quiet", cwd=work).returncode == 0
    out = _cli("compare", "runs/base", "runs/plan", cwd=work)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == county


def test_draw_a_line_on_the_map_and_run_it(server, browser, folder):  # noqa: F811
    import yaml

    d = browser
    d.get(server)
    _wait(d, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", timeout=60)
    for name, value in (("reps", "2"), ("days", str(DAYS))):
        field = d.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)
    assert d.find_element(By.ID, "draw-save").get_attribute("disabled")
    d.find_element(By.ID, "draw-start").click()
    d.find_element(By.CSS_SELECTOR, '#villages circle[data-id="w2"]').click()
    d.find_element(By.CSS_SELECTOR, '#unit-names text[data-unit="east"]').click()
    d.find_element(By.CSS_SELECTOR, '#villages circle[data-id="e3"]').click()
    assert "w2 → East → e3" in d.find_element(By.ID, "draw-stops").text
    assert len(d.find_elements(By.CSS_SELECTOR, "polyline.drawn-line")) == 1
    d.find_element(By.ID, "draw-name").send_keys("West-East shuttle")
    every = d.find_element(By.ID, "draw-every")
    every.clear()
    every.send_keys("20")
    d.find_element(By.ID, "draw-save").click()
    assert "West-East shuttle" in d.find_element(By.ID, "drawn-list").text
    assert _run(d) == "done", d.find_element(By.ID, "error").text
    overlay = yaml.safe_load(_download(d, "dl-overlay", ".yaml").read_text(encoding="utf-8"))
    line = overlay["transit"]["lines"]["drawn_1"]
    assert line["stops"] == ["w2", "seat:east", "e3"]
    assert line["headway"] == {"first": "07:00", "last": "18:00", "every_min": 20}
    assert line["en"] == "West-East shuttle"
    # a bad headway shows the CLI's one-line error naming the field
    d.find_element(By.ID, "draw-start").click()
    d.find_element(By.CSS_SELECTOR, '#villages circle[data-id="w1"]').click()
    d.find_element(By.CSS_SELECTOR, '#villages circle[data-id="w2"]').click()
    every.clear()
    every.send_keys("often")
    d.find_element(By.ID, "draw-save").click()
    assert _run(d) == "error"
    assert "transit.lines.drawn_2.headway.every_min" in d.find_element(By.ID, "error").text
    d.find_element(By.ID, "reset").click()
    assert not d.find_elements(By.CSS_SELECTOR, "polyline.drawn-line")
