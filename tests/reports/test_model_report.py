"""Tests for the model report: evidence, HTML in zh_CN and en, and the MLflow artifact."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.master_scale import MasterScale
from creditlimit.models.metrics import auc, grade_calibration_test, ks
from creditlimit.models.stability import csi, psi
from creditlimit.reports.model_evidence import ReportParams, collect_evidence
from creditlimit.reports.model_limitations import auc_standard_error
from creditlimit.reports.model_report import publish_model_reports, render_model_report, report_filename

TESTS = Path(__file__).resolve().parents[1]
PD_BOUNDS = [0.003, 0.006, 0.012, 0.02, 0.035, 0.06, 0.10, 0.16, 0.25, 1.0]
SETTINGS = {"shap_sample_rows": 300, "psi_watch": 0.1, "psi_alert": 0.25, "max_missing_share": 0.3,
            "min_bads": 100, "curve_points": 200}
LABEL = {"horizon_months": 12, "dpd_threshold": 90, "min_amount": 100.0,
         "event_types": ["default", "write_off", "bankruptcy"]}
RECORD = {"name": "creditlimit-pd", "version": "3", "run_id": "run-abc", "promoted": False,
          "failed_gates": ["min_oot_ks"]}


def _model_fixtures():
    """Load the seeded table builder and train section shared with tests/models."""
    spec = importlib.util.spec_from_file_location("model_test_fixtures", TESTS / "models" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _no_mlflow_telemetry(monkeypatch):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """A trained model on a seeded table with an extra all-good industry ("mining")."""
    from creditlimit.models.training import TrainParams, train_pd_model

    fixtures = _model_fixtures()
    table = fixtures.make_training_table(n_customers=400, n_months=30, seed=11)
    table["has_statements"] = table["debt_to_assets"].notna()
    # Customers of one industry never default, so its segment metrics are undefined.
    mining = table["customer_id"].isin([f"C{i}" for i in range(0, 400, 40)])
    table.loc[mining, "industry"] = "mining"
    table.loc[mining, "is_bad"] = 0
    section = copy.deepcopy(fixtures.TRAIN_SECTION)
    trained = train_pd_model(table, params=TrainParams.from_mapping(section))
    return table, trained


def _metrics(trained, table, *, challenger: bool) -> dict:
    """Build metrics.json as the train stage writes it, with one failing gate."""
    from creditlimit.models.split import split_by_time

    split = split_by_time(table, valid_months=6, oot_months=6)
    train_rows, oot_rows = table[split.train.mask], table[split.oot.mask]
    score_psi = psi(trained.predict(train_rows)["raw_margin"], trained.predict(oot_rows)["raw_margin"])
    feature_csi = csi(train_rows, oot_rows, columns=list(trained.feature_names),
                      categorical_columns=["industry", "size_class"])
    oot = trained.metrics["oot"]
    metrics = {
        **trained.metrics,
        "stability": {"reference": "train", "compared": "oot", "score_psi": score_psi.psi.value,
                      "feature_csi": {row.column: row.psi for row in feature_csi.itertuples()}},
        "gates": {
            "min_oot_auc": {"name": "min_oot_auc", "passed": True, "value": oot["auc"], "threshold": 0.7,
                            "text_en": "min_oot_auc: passed.", "text_zh": "min_oot_auc：通过。"},
            "min_oot_ks": {"name": "min_oot_ks", "passed": False, "value": oot["ks"], "threshold": 0.99,
                           "text_en": "min_oot_ks: failed.", "text_zh": "min_oot_ks：未通过。"},
        },
    }
    if challenger:
        metrics["challenger"] = {
            part: {**trained.metrics[part], "auc": 0.6123} for part in ("train", "valid", "oot")
        } | {"features": ["debt_to_assets", "current_ratio"], "dropped_features": {"roa": "IV below 0.02"}}
    return metrics


def _evidence(trained, table, *, challenger: bool = False, settings: dict = SETTINGS):
    return collect_evidence(
        trained=trained, table=table, metrics=_metrics(trained, table, challenger=challenger),
        label_definition=LABEL, master_scale=MasterScale.from_mapping(PD_BOUNDS),
        settings=ReportParams.from_mapping(settings), model_record=RECORD,
        data_source="data/raw/sample", synthetic=True,
    )


@pytest.fixture(scope="module")
def evidence(training):
    table, trained = training
    return _evidence(trained, table, challenger=True)


@pytest.fixture(scope="module")
def reports(evidence):
    return {locale: render_model_report(evidence, locale=locale) for locale in ("en", "zh_CN")}


class _StrictParser(HTMLParser):
    """Records start and end tags so a test can check that every element is closed."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()


