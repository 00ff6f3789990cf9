"""MLflow tracking and registry access: log and register a trained PD model, load one by alias.

MLflow is imported inside the functions (it costs about 2 s), so importing this
module stays cheap for the command-line entry points.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlimit.errors import ModelError, ParamsError
from creditlimit.i18n import register

if TYPE_CHECKING:
    from creditlimit.models.pyfunc import CreditPDModel
    from creditlimit.models.scorecard import TrainedScorecard
    from creditlimit.models.training import TrainedModel

__all__ = [
    "CHAMPION_ALIAS",
    "PREVIOUS_CHAMPION_ALIAS",
    "CHALLENGER_ALIAS",
    "RegistrationResult",
    "ChallengerRegistration",
    "LoadedModel",
    "failed_gates",
    "log_and_register",
    "log_and_register_challenger",
    "load_model",
    "load_model_if_aliased",
]

logger = logging.getLogger(__name__)

CHAMPION_ALIAS = "champion"
# The champion a newly promoted version replaced, kept for rollback and comparison.
PREVIOUS_CHAMPION_ALIAS = "previous_champion"
# The latest challenger scorecard, registered under the same name for comparison.
# It never receives or moves the champion aliases.
CHALLENGER_ALIAS = "challenger"
_MODEL_ARTIFACT_NAME = "model"
_MAX_PARAM_LENGTH = 6000  # MLflow's limit on one parameter value
_SQLITE_PREFIX = "sqlite:///"
_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")

register({
    "model.registry.empty_text": {
        "en": "{name} must be a non-empty text; got {value!r}.",
        "zh_CN": "{name} 必须是非空文本；实际为 {value!r}。",
    },
    "model.registry.invalid_auc": {
        "en": "min_oot_auc must be a number in [0, 1]; got {value!r}.",
        "zh_CN": "min_oot_auc 必须是 [0, 1] 区间内的数值；实际为 {value!r}。",
    },
    "model.registry.metrics_file_missing": {
        "en": (
            "Metrics file {path} to log with the model does not exist. Write the metrics "
            "before registering, or pass metrics_path=None."
        ),
        "zh_CN": "要随模型记录的指标文件 {path} 不存在。请在注册前写出指标文件，或传入 metrics_path=None。",
    },
    "model.registry.logging_failed": {
        "en": (
            "MLflow failed at {tracking_uri} while logging and registering the model: "
            "{error}. Check that the tracking URI and the artifact folder are writable."
        ),
        "zh_CN": "MLflow 在 {tracking_uri} 记录并注册模型时失败：{error}。请检查跟踪 URI 和制品目录是否可写。",
    },
    "model.registry.loading_failed": {
        "en": (
            "MLflow failed at {tracking_uri} while loading {name}@{alias}: {error}. "
            "Check that the tracking URI and the model artifacts are readable."
        ),
        "zh_CN": "MLflow 在 {tracking_uri} 加载 {name}@{alias} 时失败：{error}。请检查跟踪 URI 和模型制品是否可读。",
    },
    "model.registry.store_missing": {
        "en": (
            "No MLflow tracking database at {path} (tracking URI {tracking_uri}). Run the "
            "train stage first, or point mlflow.tracking_uri / MLFLOW_TRACKING_URI at "
            "the store that contains the model."
        ),
        "zh_CN": "在 {path} 没有 MLflow 跟踪数据库（跟踪 URI {tracking_uri}）。请先运行 train 阶段，或将 mlflow.tracking_uri / MLFLOW_TRACKING_URI 指向保存模型的存储。",
    },
    "model.registry.model_not_found": {
        "en": (
            "Registered model '{name}' does not exist at {tracking_uri}. Run the train "
            "stage to register it, or fix mlflow.model_name."
        ),
        "zh_CN": "在 {tracking_uri} 中不存在已注册模型“{name}”。请运行 train 阶段注册模型，或修正 mlflow.model_name。",
    },
    "model.registry.alias_not_found": {
        "en": (
            "Registered model '{name}' has no alias '{alias}' at {tracking_uri} "
            "(aliases: {available}). A model gets the champion alias only when it "
            "passes every gate: retrain, or pass an existing alias."
        ),
        "zh_CN": "已注册模型“{name}”在 {tracking_uri} 中没有别名“{alias}”（现有别名：{available}）。只有通过全部门槛的模型才会获得 champion 别名：请重新训练，或指定一个已存在的别名。",
    },
    "model.registry.not_a_pd_model": {
        "en": (
            "{uri} is not a creditlimit PD model (its Python model is {kind}). Register "
            "models with the train stage only."
        ),
        "zh_CN": "{uri} 不是 creditlimit PD 模型（其 Python 模型类型为 {kind}）。请只通过 train 阶段注册模型。",
    },
})


@dataclass(frozen=True)
class RegistrationResult:
    """Outcome of :func:`log_and_register`.

    Attributes
    ----------
    name : str
        Registered model name.
    version : int
        New registered version.
    run_id : str
        MLflow run that logged the model, its parameters and metrics.
    promoted : bool
        True when the version passed every gate and received the ``champion`` alias.
        The version that held ``champion`` before, if any, then has ``previous_champion``.
    failed_gates : tuple of str
        One line per failed gate, such as ``"oot_auc 0.6512 < min_oot_auc 0.7000"``;
        empty when promoted.
    model_uri : str
        ``models:/<name>/<version>``.
    """

    name: str
    version: int
    run_id: str
    promoted: bool
    failed_gates: tuple[str, ...]
    model_uri: str


@dataclass(frozen=True)
class ChallengerRegistration:
    """Outcome of :func:`log_and_register_challenger`.

    Attributes
    ----------
    name : str
        Registered model name (the champion's).
    version : int
        New registered version, which has the ``challenger`` alias.
    run_id : str
        MLflow run that logged the scorecard.
    model_uri : str
        ``models:/<name>/<version>``.
    """

    name: str
    version: int
    run_id: str
    model_uri: str


@dataclass(frozen=True)
class LoadedModel:
    """A registered model resolved from an alias and loaded.

    Attributes
    ----------
    python_model : CreditPDModel
        The model with its booster, calibrator and category levels loaded.
    name : str
        Registered model name.
    version : int
        Version the alias pointed at when it was resolved.
    run_id : str
        Run that logged that version.
    uri : str
        ``models:/<name>/<version>``: the exact version loaded, not the alias.
    alias : str
        Alias that was resolved.
    """

    python_model: CreditPDModel
    name: str
    version: int
    run_id: str
    uri: str
    alias: str


def failed_gates(metrics: Mapping[str, Mapping], *, min_oot_auc: float) -> tuple[str, ...]:
    """List the promotion gates a model fails, from its per-part metrics.

    The gate checked here is the minimum out-of-time AUC (on the raw margin). An
    undefined OOT AUC fails the gate.

    Returns
    -------
    tuple of str
        One line per failed gate; empty when every gate passes.
    """
    oot = metrics.get("oot", {})
    auc = oot.get("auc")
    if auc is None:
        reason = oot.get("undefined", {}).get("auc", "missing")
        return (f"oot_auc undefined ({reason}); min_oot_auc {min_oot_auc:.4f}",)
    if auc < min_oot_auc:
        return (f"oot_auc {auc:.4f} < min_oot_auc {min_oot_auc:.4f}",)
    return ()


def log_and_register(
    trained: TrainedModel,
    *,
    tracking_uri: str,
    artifact_location: str | PathLike,
    experiment: str,
    model_name: str,
    default_definition: Mapping,
    params_to_log: Mapping[str, Any],
    min_oot_auc: float,
    metrics_path: str | PathLike | None = None,
    extra_failed_gates: Sequence[str] = (),
    extra_metrics: Mapping[str, float] | None = None,
    extra_tables: Mapping[str, Any] | None = None,
) -> RegistrationResult:
    """Log a trained model to MLflow, register a new version, and promote it if it passes.

    Steps:

    1. Create the experiment with ``artifact_location`` if it is missing.
    2. In one run, log ``params_to_log`` (nested keys joined with dots), the
       train/valid/oot metrics, the split, the calibration and the pyfunc model.
    3. Register the model as a new version of ``model_name``.
    4. When it passes every gate, move ``previous_champion`` to the current
       champion (if any) and give the new version ``champion``. Otherwise tag it
       ``failed_gates`` and leave every alias where it was.

    A model that fails a gate is still logged and registered, so it can be inspected.

    Parameters
    ----------
    trained : TrainedModel
        Output of :func:`~creditlimit.models.training.train_pd_model`.
    tracking_uri : str
        MLflow tracking and registry URI, e.g. ``sqlite:///mlflow.db``. For SQLite,
        the database folder is created when missing.
    artifact_location : str or path-like
        Artifact root of a new experiment: a folder path or a URI.
    experiment : str
        Experiment name.
    model_name : str
        Registered model name.
    default_definition : Mapping
        Label definition the model was trained on, stored inside the model.
    params_to_log : Mapping
        Run parameters (for example the ``train`` and ``label`` params sections).
    min_oot_auc : float
        Promotion gate on the out-of-time AUC, in [0, 1].
    metrics_path : str or path-like, optional
        Metrics JSON file already written by the caller (the DVC metrics output),
        logged to the run under ``evaluation/``. Skipped when None.
    extra_failed_gates : sequence of str, default ()
        Failures of gates checked by the caller (calibration error, PSI,
        challenger); any entry blocks promotion.
    extra_metrics : Mapping[str, float], optional
        Further run metrics, such as the metrics by segment.
    extra_tables : Mapping[str, pandas.DataFrame], optional
        Artifact path (ending in ``.json``) to a table logged with the run, such as
        the trials of a hyperparameter search.

    Returns
    -------
    RegistrationResult

    Raises
    ------
    ParamsError
        If an argument is empty or out of range, or ``metrics_path`` does not exist.
    ModelError
        If the default definition cannot be stored, or MLflow fails.
    """
    _check_text("experiment", experiment)
    _check_text("model_name", model_name)
    _check_auc_threshold(min_oot_auc)
    if metrics_path is not None and not Path(metrics_path).is_file():
        raise ParamsError("model.registry.metrics_file_missing", path=metrics_path)
    from mlflow.exceptions import MlflowException

    from creditlimit.models.pyfunc import CreditPDModel

    python_model = CreditPDModel.from_trained(trained, default_definition=default_definition)
    failures = (*failed_gates(trained.metrics, min_oot_auc=min_oot_auc), *extra_failed_gates)
    try:
        with _tracking(tracking_uri) as client:
            experiment_id = _experiment_id(client, experiment, artifact_location)
            run_id, model_uri = _log_run(
                trained, python_model, experiment_id, params_to_log, metrics_path, failures,
                extra_metrics or {}, extra_tables or {},
            )
            version = _register(client, model_uri, model_name, run_id, failures, trained)
    except MlflowException as error:
        raise ModelError(
            "model.registry.logging_failed", tracking_uri=tracking_uri, error=error.message
        ) from error

    promoted = not failures
    logger.info(
        "Registered %s version %d from run %s; promoted: %s; failed gates: %s",
        model_name, version, run_id, promoted, "; ".join(failures) or "none",
    )
    return RegistrationResult(
        name=model_name,
        version=version,
        run_id=run_id,
        promoted=promoted,
        failed_gates=tuple(failures),
        model_uri=f"models:/{model_name}/{version}",
    )


def log_and_register_challenger(
    trained: TrainedScorecard,
    *,
    tracking_uri: str,
    artifact_location: str | PathLike,
    experiment: str,
    model_name: str,
    default_definition: Mapping,
    params_to_log: Mapping[str, Any],
    extra_metrics: Mapping[str, float] | None = None,
) -> ChallengerRegistration:
    """Log the challenger scorecard in its own run and register it with alias ``challenger``.

    The run contains the parameters, the train/valid/oot metrics (plus
    ``extra_metrics``), the scorecard and binning tables under ``scorecard/``, and
    the pyfunc. The new version gets the ``challenger`` alias; ``champion`` and
    ``previous_champion`` are never read or moved.

    Raises
    ------
    ParamsError
        If ``experiment`` or ``model_name`` is empty.
    ModelError
        If MLflow fails.
    """
    _check_text("experiment", experiment)
    _check_text("model_name", model_name)
    import mlflow
    from mlflow.exceptions import MlflowException

    from creditlimit.models.scorecard_pyfunc import ScorecardPDModel

    python_model = ScorecardPDModel.from_scorecard(trained.model, default_definition=default_definition)
    try:
        with _tracking(tracking_uri) as client:
            experiment_id = _experiment_id(client, experiment, artifact_location)
            run_id, model_uri = _log_challenger_run(
                trained, python_model, experiment_id, params_to_log, extra_metrics or {}
            )
            registered = mlflow.register_model(model_uri, model_name, tags={"run_id": run_id})
            version = str(registered.version)
            client.set_model_version_tag(model_name, version, "model_kind", "challenger_scorecard")
            client.set_model_version_tag(
                model_name, version, "oot_auc", _tag_number(trained.metrics["oot"].get("auc"))
            )
            client.set_registered_model_alias(model_name, CHALLENGER_ALIAS, version)
    except MlflowException as error:
        raise ModelError(
            "model.registry.logging_failed", tracking_uri=tracking_uri, error=error.message
        ) from error
    logger.info("Registered challenger %s version %s from run %s", model_name, version, run_id)
    return ChallengerRegistration(name=model_name, version=int(version), run_id=run_id,
                                  model_uri=f"models:/{model_name}/{version}")


def load_model(*, tracking_uri: str, model_name: str, alias: str, version: int | None = None) -> LoadedModel:
    """Resolve ``models:/<model_name>@<alias>`` now and load that exact version.

    The alias is looked up on every call, so a run always scores with the version
    the alias points at when it starts, and records that version. A given
    ``version`` is loaded instead of the alias's current one (replaying a past
    run); ``alias`` is then only recorded.

    Raises
    ------
    ModelError
        If the tracking database, the registered model or the alias does not exist,
        the version is not a creditlimit PD model, or MLflow fails.
    """
    _check_text("model_name", model_name)
    _check_text("alias", alias)
    _check_store_exists(tracking_uri)
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    from creditlimit.models.pyfunc import CreditPDModel

    try:
        with _tracking(tracking_uri) as client:
            if version is None:
                version = _resolve_alias(client, tracking_uri, model_name, alias)
            else:
                version = client.get_model_version(model_name, str(version))
            uri = f"models:/{model_name}/{version.version}"
            python_model = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    except MlflowException as error:
        raise ModelError(
            "model.registry.loading_failed",
            tracking_uri=tracking_uri,
            name=model_name,
            alias=alias,
            error=error.message,
        ) from error
    if not isinstance(python_model, CreditPDModel):
        raise ModelError(
            "model.registry.not_a_pd_model", uri=uri, kind=type(python_model).__name__
        )
    logger.info("Loaded %s (alias %s, run %s)", uri, alias, version.run_id)
    return LoadedModel(
        python_model=python_model,
        name=model_name,
        version=int(version.version),
        run_id=str(version.run_id),
        uri=uri,
        alias=alias,
    )


def load_model_if_aliased(*, tracking_uri: str, model_name: str, alias: str) -> LoadedModel | None:
    """Load ``models:/<model_name>@<alias>`` like :func:`load_model`, or return None if it is absent.

    Absent means: no SQLite store at the URI yet, no registered model of that
    name, or no such alias. Other failures raise as in :func:`load_model`.
    """
    try:
        return load_model(tracking_uri=tracking_uri, model_name=model_name, alias=alias)
    except ModelError as error:
        if error.key in _ABSENT_KEYS:
            logger.info("No %s@%s at %s (%s)", model_name, alias, tracking_uri, error.key)
            return None
        raise


_ABSENT_KEYS = frozenset({
    "model.registry.store_missing",
    "model.registry.model_not_found",
    "model.registry.alias_not_found",
})


@contextlib.contextmanager
def _tracking(tracking_uri: str) -> Iterator[Any]:
    """Point MLflow's tracking and registry at ``tracking_uri``, restoring them afterwards."""
    import mlflow
    from mlflow import MlflowClient

    _ensure_sqlite_folder(tracking_uri)
    previous_tracking, previous_registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    # mlflow.set_tracking_uri and set_registry_uri also write these environment
    # variables (MLflow 3.17). Restoring only the URIs would leave the previous
    # default URI in the environment, where the next stage run in this process
    # would read it as the user's MLFLOW_TRACKING_URI.
    previous_environment = {name: os.environ.get(name) for name in _URI_VARIABLES}
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        yield MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    finally:
        mlflow.set_tracking_uri(previous_tracking)
        mlflow.set_registry_uri(previous_registry)
        for name, value in previous_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _experiment_id(client: Any, name: str, artifact_location: str | PathLike) -> str:
    location = _artifact_uri(artifact_location)
    existing = client.get_experiment_by_name(name)
    if existing is None:
        logger.info("Creating MLflow experiment %s with artifacts in %s", name, location)
        return client.create_experiment(name, artifact_location=location)
    if existing.lifecycle_stage == "deleted":
        logger.info("Restoring deleted MLflow experiment %s", name)
        client.restore_experiment(existing.experiment_id)
    if existing.artifact_location.rstrip("/") != location.rstrip("/"):
        # MLflow cannot move an experiment's artifact root once it exists.
        logger.warning(
            "Experiment %s keeps its artifact location %s; %s is ignored",
            name, existing.artifact_location, location,
        )
    return existing.experiment_id


