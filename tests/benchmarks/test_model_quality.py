"""Smoke test of the real-data model-quality benchmark on a subsample of German credit.

The tests that read the shared data are marked slow: the benchmark fits four models
on three folds, twice, which takes about 15 s of CPU time.
"""

import math
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import model_quality  # noqa: E402
from public_datasets import DEFAULT_DATA_DIR, DatasetUnavailableError, load_dataset  # noqa: E402

MODELS = {"product", "logistic", "scorecard", "lightgbm_default"}


@pytest.fixture(scope="module")
def shared_data() -> Path:
    """The shared public data sets; required in CI, skipped elsewhere when absent."""
    if not (DEFAULT_DATA_DIR / "statlog_german_credit").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data folder {DEFAULT_DATA_DIR} is missing in CI")
        pytest.skip(f"shared data folder {DEFAULT_DATA_DIR} is not present")
    return DEFAULT_DATA_DIR


@pytest.fixture(scope="module")
def german_report(shared_data):
    return model_quality.run_benchmark(
        ["german_credit"], data_dir=shared_data, seed=0, quick=True, sample_rows=600
    )


@pytest.mark.slow
def test_report_has_every_model_and_metric(german_report):
    """Every model has AUC, Brier, KS, ECE and the cost, all finite and in range."""
    result = german_report["datasets"]["german_credit"]
    assert set(result["models"]) == MODELS
    for name, figures in result["models"].items():
        for metric in ("auc", "brier", "ks", "ece", "cost"):
            assert math.isfinite(figures[metric]), (name, metric)
        assert 0.5 < figures["auc"] <= 1.0, name
        assert 0.0 < figures["brier"] < 0.25, name
        assert len(figures["folds"]) == model_quality.QUICK_FOLDS, name


@pytest.mark.slow
def test_subsample_keeps_bad_rate(german_report):
    """The 600-row subsample keeps the 30 % bad rate of the German data."""
    result = german_report["datasets"]["german_credit"]
    assert result["rows"] == 600
    assert result["bads"] == 180


@pytest.mark.slow
def test_targets_compare_product_with_peers(german_report):
    """Checks list the published cost and AUC and Brier against each of the three peers."""
    checks = [check["check"] for check in german_report["datasets"]["german_credit"]["targets"]]
    assert checks[0] == "cost <= 0.535"
    for peer in ("logistic", "scorecard", "lightgbm_default"):
        assert f"auc ahead of {peer}" in checks
        assert f"brier ahead of {peer}" in checks


@pytest.mark.slow
def test_product_details_per_fold(german_report):
    """The product records its chosen candidate, trees and calibration for each fold."""
    details = german_report["datasets"]["german_credit"]["product_details"]
    assert len(details) == model_quality.QUICK_FOLDS
    for fold in details:
        assert fold["trees"] >= 1
        assert fold["calibration"] in ("isotonic", "sigmoid")


@pytest.mark.slow
def test_rerun_gives_identical_figures(german_report, shared_data):
    """A second run with the same seed reproduces every figure exactly."""
    again = model_quality.run_benchmark(
        ["german_credit"], data_dir=shared_data, seed=0, quick=True, sample_rows=600
    )
    first = german_report["datasets"]["german_credit"]["models"]
    second = again["datasets"]["german_credit"]["models"]
    for name in MODELS:
        assert first[name]["folds"] == second[name]["folds"], name


@pytest.mark.slow
def test_markdown_section_lists_models(german_report):
    """The Markdown section names the command and has one row per model."""
    text = model_quality.render_markdown(german_report, command="python benchmarks/model_quality.py")
    assert text.startswith("## Model quality on public data")
    assert "Command: `python benchmarks/model_quality.py`" in text
    for label in model_quality.MODEL_LABELS.values():
        assert f"| {label} |" in text


def test_missing_data_folder_names_path(tmp_path):
    """A data folder without the file raises an error naming the path and the fix."""
    with pytest.raises(DatasetUnavailableError, match="german_credit.csv not found. Pass --data-dir"):
        load_dataset("german_credit", tmp_path)