def _section(html: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', html, flags=re.S)
    assert match, f"section {key} missing"
    return match.group(1)


def _plain_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_report_html_is_well_nested(reports):
    """Both reports parse with every element closed in order."""
    for html in reports.values():
        parser = _StrictParser()
        parser.feed(html)
        parser.close()
        assert parser.errors == []
        assert parser.stack == []


def test_report_language_attribute(reports):
    """The html element declares the page's language."""
    assert reports["en"].startswith('<!DOCTYPE html><html lang="en">')
    assert reports["zh_CN"].startswith('<!DOCTYPE html><html lang="zh-CN">')


def test_report_shows_oot_metrics_both_languages(reports, evidence):
    """The out-of-time AUC, KS and Brier score from metrics.json appear in both languages."""
    oot = evidence.part("oot").metrics
    for html in reports.values():
        summary = _section(html, "summary")
        assert f"{oot['auc']:.4f}" in summary
        assert f"{oot['ks']:.4f}" in summary
        assert f"{oot['brier']:.4f}" in summary
    assert "跨时间测试集" in reports["zh_CN"]
    assert "Out-of-time test" in reports["en"]


def test_report_has_no_external_urls(reports):
    """Nothing is loaded from the network: no http(s) src/href, no script, no stylesheet link."""
    for html in reports.values():
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
        assert "<script" not in html
        assert "<link" not in html
        assert set(re.findall(r"https?://[^\"' <]+", html)) == {"http://www.w3.org/2000/svg"}


def test_report_svg_elements_well_formed(reports):
    """Every inline SVG parses as XML: ROC, two KS, three calibration charts and the beeswarm."""
    for html in reports.values():
        charts = re.findall(r"<svg .*?</svg>", html, flags=re.S)
        assert len(charts) >= 7
        for chart in charts:
            ET.fromstring(chart)


def test_report_lists_sections_in_both_languages(reports):
    """Every required section exists, titled in the page's language."""
    for key in ("data", "label", "features", "metrics", "segments", "curves", "calibration", "stability",
                "shap", "challenger", "gates", "limitations"):
        _section(reports["en"], key)
        _section(reports["zh_CN"], key)
    assert "Default definition" in reports["en"]
    assert "违约定义" in reports["zh_CN"]


def test_data_window_shows_each_part(reports, evidence):
    """The data window lists first and last as_of, rows and bads of every part."""
    section = _section(reports["en"], "data")
    for part in evidence.parts:
        assert part.window["start"] in section
        assert part.window["end"] in section
        assert f"{part.window['rows']:,}" in section
    start = pd.Timestamp(evidence.part("oot").window["start"])
    assert f"{start.year}年{start.month}月{start.day}日" in _section(reports["zh_CN"], "data")


def test_label_section_states_definition(reports):
    """The default definition names the horizon, the days past due and the events."""
    assert "within 12 months" in _section(reports["en"], "label")
    assert "90 days past due" in _section(reports["en"], "label")
    assert "12 个月内" in _section(reports["zh_CN"], "label")


def test_features_show_monotone_constraints(reports):
    """Constrained features are listed with their direction."""
    section = _section(reports["en"], "features")
    row = re.search(r"<code>debt_to_assets</code>.*?</tr>", section, flags=re.S).group(0)
    assert "+1: PD never falls" in row
    row = re.search(r"<code>current_ratio</code>.*?</tr>", section, flags=re.S).group(0)
    assert "−1: PD never rises" in row
    assert "资产负债率" in _section(reports["zh_CN"], "features")


def test_undefined_segment_metric_shown_with_reason(reports, evidence):
    """The all-good industry shows undefined with counts in both languages, never 0."""
    segments = evidence.part("oot").segments
    mining = segments[(segments["segment_column"] == "industry") & (segments["segment_value"] == "mining")]
    goods = int(mining["n_rows"].iloc[0])
    assert mining["auc"].iloc[0] is None
    assert f"undefined: one class ({goods} goods, 0 bads)" in _section(reports["en"], "segments")
    assert f"未定义：只有一个类别（{goods} 个正常，0 个违约）" in _section(reports["zh_CN"], "segments")


def test_ks_curve_peak_equals_ks(training):
    """The widest gap of the KS curve equals the KS metric, and ROC's area equals AUC."""
    table, trained = training
    exact = _evidence(trained, table, settings={**SETTINGS, "curve_points": 10**7})
    for part in exact.parts:
        _, share_bads, share_goods = part.ks
        assert np.max(np.abs(share_goods - share_bads)) == pytest.approx(part.metrics["ks"], abs=1e-12)
        fpr, tpr = part.roc
        area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
        assert area == pytest.approx(part.metrics["auc"], abs=1e-9)


def test_recomputed_metrics_match_recorded(training, evidence):
    """AUC and KS recomputed on the split match the recorded metrics.json figures."""
    table, trained = training
    from creditlimit.models.split import split_by_time

    oot = table[split_by_time(table, valid_months=6, oot_months=6).oot.mask]
    margin = trained.predict(oot)["raw_margin"]
    assert auc(oot["is_bad"], margin).value == pytest.approx(evidence.part("oot").metrics["auc"])
    assert ks(oot["is_bad"], margin).value == pytest.approx(evidence.part("oot").metrics["ks"])


def test_calibration_uses_jeffreys_test(training, evidence):
    """The calibration table is grade_calibration_test on the out-of-time PDs and master-scale grades."""
    table, trained = training
    from creditlimit.models.split import split_by_time

    oot = table[split_by_time(table, valid_months=6, oot_months=6).oot.mask]
    pd_values = trained.predict(oot)["pd_12m"].to_numpy()
    scale = MasterScale.from_mapping(PD_BOUNDS)
    expected = grade_calibration_test(oot["is_bad"].to_numpy(), pd_values, scale.assign_grades(pd_values),
                                      grade_order=list(scale.grades))
    pd.testing.assert_frame_equal(evidence.part("oot").calibration, expected)


def test_shap_sample_is_seeded_and_bounded(training, evidence):
    """SHAP uses at most shap_sample_rows OOT rows, is reproducible and adds up to the margin."""
    table, trained = training
    again = _evidence(trained, table, challenger=True)
    assert evidence.shap.rows == SETTINGS["shap_sample_rows"]
    assert evidence.shap.contributions.shape == (SETTINGS["shap_sample_rows"], len(trained.feature_names))
    np.testing.assert_array_equal(again.shap.contributions, evidence.shap.contributions)
    assert evidence.shap.max_additivity_error < 1e-6


def test_beeswarm_lists_features_by_importance(reports, evidence):
    """The beeswarm rows follow the mean |SHAP| order of the features table."""
    section = _section(reports["en"], "shap")
    chart = ET.fromstring(re.search(r"<svg .*?</svg>", section, flags=re.S).group(0))
    labels = [element.text for element in chart.iter("{http://www.w3.org/2000/svg}text")]
    first, second = evidence.features[0].label_en, evidence.features[1].label_en
    assert labels.index(first) < labels.index(second)
    assert evidence.features[0].mean_abs_shap >= evidence.features[1].mean_abs_shap


def test_stability_table_reads_thresholds(reports, evidence):
    """Score PSI is shown with its reading; thresholds come from the settings."""
    section = _section(reports["en"], "stability")
    assert f"{evidence.stability['score_psi']:.4f}" in section
    assert "below 0.10 stable" in section
    assert "0.25" in section


def test_challenger_comparison_when_present(reports):
    """A challenger entry gives a side-by-side table with its own AUC."""
    section = _section(reports["en"], "challenger")
    assert "0.6123" in section
    assert "Challenger" in section
    assert "IV below 0.02" in section
    assert "0.6123" in _section(reports["zh_CN"], "challenger")


def test_challenger_absent_says_so(training):
    """Without a challenger entry the section states that there is nothing to compare."""
    table, trained = training
    html = render_model_report(_evidence(trained, table, challenger=False), locale="en")
    assert "no challenger entry" in _section(html, "challenger")


def test_limitations_are_model_specific(reports, evidence):
    """Limitations name synthetic data, the failed gate, the OOT sample size and weak segments."""
    section = _plain_text(_section(reports["en"], "limitations"))
    oot = evidence.part("oot").metrics
    assert "synthetic" in section
    assert "min_oot_ks" in section
    assert f"{oot['n_bads']:,} bads" in section
    se = auc_standard_error(oot["auc"], oot["n_bads"], oot["n_rows"] - oot["n_bads"])
    assert f"{se:.4f}" in section
    assert "mining" in section
    zh = _plain_text(_section(reports["zh_CN"], "limitations"))
    assert "合成数据" in zh
    assert "min_oot_ks" in zh


def test_auc_standard_error_hand_computed():
    """Hanley-McNeil standard error for AUC 0.8 with 50 bads and 50 goods (hand-computed 0.04450)."""
    # Q1 = 0.8/1.2 = 0.66667, Q2 = 1.28/1.8 = 0.71111; variance = (0.16 + 49 * 0.026667 + 49 * 0.071111) / 2500
    # = 4.95111 / 2500 = 0.00198044, whose square root is 0.044502.
    assert auc_standard_error(0.8, 50, 50) == pytest.approx(0.044502, abs=1e-6)
    assert np.isnan(auc_standard_error(0.8, 0, 50))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"psi_alert": 0.05}, "model_report.psi_alert must be greater than psi_watch"),
        ({"shap_sample_rows": 0}, "model_report.shap_sample_rows must be an integer of at least 10"),
        ({"max_missing_share": 1.5}, r"model_report.max_missing_share must be a number in \[0, 1\]"),
        ({"colour": "red"}, "model_report has unknown keys"),
    ],
)
def test_report_params_invalid_raise(change, message):
    """Invalid model_report params raise ParamsError naming the key."""
    with use_locale("en"), pytest.raises(ParamsError, match=message):
        ReportParams.from_mapping({**SETTINGS, **change})