def _log_run(
    trained: TrainedModel,
    python_model: CreditPDModel,
    experiment_id: str,
    params_to_log: Mapping[str, Any],
    metrics_path: str | PathLike | None,
    failures: Sequence[str],
    extra_metrics: Mapping[str, float],
    extra_tables: Mapping[str, Any],
) -> tuple[str, str]:
    """Log parameters, metrics, evaluation files and the pyfunc in one run."""
    import mlflow

    from creditlimit.models.pyfunc import model_signature, pip_requirements

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(_flatten_params(params_to_log))
        mlflow.log_metrics({**_flatten_metrics(trained), **extra_metrics})
        mlflow.set_tags(_run_tags(trained, failures))
        mlflow.log_dict(_evaluation_record(trained, failures), "evaluation/model_record.json")
        if metrics_path is not None:
            mlflow.log_artifact(str(metrics_path), artifact_path="evaluation")
        for artifact_file, table in extra_tables.items():
            mlflow.log_table(table, artifact_file)
        with tempfile.TemporaryDirectory(prefix="creditlimit-model-") as folder:
            artifacts = python_model.write_artifacts(folder)
            info = mlflow.pyfunc.log_model(
                name=_MODEL_ARTIFACT_NAME,
                python_model=python_model,
                artifacts=artifacts,
                signature=model_signature(trained.feature_names, trained.categorical_features),
                input_example=trained.input_example,
                pip_requirements=pip_requirements(),
            )
    return run.info.run_id, info.model_uri


