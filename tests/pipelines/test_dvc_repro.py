"""End-to-end: `dvc repro` on a tiny sample portfolio and on the IBM ledger."""

import hashlib
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from creditlimit.features.catalog import FEATURE_NAMES
from creditlimit.serving.flags import SEVERITY

from pipeline_workspace import REPO, TINY_OVERLAY, make_workspace, run_in

pytestmark = pytest.mark.slow

ACTIONS = {"increase", "decrease", "hold", "new", "suspend"}


def read(path):
    return pq.read_table(path).to_pandas(date_as_object=False)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """One dvc repro of the whole pipeline on the tiny sample portfolio."""
    workspace = make_workspace(tmp_path_factory.mktemp("sample"), TINY_OVERLAY)
    result = run_in(workspace, "dvc", "repro")
    return workspace, result


def test_repro_writes_every_output(sample_run):
    """Every stage runs and the scoring folder contains the documented files."""
    workspace, _ = sample_run
    scores = workspace / "data" / "scores" / "as_of=2025-01-01"
    for name in ("limits.parquet", "explanations.parquet", "flags.parquet", "limits.csv",
                 "manifest.json"):
        assert (scores / name).is_file(), name
    assert not list(scores.parent.glob(".*tmp*")), "a temporary output folder was left behind"


def test_repro_scores_every_customer(sample_run):
    """Every customer onboarded before as_of gets a PD, a grade and an action."""
    workspace, _ = sample_run
    customers = read(workspace / "data" / "interim" / "clean" / "customers.parquet")
    limits = read(workspace / "data" / "scores" / "as_of=2025-01-01" / "limits.parquet")
    onboarded = customers[customers["onboarded_on"] < pd.Timestamp("2025-01-01")]
    assert set(limits["customer_id"]) == set(onboarded["customer_id"])
    assert limits["pd_12m"].between(0, 1).all()
    assert set(limits["action"]) <= ACTIONS
    assert limits["calculation_log"].map(lambda text: "binding_rule" in json.loads(text)).all()
    assert (limits["new_limit"] >= 0).all()


def test_repro_reasons_in_both_languages(sample_run):
    """Top reasons raise the PD and carry zh_CN and en texts."""
    workspace, _ = sample_run
    explanations = read(workspace / "data" / "scores" / "as_of=2025-01-01" / "explanations.parquet")
    reasons = explanations[explanations["text_en"].notna()]
    assert len(reasons) > 0
    assert (reasons["contribution"] > 0).all()
    assert reasons["text_zh"].str.contains("违约概率").all()
    assert set(explanations["feature"]) <= set(FEATURE_NAMES)


def test_repro_raises_every_flag_kind_in_both_languages(sample_run):
    """The sample's run raises every flag kind of the policy at least once, each with both texts."""
    workspace, _ = sample_run
    flags = read(workspace / "data" / "scores" / "as_of=2025-01-01" / "flags.parquet")
    bands = yaml.safe_load((workspace / "params.yaml").read_text())["flags"]["overdue_days"]
    kinds = set(SEVERITY) | {f"overdue_{days}" for days in bands}
    assert kinds - set(flags["code"]) == set()
    assert flags["text_zh"].str.len().gt(0).all()
    assert flags["text_en"].str.len().gt(0).all()
    assert not flags["text_zh"].str.contains("{", regex=False).any()
    assert flags["text_zh"].str.contains(r"[\u4e00-\u9fff]").all()


def test_repro_metrics_and_manifest(sample_run):
    """OOT metrics are a DVC metrics file; the manifest names model and inputs."""
    workspace, _ = sample_run
    metrics = json.loads((workspace / "data" / "models" / "metrics.json").read_text())
    assert metrics["oot"]["auc"] >= TINY_OVERLAY["train.min_oot_auc"]
    manifest = json.loads((workspace / "data" / "scores" / "as_of=2025-01-01" / "manifest.json").read_text())
    assert manifest["model"]["alias"] == "champion"
    assert manifest["model"]["default_definition"]["dpd_threshold"] == 90
    assert set(manifest["inputs"]) == {"customers", "financial_statements", "invoices", "payments",
                                       "credit_events", "fx_rates"}
    assert manifest["row_counts"]["customers"] > 0


