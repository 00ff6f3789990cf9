"""Tests of the model guard on a real MLflow SQLite store: gates, file location, signature, pickles."""

from __future__ import annotations

import importlib.util
import pathlib
import pickle
import shutil
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from creditlimit.errors import ModelError, ParamsError
from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES
from creditlimit.i18n import use_locale
from creditlimit.models.pyfunc import model_signature
from creditlimit.models.registry import CHAMPION_ALIAS, log_and_register
from creditlimit.serving.model_guard import check_signature, load_guarded_model

MODEL_NAME = "creditlimit-pd"
DEFINITION = {"horizon_months": 12, "dpd_threshold": 90, "min_amount": 100.0}


def _model_fixtures():
    """Load the synthetic training table builder and train section of the model tests."""
    path = Path(__file__).parents[1] / "models" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_model_test_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _PlantedPayload:
    """Unpickling this object creates ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with version 1 (champion, passed) and 2 (failed the AUC gate), and a feature table."""
    from creditlimit.models.training import TrainParams, train_pd_model

    fixtures = _model_fixtures()
    table = fixtures.make_training_table(n_customers=300, n_months=30, seed=11)
    section = {**fixtures.TRAIN_SECTION, "lightgbm": {**fixtures.TRAIN_SECTION["lightgbm"], "n_estimators": 60}}
    trained = train_pd_model(table, params=TrainParams.from_mapping(section))

    root = tmp_path_factory.mktemp("guard")
    artifacts = root / "mlartifacts"
    tracking_uri = f"sqlite:///{root}/mlflow.db"
    arguments = {
        "tracking_uri": tracking_uri, "artifact_location": artifacts, "experiment": "guard",
        "model_name": MODEL_NAME, "default_definition": DEFINITION, "params_to_log": {"label": DEFINITION},
    }
    passing = log_and_register(trained, min_oot_auc=0.5, **arguments)
    failing = log_and_register(trained, min_oot_auc=0.999, **arguments)
    latest = table[table["as_of"] == table["as_of"].max()].drop(columns="is_bad").reset_index(drop=True)
    return {
        "root": root,
        "tracking_uri": tracking_uri,
        "artifacts": artifacts,
        "artifact_location": artifacts.resolve().as_uri(),
        "client": MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri),
        "passing": passing,
        "failing": failing,
        "features": latest,
    }


def _guarded(store, alias: str = CHAMPION_ALIAS, **changes):
    arguments = {
        "tracking_uri": store["tracking_uri"], "model_name": MODEL_NAME, "alias": alias,
        "artifact_location": store["artifact_location"], "features": store["features"],
        "data_dirs": (store["root"] / "data",),
    } | changes
    return load_guarded_model(**arguments)


def _register_copy(store, folder: Path, alias: str, *, gates_passed: bool = True, marker: Path | None = None) -> str:
    """Copy version 1's files to ``folder`` (optionally with a planted pickle), register and alias them."""
    client = store["client"]
    source = client.get_model_version_download_uri(MODEL_NAME, str(store["passing"].version))
    shutil.copytree(Path(source.removeprefix("file://")), folder)
    if marker is not None:
        (folder / "python_model.pkl").write_bytes(pickle.dumps(_PlantedPayload(marker)))
    previous = mlflow.get_registry_uri()
    mlflow.set_registry_uri(store["tracking_uri"])
    try:
        version = client.create_model_version(MODEL_NAME, source=str(folder)).version
    finally:
        mlflow.set_registry_uri(previous)
    if gates_passed:
        client.set_model_version_tag(MODEL_NAME, version, "gates_passed", "true")
    client.set_registered_model_alias(MODEL_NAME, alias, version)
    return version


def test_registration_tags_gates(store):
    """Registration tags every version with gates_passed, true only when no gate failed."""
    client = store["client"]
    passed = client.get_model_version(MODEL_NAME, str(store["passing"].version)).tags
    failed = client.get_model_version(MODEL_NAME, str(store["failing"].version)).tags

    assert passed["gates_passed"] == "true"
    assert "failed_gates" not in passed
    assert failed["gates_passed"] == "false"
    assert failed["failed_gates"].startswith("oot_auc")


