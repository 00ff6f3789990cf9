"""Tests for creditlimit.models.registry: a real MLflow round trip on a temporary SQLite store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from creditlimit.errors import ModelError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.pyfunc import CreditPDModel
from creditlimit.models.registry import (
    CHAMPION_ALIAS,
    PREVIOUS_CHAMPION_ALIAS,
    failed_gates,
    load_model,
    load_model_if_aliased,
    log_and_register,
)

MODEL_NAME = "creditlimit-pd"
DEFINITION = {"horizon_months": 12, "dpd_threshold": 90, "min_amount": 100.0}


@pytest.fixture(scope="module")
def store(tmp_path_factory, trained_model, train_section):
    """A SQLite store with version 1 promoted and version 2 failing the AUC gate."""
    root = tmp_path_factory.mktemp("mlflow")
    tracking_uri = f"sqlite:///{root}/store/mlflow.db"
    metrics_path = root / "metrics.json"
    metrics_path.write_text(json.dumps(trained_model.metrics), encoding="utf-8")
    previous_uri = mlflow.get_tracking_uri()
    arguments = {
        "tracking_uri": tracking_uri,
        "artifact_location": root / "artifacts",
        "experiment": "creditlimit-test",
        "model_name": MODEL_NAME,
        "default_definition": DEFINITION,
        "params_to_log": {"train": train_section, "label": DEFINITION},
        "metrics_path": metrics_path,
    }
    passing = log_and_register(trained_model, min_oot_auc=0.5, **arguments)
    failing = log_and_register(trained_model, min_oot_auc=0.999, **arguments)
    return {
        "root": root,
        "tracking_uri": tracking_uri,
        "passing": passing,
        "failing": failing,
        "previous_uri": previous_uri,
        "client": MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri),
    }


def test_log_and_register_promotes_passing_model(store):
    """A model above the AUC gate becomes version 1 with the champion alias."""
    result = store["passing"]
    assert result.name == MODEL_NAME
    assert result.version == 1
    assert result.promoted is True
    assert result.failed_gates == ()
    assert result.model_uri == f"models:/{MODEL_NAME}/1"
    champion = store["client"].get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    assert int(champion.version) == 1
    assert champion.run_id == result.run_id


def test_log_and_register_failing_gate_not_promoted(store, trained_model):
    """A model below the gate is registered as version 2, tagged, and the champion stays version 1."""
    result = store["failing"]
    oot_auc = trained_model.metrics["oot"]["auc"]
    assert result.version == 2
    assert result.promoted is False
    assert result.failed_gates == (f"oot_auc {oot_auc:.4f} < min_oot_auc 0.9990",)
    version = store["client"].get_model_version(MODEL_NAME, "2")
    assert version.tags["failed_gates"] == result.failed_gates[0]
    assert version.tags["run_id"] == result.run_id
    assert not version.aliases
    champion = store["client"].get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    assert int(champion.version) == 1


def test_log_and_register_logs_params_metrics_and_files(store, trained_model):
    """The run contains the flattened params, every defined metric and the evaluation files."""
    client = store["client"]
    run = client.get_run(store["passing"].run_id)
    assert run.data.params["train.seed"] == "42"
    assert run.data.params["train.lightgbm.learning_rate"] == "0.05"
    assert run.data.params["label.horizon_months"] == "12"
    assert run.data.metrics["oot_auc"] == pytest.approx(trained_model.metrics["oot"]["auc"])
    assert run.data.metrics["valid_brier"] == pytest.approx(trained_model.metrics["valid"]["brier"])
    assert run.data.metrics["best_iteration"] == trained_model.best_iteration
    assert run.data.tags["calibration"] == trained_model.calibrator.method
    assert run.data.tags["split.oot"] == "2024-01-01 to 2024-06-01"
    files = {item.path for item in client.list_artifacts(run.info.run_id, "evaluation")}
    assert files == {"evaluation/metrics.json", "evaluation/model_record.json"}


def test_log_and_register_creates_experiment_with_artifact_folder(store):
    """A missing experiment is created with the requested artifact folder, which receives the model."""
    experiment = store["client"].get_experiment_by_name("creditlimit-test")
    assert experiment.artifact_location == (store["root"] / "artifacts").resolve().as_uri()
    booster_files = list((store["root"] / "artifacts").rglob("booster.txt"))
    assert len(booster_files) == 2


def test_log_and_register_leaves_environment_unset(trained_model, tmp_path, monkeypatch):
    """Registering twice leaves MLFLOW_TRACKING_URI unset, so the next run reads its own params."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    for name in ("first", "second"):
        log_and_register(trained_model, tracking_uri=f"sqlite:///{tmp_path / name}/mlflow.db",
                         artifact_location=tmp_path / name / "artifacts", experiment="creditlimit-test",
                         model_name=MODEL_NAME, default_definition=DEFINITION, params_to_log={},
                         min_oot_auc=0.5)
        assert "MLFLOW_TRACKING_URI" not in os.environ
        assert "MLFLOW_REGISTRY_URI" not in os.environ
    second = f"sqlite:///{tmp_path / 'second'}/mlflow.db"
    client = MlflowClient(tracking_uri=second, registry_uri=second)
    assert client.get_registered_model(MODEL_NAME).aliases == {CHAMPION_ALIAS: 1}