def test_repro_rerun_is_byte_identical(sample_run):
    """Forcing the score stage again gives byte-identical output files."""
    workspace, _ = sample_run
    folder = workspace / "data" / "scores" / "as_of=2025-01-01"
    before = {p.name: sha256(p) for p in sorted(folder.iterdir())}
    run_in(workspace, "dvc", "repro", "--force", "--single-item", "score")
    after = {p.name: sha256(p) for p in sorted(folder.iterdir())}
    assert before == after


def test_repro_second_run_is_up_to_date(sample_run):
    """A second dvc repro with nothing changed runs no stage."""
    workspace, _ = sample_run
    result = run_in(workspace, "dvc", "status")
    assert "up to date" in result.stdout.lower() or result.stdout.strip() == ""


def test_repro_on_ibm_ledger(tmp_path, shared_data):
    """The same pipeline runs on the imported IBM ledger with its own default definition."""
    overlay = yaml.safe_load((REPO / "params-ibm-ar.yaml").read_text(encoding="utf-8"))
    workspace = make_workspace(tmp_path, overlay)
    source = shared_data / "ibm_accounts_receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"
    run_in(workspace, "creditlimit", "import", "ibm-ar", str(source), "--out", "data/raw/ibm_ar",
           "--currency", "USD")
    result = run_in(workspace, "dvc", "repro")
    assert "Scored 100 customers as of 2013-12-01" in result.stdout

    summary = json.loads((workspace / "data" / "features" / "training_summary.json").read_text())
    assert 0.10 <= summary["bad_rate"] <= 0.22
    report = json.loads((workspace / "data" / "interim" / "validation_report.json").read_text())
    assert report["tables"]["invoices"]["rows_in"] == 2466
    assert report["tables"]["invoices"]["accepted"] == 2466
    limits = read(workspace / "data" / "scores" / "as_of=2013-12-01" / "limits.parquet")
    assert len(limits) == 100
    assert limits["pd_12m"].between(0, 1).all()


def test_score_rejects_as_of_outside_data(sample_run):
    """Scoring before the first invoice is a bad-input error, and nothing is published."""
    workspace, _ = sample_run
    result = run_in(workspace, "creditlimit", "score", "--as-of", "2019-01-01", check=False)
    assert result.returncode == 3
    assert "--as-of 2019-01-01 is outside the data" in result.stderr
    assert not (workspace / "data" / "scores" / "as_of=2019-01-01").exists()


def test_score_rejects_other_default_definition(sample_run):
    """A model trained under another default definition is refused with exit code 4."""
    workspace, _ = sample_run
    params = yaml.safe_load((workspace / "params.yaml").read_text(encoding="utf-8"))
    params["label"]["dpd_threshold"] = 60
    other = workspace / "params-other-label.yaml"
    other.write_text(yaml.safe_dump(params), encoding="utf-8")
    result = run_in(workspace, "creditlimit", "score", "--params", str(other), check=False)
    assert result.returncode == 4
    assert "was trained with the default definition" in result.stderr


def test_train_failing_gate_keeps_champion(sample_run):
    """A model that fails a gate exits with code 4, names the gate and leaves the champion alone."""
    workspace, _ = sample_run
    manifest = json.loads((workspace / "data" / "scores" / "as_of=2025-01-01" / "manifest.json").read_text())
    params = yaml.safe_load((workspace / "params.yaml").read_text(encoding="utf-8"))
    params["train"]["gates"]["min_oot_ks"] = 0.99
    strict = workspace / "params-strict-gates.yaml"
    strict.write_text(yaml.safe_dump(params), encoding="utf-8")
    result = run_in(workspace, "creditlimit", "train", "--params", str(strict), "--out", "data/models-strict",
                    check=False)
    assert result.returncode == 4
    assert "is registered but not promoted" in result.stderr
    assert "min_oot_ks" in result.stderr
    rescored = run_in(workspace, "creditlimit", "score")
    assert f"version {manifest['model']['version']}." in rescored.stdout
    strict_record = json.loads((workspace / "data" / "models-strict" / "model.json").read_text())
    assert strict_record["promoted"] is False