def test_report_params_missing_key_raises():
    """A missing model_report key raises ParamsError in the active locale."""
    settings = dict(SETTINGS)
    del settings["min_bads"]
    with use_locale("zh_CN"), pytest.raises(ParamsError, match="model_report.min_bads"):
        ReportParams.from_mapping(settings)


def test_publish_logs_reports_to_mlflow_run(training, tmp_path):
    """publish_model_reports writes both files and logs them under report/ in a real MLflow run."""
    from mlflow import MlflowClient

    table, trained = training
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.create_experiment("report-test", artifact_location=(tmp_path / "artifacts").as_uri())
    run_id = client.create_run(experiment).info.run_id
    client.set_terminated(run_id)
    metrics_path = tmp_path / "metrics.json"
    metrics_path.write_text(json.dumps(_metrics(trained, table, challenger=False)), encoding="utf-8")
    params = {"model_report": SETTINGS, "label": LABEL, "policy": {"pd_upper_bounds": PD_BOUNDS},
              "data": {"raw_dir": str(tmp_path / "raw")}}

    paths = publish_model_reports(trained=trained, table=table, params=params, metrics_path=metrics_path,
                                  model_record={**RECORD, "run_id": run_id}, out_dir=tmp_path / "report",
                                  tracking_uri=tracking_uri)

    assert sorted(path.name for path in paths.values()) == [report_filename("en"), report_filename("zh_CN")]
    logged = sorted(Path(item.path).name for item in client.list_artifacts(run_id, "report"))
    assert logged == [report_filename("en"), report_filename("zh_CN")]
    downloaded = Path(client.download_artifacts(run_id, f"report/{report_filename('en')}", str(tmp_path)))
    assert downloaded.read_text(encoding="utf-8") == paths["en"].read_text(encoding="utf-8")
    # No _truth/ folder in the raw data, so the report does not call the data synthetic.
    assert "synthetic" not in _section(paths["en"].read_text(encoding="utf-8"), "limitations")