def test_guard_loads_champion(store):
    """The champion that passed its gates loads, and it is the version the alias names."""
    loaded = _guarded(store)

    assert loaded.version == store["passing"].version
    assert loaded.uri == f"models:/{MODEL_NAME}/{store['passing'].version}"
    assert list(loaded.python_model.feature_names) == list(FEATURE_NAMES)


def test_guard_rejects_failed_gates(store):
    """A version that failed a gate is rejected under any alias, naming the failed gate."""
    store["client"].set_registered_model_alias(MODEL_NAME, "candidate", str(store["failing"].version))

    with pytest.raises(ModelError, match=r"models:/creditlimit-pd/2 \(alias candidate\) is not tagged "
                       r"gates_passed=true \(failed_gates: oot_auc .*\), so it is not scored"):
        _guarded(store, alias="candidate")
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"（别名 candidate）没有 gates_passed=true 标签"):
        _guarded(store, alias="candidate")


def test_guard_what_if_accepts_failed_gates(store):
    """A what-if run (nothing published) may load a version that failed a gate."""
    store["client"].set_registered_model_alias(MODEL_NAME, "candidate", str(store["failing"].version))
    loaded = _guarded(store, alias="candidate", require_passed_gates=False)
    assert loaded.version == int(store["failing"].version)


def test_guard_rejects_version_without_gate_tag(store, tmp_path):
    """A version registered by hand, without the gates_passed tag, is rejected."""
    version = _register_copy(store, store["artifacts"] / "manual-copy", "manual", gates_passed=False)

    with pytest.raises(ModelError, match=rf"models:/creditlimit-pd/{version} \(alias manual\) is not tagged "
                       r"gates_passed=true \(gates_passed=-\)"):
        _guarded(store, alias="manual")


def test_guard_never_unpickles_model_in_data_folder(store):
    """A version whose files lie in the data folder is rejected before its pickle is read."""
    marker = store["root"] / "planted-in-data.marker"
    folder = store["root"] / "data" / "raw" / "model"
    version = _register_copy(store, folder, "planted", marker=marker)

    with pytest.raises(ModelError, match=rf"models:/creditlimit-pd/{version} \(alias planted\) keeps its files at "
                       r".*data/raw/model, inside the data folder .*data, so it is not loaded"):
        _guarded(store, alias="planted")
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"的文件位于数据文件夹 .* 内的 .*，因此不予加载"):
        _guarded(store, alias="planted")

    assert not marker.exists()
    # The planted pickle is live: loading it directly creates the marker.
    pickle.loads((folder / "python_model.pkl").read_bytes())
    assert marker.exists()


def test_guard_rejects_model_outside_artifact_store(store):
    """A version whose files lie outside the configured artifact store is not loaded."""
    marker = store["root"] / "planted-elsewhere.marker"
    version = _register_copy(store, store["root"] / "elsewhere" / "model", "elsewhere", marker=marker)

    with pytest.raises(ModelError, match=rf"models:/creditlimit-pd/{version} \(alias elsewhere\) keeps its files at "
                       r".*elsewhere/model, outside the MLflow artifact store file://.*mlartifacts"):
        _guarded(store, alias="elsewhere")
    assert not marker.exists()