def test_log_and_register_restores_tracking_uri(store):
    """The global MLflow tracking URI is the same after registration as before."""
    assert mlflow.get_tracking_uri() == store["previous_uri"]


def test_load_model_predicts_like_in_process(store, trained_model, training_table):
    """The champion loaded from the registry scores exactly as the in-process pyfunc."""
    loaded = load_model(tracking_uri=store["tracking_uri"], model_name=MODEL_NAME, alias="champion")
    assert loaded.version == 1
    assert loaded.uri == f"models:/{MODEL_NAME}/1"
    assert loaded.run_id == store["passing"].run_id
    assert loaded.alias == "champion"
    assert isinstance(loaded.python_model, CreditPDModel)
    in_process = CreditPDModel.from_trained(trained_model, default_definition=DEFINITION)
    frame = training_table.tail(500)
    np.testing.assert_array_equal(
        loaded.python_model.predict(None, frame).to_numpy(),
        in_process.predict(None, frame).to_numpy(),
    )
    assert loaded.python_model.default_definition == DEFINITION


def test_load_model_resolves_alias_afresh(store):
    """Moving an alias between calls loads the version it points at now."""
    client = store["client"]
    uri = store["tracking_uri"]
    try:
        client.set_registered_model_alias(MODEL_NAME, "challenger", "2")
        assert load_model(tracking_uri=uri, model_name=MODEL_NAME, alias="challenger").version == 2
        client.set_registered_model_alias(MODEL_NAME, "challenger", "1")
        assert load_model(tracking_uri=uri, model_name=MODEL_NAME, alias="challenger").version == 1
    finally:
        client.delete_registered_model_alias(MODEL_NAME, "challenger")


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        (
            "en",
            r"Registered model 'creditlimit-pd' has no alias 'production' "
            r"at sqlite:///.* \(aliases: champion\)",
        ),
        ("zh_CN", r"已注册模型“creditlimit-pd”在 sqlite:///.* 中没有别名“production”"),
    ],
)
def test_load_model_missing_alias_raises(store, locale, message):
    """An alias that does not exist raises ModelError listing the aliases, in both locales."""
    with use_locale(locale), pytest.raises(ModelError, match=message):
        load_model(tracking_uri=store["tracking_uri"], model_name=MODEL_NAME, alias="production")


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"Registered model 'other-model' does not exist at sqlite:///"),
        ("zh_CN", r"中不存在已注册模型“other-model”"),
    ],
)
def test_load_model_missing_model_raises(store, locale, message):
    """An unknown model name raises ModelError, in both locales."""
    with use_locale(locale), pytest.raises(ModelError, match=message):
        load_model(tracking_uri=store["tracking_uri"], model_name="other-model", alias="champion")


def test_load_model_missing_store_raises_without_creating_it(tmp_path):
    """A SQLite URI pointing at no file raises and creates no empty store."""
    missing = tmp_path / "nowhere" / "mlflow.db"
    with pytest.raises(ModelError, match=r"No MLflow tracking database at .*mlflow.db"):
        load_model(tracking_uri=f"sqlite:///{missing}", model_name=MODEL_NAME, alias="champion")
    assert not missing.exists()
    assert not missing.parent.exists()


def test_failed_gates_reports_undefined_auc():
    """An undefined OOT AUC fails the gate with its reason."""
    metrics = {"oot": {"auc": None, "undefined": {"auc": "undefined: one class (40 goods, 0 bads)"}}}
    assert failed_gates(metrics, min_oot_auc=0.7) == (
        "oot_auc undefined (undefined: one class (40 goods, 0 bads)); min_oot_auc 0.7000",
    )


def test_failed_gates_passes_at_threshold():
    """An OOT AUC equal to the threshold passes."""
    assert failed_gates({"oot": {"auc": 0.7}}, min_oot_auc=0.7) == ()


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"min_oot_auc": 1.5}, ParamsError, r"min_oot_auc must be a number in \[0, 1\]; got 1.5"),
        ({"model_name": " "}, ParamsError, r"model_name must be a non-empty text"),
        ({"default_definition": {"at": object()}}, ModelError, r"JSON-serialisable mapping"),
        ({"metrics_path": "no/such/metrics.json"}, ParamsError, r"Metrics file no/such/metrics.json"),
    ],
)
def test_log_and_register_rejects_bad_arguments(trained_model, tmp_path, changes, error, message):
    """Invalid arguments raise before anything is written."""
    arguments = {
        "tracking_uri": f"sqlite:///{tmp_path}/db/mlflow.db",
        "artifact_location": tmp_path / "artifacts",
        "experiment": "x",
        "model_name": MODEL_NAME,
        "default_definition": DEFINITION,
        "params_to_log": {},
        "min_oot_auc": 0.7,
        **changes,
    }
    with pytest.raises(error, match=message):
        log_and_register(trained_model, **arguments)
    assert not Path(tmp_path / "db").exists()