def _log_challenger_run(
    trained: TrainedScorecard,
    python_model: Any,
    experiment_id: str,
    params_to_log: Mapping[str, Any],
    extra_metrics: Mapping[str, float],
) -> tuple[str, str]:
    """Log the challenger's parameters, metrics, tables and pyfunc in one run."""
    import mlflow

    from creditlimit.models.scorecard_pyfunc import scorecard_signature

    metrics = {
        f"{part}_{name}": float(value)
        for part, values in trained.metrics.items() for name, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }
    tags = {"model_kind": "challenger_scorecard"}
    for part, values in trained.metrics.items():
        for name, reason in values.get("undefined", {}).items():
            tags[f"undefined.{part}_{name}"] = reason
    scorecard = trained.model
    categoricals = tuple(b.name for b in scorecard.features if b.kind == "categorical")
    with mlflow.start_run(experiment_id=experiment_id, run_name="challenger_scorecard") as run:
        mlflow.log_params(_flatten_params(params_to_log))
        mlflow.log_metrics({**metrics, **extra_metrics})
        mlflow.set_tags(tags)
        mlflow.log_table(scorecard.table(), "scorecard/scorecard_table.json")
        mlflow.log_table(trained.binning_table, "scorecard/binning_table.json")
        mlflow.log_dict({"metrics": trained.metrics, "split": trained.split,
                         "dropped_features": dict(scorecard.dropped)},
                        "evaluation/challenger_record.json")
        with tempfile.TemporaryDirectory(prefix="creditlimit-scorecard-") as folder:
            info = mlflow.pyfunc.log_model(
                name=_MODEL_ARTIFACT_NAME,
                python_model=python_model,
                artifacts=python_model.write_artifacts(folder),
                signature=scorecard_signature(scorecard.feature_names, categoricals),
                input_example=trained.input_example,
                pip_requirements=_challenger_requirements(),
            )
    return run.info.run_id, info.model_uri


