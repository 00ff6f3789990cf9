"""The credit usage report in a real browser: Debian's chromium driven by Playwright.

The pages are opened from the file system. Every test fails on a console error,
an uncaught script error, a failed request or any request that is not a local
file. Screenshots go to tests/artifacts/reports/ (git-ignored) for a person to
look at, e.g. to check that Chinese characters render in the charts.
"""

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tiny_run import make_inputs, report_params

from creditlimit.reports.build import write_report
from creditlimit.reports.page import Formatter

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "reports"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for the module; required in CI, skipped elsewhere when absent."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI; .ci/run installs the chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class WatchedPage:
    """A browser page that records console errors, script errors and every request."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url}"))
        self.page.on("request", lambda r: None if r.url.startswith(("file://", "data:"))
                     else self.problems.append(f"network request: {r.url}"))

    def open(self, path: Path):
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def check_clean(self):
        assert self.problems == [], self.problems

    def close(self):
        self.page.close()


def _screenshot(page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000, f"screenshot {path} looks empty"
    return path


def _data_value(page, selector: str) -> str:
    return page.locator(selector).get_attribute("data-value")


def _text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def test_tiny_report_opens_and_switches_language(browser, tmp_path):
    """The hand-made run's report and a customer page render, link both ways and switch language."""
    out = tmp_path / "as_of=2026-01-01"
    write_report(make_inputs(), report_params(), out_dir=out, currency="CNY", workers=1)
    watched = WatchedPage(browser)
    try:
        page = watched.open(out / "index.html")
        page.wait_for_url("**/report.zh_CN.html")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.title() == "信用使用情况报告"
        assert _data_value(page, "#kpi-customers") == "3"

        page.click("#lang-switch")
        page.wait_for_url("**/report.en.html")
        assert page.title() == "Credit usage report"
        page.fill("input.filter", "C2")
        assert page.locator("#customer-list tbody tr:visible").count() == 1

        page.fill("input.filter", "")
        page.click("#customer-list a[href='customers/C1.en.html']")
        page.wait_for_url("**/customers/C1.en.html")
        assert _text(page, "#cust-new-limit") == "CNY 140,000"
        page.click("#lang-switch")
        page.wait_for_url("**/customers/C1.zh_CN.html")
        assert _text(page, "#cust-new-limit") == "140,000 元"
        _screenshot(page, "tiny_customer_C1.zh_CN")
        page.click("#back-to-report")
        page.wait_for_url("**/report.zh_CN.html")
        watched.check_clean()
    finally:
        watched.close()


# ---------------------------------------------------------------------------
# End to end: dvc repro of the tiny sample portfolio, then the browser.


def _read(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas(date_as_object=False)


@pytest.fixture(scope="module")
def pipeline_report(tmp_path_factory):
    """`dvc repro` of the tiny sample portfolio, report stage included."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))
    from pipeline_workspace import TINY_OVERLAY, make_workspace, run_in

    workspace = make_workspace(tmp_path_factory.mktemp("report"), TINY_OVERLAY)
    result = run_in(workspace, "dvc", "repro")
    as_of = TINY_OVERLAY["score.as_of"]
    return workspace, workspace / "data" / "reports" / f"as_of={as_of}", \
        workspace / "data" / "scores" / f"as_of={as_of}", result


@pytest.mark.slow
def test_pipeline_report_matches_scored_parquet(browser, pipeline_report):
    """Key figures in the DOM equal the scored Parquet, in both languages, with no request leaving the disk."""
    workspace, report, scores, result = pipeline_report
    assert str((report / "index.html").resolve()) in result.stdout
    limits = _read(scores / "limits.parquet")
    flags = _read(scores / "flags.parquet")
    watched = WatchedPage(browser)
    try:
        page = watched.open(report / "report.zh_CN.html")
        zh = Formatter("zh_CN", "CNY")
        assert int(_data_value(page, "#kpi-customers")) == len(limits)
        assert float(_data_value(page, "#kpi-new_limits")) == pytest.approx(limits["new_limit"].sum())
        assert _text(page, "#kpi-new_limits .value") == zh.compact_amount(limits["new_limit"].sum())
        assert float(_data_value(page, "#kpi-current_limits")) == pytest.approx(limits["current_limit"].sum())
        assert float(_data_value(page, "#kpi-exposure")) == pytest.approx(limits["exposure"].sum())
        for action, count in limits["action"].value_counts().items():
            cell = page.locator(f"#changes-table td[data-action='{action}'] + td")
            assert int(cell.get_attribute("data-value")) == count, action
        severity_total = sum(int(v) for v in page.locator("#alerts-severity td[data-value]").evaluate_all(
            "cells => cells.map(c => c.dataset.value)"))
        assert severity_total == len(flags)
        assert page.locator("#customer-list tbody tr").count() == len(limits)
        shown_grades = page.locator("#grade-table tbody tr").evaluate_all(
            "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].dataset.value])")
        assert {grade: int(count) for grade, count in shown_grades} == \
            limits["grade"].astype(str).value_counts().to_dict()
        _screenshot(page, "pipeline_report.zh_CN", full_page=False)
        page.locator("#grades svg").screenshot(path=str(ARTIFACTS / "pipeline_grades.zh_CN.png"))

        # The customer with the largest decrease: its page carries its decision.
        row = limits.assign(change=limits["new_limit"] - limits["current_limit"]).sort_values(
            ["change", "customer_id"]).iloc[0]
        page.click(f"#customer-list a[href='customers/{row['customer_id']}.zh_CN.html']")
        page.wait_for_url(f"**/customers/{row['customer_id']}.zh_CN.html")
        assert _data_value(page, "#cust-grade") == str(row["grade"])
        assert float(_data_value(page, "#cust-new-limit")) == pytest.approx(row["new_limit"])
        assert _text(page, "#cust-new-limit") == zh.amount(row["new_limit"])
        assert _text(page, "#cust-pd") == zh.pd(row["pd_12m"])
        assert page.locator("#waterfall svg text").count() > 5
        _screenshot(page, f"pipeline_customer_{row['customer_id']}.zh_CN")

        page.click("#lang-switch")
        page.wait_for_url(f"**/customers/{row['customer_id']}.en.html")
        en = Formatter("en", "CNY")
        assert page.locator("html").get_attribute("lang") == "en"
        assert _text(page, "#cust-new-limit") == en.amount(row["new_limit"])
        _screenshot(page, f"pipeline_customer_{row['customer_id']}.en")
        page.click("#back-to-report")
        page.wait_for_url("**/report.en.html")
        assert _text(page, "#kpi-new_limits .value") == en.compact_amount(limits["new_limit"].sum())
        watched.check_clean()
    finally:
        watched.close()
    _check_report_folder(report, scores, limits)


def _check_report_folder(report: Path, scores: Path, limits: pd.DataFrame) -> None:
    """Every customer has a page per language, relative links resolve, nothing refers to the network."""
    pages = sorted(report.rglob("*.html"))
    assert len(pages) == 2 * (len(limits) + 1) + 1
    for path in pages[:50] + [report / "report.en.html", report / "report.zh_CN.html"]:
        html = path.read_text(encoding="utf-8")
        assert "https://" not in html
        assert "<link" not in html
        assert "src=" not in html
        for target in re.findall(r'href="([^"#][^"]*)"', html):
            assert (path.parent / unquote(target)).is_file(), f"{path.name} links to missing {target}"
    manifest = json.loads((scores / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] in (report / "report.en.html").read_text(encoding="utf-8")
