"""The train stage end to end on a synthetic table: champion, challenger, segments and the gate failure path."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient
from repo_params import repo_params
from synthetic_snapshots import make_training_table, with_context_columns

from creditlimit.errors import ModelError
from creditlimit.i18n import use_locale
from creditlimit.pipelines import train as stage
from creditlimit.pipelines.params import apply_overlay

pytestmark = pytest.mark.slow

MODEL_NAME = "creditlimit-pd-stage-test"
# A 20-month synthetic table: 4 validation and 4 out-of-time months, loose gates.
OVERLAY = {
    "train.valid_months": 4,
    "train.oot_months": 4,
    "train.gap_months": 0,
    "train.min_oot_auc": 0.6,
    "train.gates.min_oot_ks": 0.2,
    "train.gates.max_oot_ece": 0.2,
    "train.gates.max_score_psi": 1.0,
    "train.lightgbm.n_estimators": 80,
    "train.lightgbm.min_child_samples": 50,
    "mlflow.model_name": MODEL_NAME,
}


def _write_params(folder: Path, name: str, overlay: dict) -> Path:
    params = apply_overlay(repo_params(), {**OVERLAY, **overlay,
                                           "mlflow.tracking_uri": f"sqlite:///{folder / 'mlflow.db'}",
                                           "mlflow.artifact_location": str(folder / "mlartifacts")})
    path = folder / name
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory):
    """One passing train run, then one with a gate set out of reach, in zh_CN."""
    folder = tmp_path_factory.mktemp("train-stage")
    table = with_context_columns(make_training_table(n_customers=400, n_months=20, seed=41,
                                                     base_logit=-2.6))
    training = folder / "training.parquet"
    table.to_parquet(training)
    passing = _write_params(folder, "params.yaml", {})
    strict = _write_params(folder, "params-strict.yaml", {"train.gates.min_oot_ks": 0.99})

    with pytest.MonkeyPatch.context() as environment:
        # Run in the temporary folder, so that a default MLflow store could only appear there.
        environment.chdir(folder)
        environment.delenv("MLFLOW_TRACKING_URI", raising=False)
        environment.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        output = io.StringIO()
        with contextlib.redirect_stdout(output), use_locale("en"):
            stage.run(params_path=passing, training_path=training, out_dir=folder / "models")
        with use_locale("zh_CN"), pytest.raises(ModelError) as failure:
            stage.run(params_path=strict, training_path=training, out_dir=folder / "models-strict")
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    return {
        "folder": folder, "stdout": output.getvalue(), "failure": failure.value,
        "training": training, "strict": strict,
        "client": MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri),
    }


def test_train_stage_writes_challenger_metrics(stage_run):
    """metrics.json carries the challenger on train, valid and oot, and model.json its version."""
    metrics = json.loads((stage_run["folder"] / "models" / "metrics.json").read_text())
    challenger = metrics["challenger"]
    for part in ("train", "valid", "oot"):
        assert challenger[part]["n_rows"] == metrics[part]["n_rows"]
        assert 0.5 < challenger[part]["auc"] <= 1.0
    assert challenger["features"]
    record = json.loads((stage_run["folder"] / "models" / "model.json").read_text())
    assert record["challenger"] == {"version": "2", "run_id": record["challenger"]["run_id"],
                                    "alias": "challenger"}
    assert record["version"] == "1"
    assert record["promoted"] is True


def test_train_stage_reports_metrics_by_segment(stage_run):
    """Every part has metrics by industry, size class and thin file, for both models."""
    metrics = json.loads((stage_run["folder"] / "models" / "metrics.json").read_text())
    for by_segment in (metrics["segments"], metrics["challenger"]["segments"]):
        for part in ("train", "valid", "oot"):
            assert set(by_segment[part]) == {"industry", "size_class", "thin_file"}
            assert set(by_segment[part]["thin_file"]) == {"yes", "no"}
            assert "missing" in by_segment[part]["industry"]
            rows = sum(values["n_rows"] for values in by_segment[part]["size_class"].values())
            assert rows == metrics[part]["n_rows"]
            for values in by_segment[part]["industry"].values():
                for name in ("auc", "ks"):
                    assert values[name] is not None or name in values["undefined"]


def test_train_stage_logs_segments_and_aliases_to_mlflow(stage_run):
    """The champion run has segment metrics; champion and challenger aliases point at their versions."""
    client = stage_run["client"]
    aliases = client.get_registered_model(MODEL_NAME).aliases
    assert aliases["champion"] == 1
    champion_run = client.get_run(client.get_model_version(MODEL_NAME, "1").run_id)
    assert any(key.startswith("segment.oot.thin_file.") for key in champion_run.data.metrics)
    challenger_run = client.get_run(client.get_model_version(MODEL_NAME, "2").run_id)
    assert challenger_run.data.tags["model_kind"] == "challenger_scorecard"
    assert challenger_run.data.metrics["oot_auc"] > 0.5


def test_train_stage_prints_comparison(stage_run):
    """The stage prints the gates and one line comparing challenger and candidate out of time."""
    stdout = stage_run["stdout"]
    assert "min_oot_ks: OOT KS" in stdout
    assert "Challenger scorecard version 2 (alias 'challenger'): OOT AUC 0." in stdout
    assert "; candidate: OOT AUC 0." in stdout
    assert "Alias 'champion' set." in stdout


def test_train_stage_failed_gate_lists_gates_in_locale(stage_run):
    """A failing candidate raises ModelError (exit code 4) listing the failed gate in zh_CN."""
    failure = stage_run["failure"]
    assert failure.exit_code == 4
    with use_locale("zh_CN"):
        message = str(failure)
    assert "模型 creditlimit-pd-stage-test 第 3 版已注册但未晋升。未通过的门槛：" in message
    assert "min_oot_ks：跨时间测试 KS" in message
    assert "低于下限 0.9900：未通过" in message


def test_train_stage_failed_gate_keeps_champion(stage_run):
    """The failing version is tagged with its gates and gets no alias; champion stays on version 1."""
    client = stage_run["client"]
    failed = client.get_model_version(MODEL_NAME, "3")
    assert not failed.aliases
    assert "min_oot_ks" in failed.tags["failed_gates"]
    run = client.get_run(failed.run_id)
    assert "min_oot_ks" in run.data.tags["failed_gates"]
    aliases = client.get_registered_model(MODEL_NAME).aliases
    assert aliases == {"champion": 1, "challenger": 4}
    record = json.loads((stage_run["folder"] / "models-strict" / "model.json").read_text())
    assert record["promoted"] is False
    metrics = json.loads((stage_run["folder"] / "models-strict" / "metrics.json").read_text())
    assert metrics["gates"]["min_oot_ks"]["passed"] is False


def test_train_command_exits_4_in_chinese(stage_run):
    """From the command line the failure exits with code 4 and a Chinese message on stderr."""
    folder = stage_run["folder"]
    environment = {**os.environ, "CREDITLIMIT_LANG": "zh_CN", "MLFLOW_DISABLE_TELEMETRY": "true",
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    environment.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        ["creditlimit", "train", "--params", str(stage_run["strict"]), "--training",
         str(stage_run["training"]), "--out", str(folder / "models-cli")],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 4, result.stderr[-3000:]
    assert "已注册但未晋升" in result.stderr
    assert "min_oot_ks" in result.stderr
    assert "挑战者评分卡" in result.stdout


def test_train_stage_search_records_trials(tmp_path):
    """With train.search enabled the best values train the model and every trial is logged."""
    table = with_context_columns(make_training_table(n_customers=200, n_months=20, seed=43,
                                                     base_logit=-2.4))
    training = tmp_path / "training.parquet"
    table.to_parquet(training)
    params = _write_params(tmp_path, "params.yaml", {
        "train.search.enabled": True, "train.search.n_trials": 2,
        "train.challenger.enabled": False, "train.min_oot_auc": 0.0,
        "train.gates.min_oot_ks": 0.0, "train.gates.max_oot_ece": 1.0,
    })
    with pytest.MonkeyPatch.context() as environment:
        environment.chdir(tmp_path)
        environment.delenv("MLFLOW_TRACKING_URI", raising=False)
        with contextlib.redirect_stdout(io.StringIO()) as output, use_locale("en"):
            stage.run(params_path=params, training_path=training, out_dir=tmp_path / "models")
    assert "Hyperparameter search: 2 trials, best validation AUC" in output.getvalue()
    metrics = json.loads((tmp_path / "models" / "metrics.json").read_text())
    assert metrics["search"]["trials"] == 2
    assert "challenger" not in metrics
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    run_id = client.get_model_version(MODEL_NAME, "1").run_id
    assert {item.path for item in client.list_artifacts(run_id, "search")} == {"search/trials.json"}
    best = metrics["search"]["best_params"]
    assert client.get_run(run_id).data.params["search.best.num_leaves"] == str(best["num_leaves"])