def _challenger_requirements() -> list[str]:
    from importlib import metadata

    names = ("creditlimit", "mlflow", "numpy", "pandas")
    return [f"{name}=={metadata.version(name)}" for name in names]


def _register(
    client: Any,
    model_uri: str,
    model_name: str,
    run_id: str,
    failures: Sequence[str],
    trained: TrainedModel,
) -> int:
    """Register a new version and promote it when no gate failed, or else tag the failures.

    Promotion moves ``previous_champion`` to the current champion, if any, and then
    ``champion`` to the new version.
    """
    import mlflow

    registered = mlflow.register_model(model_uri, model_name, tags={"run_id": run_id})
    version = str(registered.version)
    oot_auc = trained.metrics["oot"].get("auc")
    client.set_model_version_tag(model_name, version, "oot_auc", _tag_number(oot_auc))
    client.set_model_version_tag(model_name, version, "calibration", trained.calibrator.method)
    # Scoring loads only versions tagged gates_passed=true (creditlimit.serving.model_guard).
    client.set_model_version_tag(model_name, version, "gates_passed", "false" if failures else "true")
    if failures:
        client.set_model_version_tag(model_name, version, "failed_gates", "; ".join(failures))
        return int(version)
    current = dict(client.get_registered_model(model_name).aliases or {}).get(CHAMPION_ALIAS)
    if current is not None:
        client.set_registered_model_alias(model_name, PREVIOUS_CHAMPION_ALIAS, str(current))
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
    return int(version)