def test_guard_ignores_pickles_in_data_folder(store):
    """Scoring the champion reads no file from the data folder; the one pickle read is in the artifact store."""
    data = store["root"] / "data"
    marker = store["root"] / "planted-beside.marker"
    for path in (data / "raw" / "python_model.pkl", data / "interim" / "clean" / "model.pkl"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(_PlantedPayload(marker)))
    opened: list[str] = []
    recording = True

    def audit(event: str, arguments: tuple) -> None:
        if recording and event == "open" and isinstance(arguments[0], str):
            opened.append(arguments[0])

    sys.addaudithook(audit)
    try:
        loaded = _guarded(store, data_dirs=(data / "raw", data / "interim" / "clean"))
    finally:
        recording = False

    assert loaded.version == store["passing"].version
    assert not marker.exists()
    assert not [path for path in opened if Path(path).resolve().is_relative_to(data.resolve())]
    pickles = {Path(path).name for path in opened if path.endswith(".pkl")}
    assert pickles == {"python_model.pkl"}
    # MLflow reads the pickle from the version's folder in the artifact store.
    assert any(Path(path).resolve().is_relative_to(store["artifacts"].resolve())
               for path in opened if path.endswith("python_model.pkl"))


def test_guard_rejects_missing_and_mistyped_columns(store):
    """A feature table without a model input or with a wrongly typed one is rejected, naming them."""
    features = store["features"].drop(columns=["roa"]).assign(industry=1.0, tenure_months="long")

    with pytest.raises(ModelError, match=r"models:/creditlimit-pd/1 does not match the feature table: "
                       r"missing columns: roa; extra columns: -; columns of the wrong type: "
                       r"tenure_months \(model double, table .*\), industry \(model string, table float64\)"):
        _guarded(store, features=features)
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"与特征表不匹配：缺少的列：roa"):
        _guarded(store, features=features)


def test_check_signature_names_extra_columns(store):
    """Catalog features the model was not trained on are named as extra columns."""
    names = tuple(name for name in FEATURE_NAMES if name not in ("dso_days", "roa"))
    signature = model_signature(names, CATEGORICAL_FEATURES)

    with pytest.raises(ModelError, match=r"missing columns: -; extra columns: roa, dso_days;"):
        check_signature(signature, store["features"], uri="models:/m/1")


def test_check_signature_requires_signature(store):
    """A model logged without a signature cannot be checked, so it is rejected."""
    with pytest.raises(ModelError, match=r"models:/m/1 has no input signature"):
        check_signature(None, store["features"], uri="models:/m/1")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alias": "../data/raw/model"}, r"model alias '\.\./data/raw/model' is not a plain registry name"),
        ({"alias": "file:///tmp/model"}, r"model alias 'file:///tmp/model' is not a plain registry name"),
        ({"alias": "champion/1"}, r"model alias 'champion/1' is not a plain registry name"),
        ({"model_name": "/work/data/model"}, r"mlflow\.model_name '/work/data/model' is not a plain"),
        ({"model_name": "runs:/abc/model"}, r"mlflow\.model_name 'runs:/abc/model' is not a plain"),
        ({"model_name": "creditlimit-pd@champion"}, r"'creditlimit-pd@champion' is not a plain"),
    ],
)
def test_guard_rejects_paths_and_uris(store, tmp_path, changes, message):
    """Only a plain name and alias are accepted, checked before the store is opened."""
    missing_store = f"sqlite:///{tmp_path}/absent.db"

    with pytest.raises(ParamsError, match=message):
        _guarded(store, tracking_uri=missing_store, **changes)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"不是普通的注册表名称"):
        _guarded(store, tracking_uri=missing_store, **changes)
    assert not (tmp_path / "absent.db").exists()


def test_guard_missing_alias_keeps_registry_message(store):
    """An alias that does not exist raises the registry's own message."""
    with pytest.raises(ModelError, match=r"has no alias 'production'"):
        _guarded(store, alias="production")


def test_score_stage_loads_through_guard():
    """The score stage loads its model only through the guard, and the CLI takes no model path or URI."""
    package = Path(__file__).parents[2] / "creditlimit" / "pipelines"
    score_source = (package / "score.py").read_text(encoding="utf-8")
    cli_source = (package / "cli.py").read_text(encoding="utf-8")

    assert "load_guarded_model(" in score_source
    assert "load_model(" not in score_source.replace("load_guarded_model(", "")
    for option in ("--model-uri", "--model-path", "--model-file"):
        assert option not in cli_source