def test_log_and_register_moves_champion_to_previous(trained_model, tmp_path):
    """A failing version gets no alias. A second passing one takes champion, and the first gets previous_champion."""
    tracking_uri = f"sqlite:///{tmp_path}/mlflow.db"
    arguments = {
        "tracking_uri": tracking_uri,
        "artifact_location": tmp_path / "artifacts",
        "experiment": "creditlimit-test",
        "model_name": MODEL_NAME,
        "default_definition": DEFINITION,
        "params_to_log": {},
        "min_oot_auc": 0.5,
    }
    psi_failure = "max_score_psi: score PSI (train vs OOT) 0.2500 is above the maximum 0.1000: failed."
    first = log_and_register(trained_model, **arguments)
    failing = log_and_register(trained_model, extra_failed_gates=[psi_failure], **arguments)
    second = log_and_register(trained_model, **arguments)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    assert (first.version, failing.version, second.version) == (1, 2, 3)
    assert failing.promoted is False
    assert failing.failed_gates == (psi_failure,)
    assert second.promoted is True
    aliases = client.get_registered_model(MODEL_NAME).aliases
    assert aliases == {CHAMPION_ALIAS: 3, PREVIOUS_CHAMPION_ALIAS: 1}
    failed_version = client.get_model_version(MODEL_NAME, "2")
    assert not failed_version.aliases
    assert failed_version.tags["failed_gates"] == psi_failure


def test_load_model_if_aliased_returns_none_when_absent(store, tmp_path):
    """A missing store, model or alias gives None; an existing alias loads its version."""
    missing_store = f"sqlite:///{tmp_path}/none/mlflow.db"
    assert load_model_if_aliased(tracking_uri=missing_store, model_name=MODEL_NAME, alias="champion") is None
    assert not (tmp_path / "none").exists()
    uri = store["tracking_uri"]
    assert load_model_if_aliased(tracking_uri=uri, model_name="other-model", alias="champion") is None
    assert load_model_if_aliased(tracking_uri=uri, model_name=MODEL_NAME, alias="production") is None
    assert load_model_if_aliased(tracking_uri=uri, model_name=MODEL_NAME, alias="champion").version == 1


def test_challenger_registration_sets_only_its_alias(trained_model, trained_challenger, tmp_path):
    """The challenger gets alias challenger in its own run; champion and previous_champion stay put."""
    from creditlimit.models.registry import CHALLENGER_ALIAS, log_and_register_challenger
    from creditlimit.models.scorecard_pyfunc import ScorecardPDModel

    tracking_uri = f"sqlite:///{tmp_path}/mlflow.db"
    location = {"tracking_uri": tracking_uri, "artifact_location": tmp_path / "artifacts",
                "experiment": "creditlimit-test", "model_name": MODEL_NAME,
                "default_definition": DEFINITION}
    first = log_and_register(trained_model, params_to_log={}, min_oot_auc=0.5, **location)
    second = log_and_register(trained_model, params_to_log={}, min_oot_auc=0.5, **location)
    challenger = log_and_register_challenger(
        trained_challenger, params_to_log={"train.challenger": {"pdo": 20}},
        extra_metrics={"segment.oot.industry.retail.auc": 0.7}, **location,
    )
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    assert challenger.version == 3
    assert challenger.run_id not in (first.run_id, second.run_id)
    aliases = client.get_registered_model(MODEL_NAME).aliases
    assert aliases == {CHAMPION_ALIAS: 2, PREVIOUS_CHAMPION_ALIAS: 1, CHALLENGER_ALIAS: 3}
    version = client.get_model_version(MODEL_NAME, "3")
    assert version.tags["model_kind"] == "challenger_scorecard"
    run = client.get_run(challenger.run_id)
    assert run.data.metrics["oot_auc"] == pytest.approx(trained_challenger.metrics["oot"]["auc"])
    assert run.data.metrics["segment.oot.industry.retail.auc"] == 0.7
    assert run.data.params["train.challenger.pdo"] == "20"
    artifacts = {item.path for item in client.list_artifacts(challenger.run_id, "scorecard")}
    assert artifacts == {"scorecard/scorecard_table.json", "scorecard/binning_table.json"}

    # Any MLflow consumer scores the challenger like the in-process scorecard.
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{CHALLENGER_ALIAS}")
    finally:
        mlflow.set_tracking_uri(previous)
    rows = trained_model.input_example
    assert isinstance(loaded.unwrap_python_model(), ScorecardPDModel)
    np.testing.assert_allclose(loaded.predict(rows)["pd_12m"], trained_challenger.predict(rows)["pd_12m"])

    # A second challenger moves only the challenger alias.
    again = log_and_register_challenger(trained_challenger, params_to_log={}, **location)
    aliases = client.get_registered_model(MODEL_NAME).aliases
    assert aliases == {CHAMPION_ALIAS: 2, PREVIOUS_CHAMPION_ALIAS: 1, CHALLENGER_ALIAS: again.version}
    with pytest.raises(ModelError, match=r"is not a creditlimit PD model"):
        load_model(tracking_uri=tracking_uri, model_name=MODEL_NAME, alias=CHALLENGER_ALIAS)