def _resolve_alias(client: Any, tracking_uri: str, model_name: str, alias: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        registered = client.get_registered_model(model_name)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise ModelError(
                "model.registry.model_not_found", name=model_name, tracking_uri=tracking_uri
            ) from error
        raise
    aliases = dict(registered.aliases or {})
    if alias not in aliases:
        raise ModelError(
            "model.registry.alias_not_found",
            name=model_name,
            alias=alias,
            tracking_uri=tracking_uri,
            available=", ".join(sorted(aliases)) or "-",
        )
    return client.get_model_version_by_alias(model_name, alias)


def _flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten_params(value, prefix=f"{name}."))
        else:
            if not isinstance(value, str):
                value = json.dumps(value, ensure_ascii=False, default=str)
            flat[name] = value[:_MAX_PARAM_LENGTH]
    return flat


def _flatten_metrics(trained: TrainedModel) -> dict[str, float]:
    metrics = {"best_iteration": float(trained.best_iteration)}
    for part, values in trained.metrics.items():
        for name, value in values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                if math.isfinite(value):
                    metrics[f"{part}_{name}"] = float(value)
    return metrics


def _run_tags(trained: TrainedModel, failures: Sequence[str]) -> dict[str, str]:
    tags = {
        "calibration": trained.calibrator.method,
        "failed_gates": "; ".join(failures) or "none",
    }
    for part, bounds in trained.split.items():
        tags[f"split.{part}"] = f"{bounds['start']} to {bounds['end']}"
    for part, values in trained.metrics.items():
        for name, reason in values.get("undefined", {}).items():
            tags[f"undefined.{part}_{name}"] = reason
    return tags


def _evaluation_record(trained: TrainedModel, failures: Sequence[str]) -> dict:
    return {
        "metrics": dict(trained.metrics),
        "split": dict(trained.split),
        "best_iteration": trained.best_iteration,
        "calibration": trained.calibrator.to_dict(),
        "feature_importance": dict(trained.feature_importance),
        "failed_gates": list(failures),
        "training_seconds": trained.training_seconds,
    }


def _artifact_uri(location: str | PathLike) -> str:
    text = str(location)
    if "://" in text or text.startswith("file:"):
        return text
    return Path(text).resolve().as_uri()


def _ensure_sqlite_folder(tracking_uri: str) -> None:
    if tracking_uri.startswith(_SQLITE_PREFIX):
        Path(tracking_uri[len(_SQLITE_PREFIX):]).parent.mkdir(parents=True, exist_ok=True)


def _check_store_exists(tracking_uri: str) -> None:
    # Opening a missing SQLite file would create an empty store and hide the mistake.
    if tracking_uri.startswith(_SQLITE_PREFIX):
        path = Path(tracking_uri[len(_SQLITE_PREFIX):])
        if not path.is_file():
            raise ModelError("model.registry.store_missing", path=path, tracking_uri=tracking_uri)


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ParamsError("model.registry.empty_text", name=name, value=value)


def _check_auc_threshold(value: object) -> None:
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    if not valid or not 0.0 <= value <= 1.0:
        raise ParamsError("model.registry.invalid_auc", value=value)


def _tag_number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.6f}"

