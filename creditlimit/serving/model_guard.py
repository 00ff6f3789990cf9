"""Check a registered PD model before scoring loads it: reference, gates, location and signature.

Loading an MLflow pyfunc unpickles (with cloudpickle) the ``python_model.pkl``
stored with the model version, and unpickling runs code. For
:class:`~creditlimit.models.pyfunc.CreditPDModel` that pickle holds only the
class reference (the booster and calibrator are rebuilt from text and JSON
artifacts), but a tampered or planted pickle would run whatever it contains. So
:func:`load_guarded_model` checks everything it can from the registry and the
``MLmodel`` file (YAML, no pickle) first, and loads only when all checks pass:

1. the model name and alias are plain registry names, not paths or URIs, so
   scoring can only load ``models:/<name>@<alias>`` from the configured registry;
2. the version the alias points at is tagged ``gates_passed=true`` at
   registration and carries no ``failed_gates`` tag;
3. the version's files lie inside the configured MLflow artifact store and
   outside the data folders, so nothing under ``data/`` is ever unpickled;
4. the model's signature matches the feature table: every model input is a
   column of the right type, and the table has no catalog feature the model lacks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pandas as pd

from creditlimit.errors import ModelError, ParamsError
from creditlimit.features.catalog import FEATURE_NAMES
from creditlimit.i18n import register

__all__ = ["GATES_PASSED_TAG", "load_guarded_model", "check_signature", "check_location"]

logger = logging.getLogger(__name__)

GATES_PASSED_TAG = "gates_passed"
"""Model version tag that registration sets to ``true`` when every promotion gate passed."""

# MLflow aliases are word characters and hyphens. Model names may contain more,
# but never a path separator, a URI scheme or an alias marker.
_ALIAS_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
_NAME_FORBIDDEN = re.compile(r"[/\\:@\x00-\x1f]|^\.")

register({
    "model.guard.invalid_reference": {
        "en": "{what} '{value}' is not a plain registry name. Scoring loads only "
              "models:/<name>@<alias> from the configured MLflow registry, never a path or URI. "
              "Set mlflow.model_name in params.yaml or --model-alias to a name such as champion.",
        "zh_CN": "{what}“{value}”不是普通的注册表名称。评分只从配置的 MLflow 注册表加载 "
                 "models:/<名称>@<别名>，从不加载路径或 URI。请将 params.yaml 中的 mlflow.model_name "
                 "或 --model-alias 设为例如 champion 的名称。",
    },
    "model.guard.gates_not_passed": {
        "en": "{uri} (alias {alias}) is not tagged {tag}=true ({detail}), so it is not scored. "
              "Point the alias at a version that passed every gate, or retrain with "
              "`creditlimit train`, which tags the versions that pass.",
        "zh_CN": "{uri}（别名 {alias}）没有 {tag}=true 标签（{detail}），因此不用于评分。"
                 "请将该别名指向通过全部门槛的版本，或用 `creditlimit train` 重新训练"
                 "（通过门槛的版本会被打上该标签）。",
    },
    "model.guard.outside_artifact_store": {
        "en": "{uri} (alias {alias}) keeps its files at {location}, outside the MLflow artifact "
              "store {artifact_root}, so it is not loaded: loading would unpickle code from there. "
              "Register models with `creditlimit train` only.",
        "zh_CN": "{uri}（别名 {alias}）的文件位于 {location}，不在 MLflow 制品库 {artifact_root} 内，"
                 "因此不予加载：加载会反序列化（unpickle）该处的代码。请只通过 `creditlimit train` 注册模型。",
    },
    "model.guard.in_data_folder": {
        "en": "{uri} (alias {alias}) keeps its files at {location}, inside the data folder "
              "{data_dir}, so it is not loaded: files in the data folders are input data and are "
              "never unpickled. Register models with `creditlimit train` only.",
        "zh_CN": "{uri}（别名 {alias}）的文件位于数据文件夹 {data_dir} 内的 {location}，因此不予加载："
                 "数据文件夹中的文件是输入数据，从不被反序列化（unpickle）。请只通过 `creditlimit train` 注册模型。",
    },
    "model.guard.no_signature": {
        "en": "{uri} has no input signature, so its columns cannot be checked against the "
              "feature table. Retrain with `creditlimit train`, which logs the signature.",
        "zh_CN": "{uri} 没有输入签名，无法与特征表的列核对。请用 `creditlimit train` 重新训练（会记录签名）。",
    },
    "model.guard.signature_mismatch": {
        "en": "{uri} does not match the feature table: missing columns: {missing}; extra "
              "columns: {extra}; columns of the wrong type: {mistyped}. Score with a model "
              "trained on the current feature set (retrain with `creditlimit train`).",
        "zh_CN": "{uri} 与特征表不匹配：缺少的列：{missing}；多出的列：{extra}；类型不符的列："
                 "{mistyped}。请使用基于当前特征集训练的模型评分（用 `creditlimit train` 重新训练）。",
    },
    "model.guard.alias_moved": {
        "en": "Alias {alias} of {name} moved from version {checked} to version {loaded} while "
              "the model was loading. Run the scoring again.",
        "zh_CN": "加载模型期间，{name} 的别名 {alias} 从第 {checked} 版变为第 {loaded} 版。请重新运行评分。",
    },
})


def load_guarded_model(
    *,
    tracking_uri: str,
    model_name: str,
    alias: str,
    artifact_location: str,
    features: pd.DataFrame,
    data_dirs: Iterable[str | Path] = (),
    version: int | None = None,
    require_passed_gates: bool = True,
) -> Any:
    """Check the version behind ``models:/<model_name>@<alias>``, then load it.

    Parameters
    ----------
    tracking_uri : str
        MLflow tracking and registry URI.
    model_name, alias : str
        Registered model name and alias; plain names only.
    artifact_location : str
        URI or folder of the MLflow artifact store (params ``mlflow.artifact_location``).
        A local model version must keep its files inside it.
    features : pandas.DataFrame
        The feature table that will be scored.
    data_dirs : iterable of str or Path, optional
        Data folders (raw inputs, clean tables) in which no model file may lie.
    version : int, optional
        Check and load this version instead of the alias's current one (replay).
    require_passed_gates : bool, default True
        False only for what-if runs that publish nothing (``creditlimit simulate``
        with a challenger); every other check still applies.

    Returns
    -------
    creditlimit.models.registry.LoadedModel
        The loaded version, the same one that was checked.

    Raises
    ------
    ParamsError
        If the name or alias is not a plain registry name.
    ModelError
        If the store, model or alias is missing, or the version lacks the
        ``gates_passed=true`` tag, keeps its files outside the artifact store or
        inside a data folder, or has a signature that does not match ``features``.
    """
    from mlflow.models import Model

    from creditlimit.models.registry import _check_store_exists, _resolve_alias, _tracking, load_model

    _check_reference(model_name, alias)
    _check_store_exists(tracking_uri)
    pinned = version
    with _tracking(tracking_uri) as client:
        if pinned is None:
            version = _resolve_alias(client, tracking_uri, model_name, alias)
        else:
            version = client.get_model_version(model_name, str(pinned))
        location = client.get_model_version_download_uri(model_name, version.version)
    uri = f"models:/{model_name}/{version.version}"

    if require_passed_gates:
        check_gate_tags(version.tags or {}, uri=uri, alias=alias)
    local = check_location(location, uri=uri, alias=alias, artifact_location=artifact_location,
                           data_dirs=data_dirs)
    # Reading MLmodel parses YAML only; the pickle is not touched.
    mlmodel = Model.load(str(local) if local is not None else f"{location.rstrip('/')}/MLmodel")
    check_signature(mlmodel.signature, features, uri=uri)

    loaded = load_model(tracking_uri=tracking_uri, model_name=model_name, alias=alias, version=pinned)
    if loaded.version != int(version.version):
        raise ModelError("model.guard.alias_moved", name=model_name, alias=alias,
                         checked=version.version, loaded=loaded.version)
    logger.info("Model %s passed the checks before loading (files in %s)", uri, location)
    return loaded


def check_gate_tags(tags: dict[str, str], *, uri: str, alias: str) -> None:
    """Raise unless ``tags`` has ``gates_passed=true`` and no ``failed_gates`` entry."""
    failed = tags.get("failed_gates")
    if failed:
        detail = f"failed_gates: {failed}"
    elif tags.get(GATES_PASSED_TAG) != "true":
        detail = f"{GATES_PASSED_TAG}={tags.get(GATES_PASSED_TAG, '-')}"
    else:
        return
    raise ModelError("model.guard.gates_not_passed", uri=uri, alias=alias, tag=GATES_PASSED_TAG, detail=detail)


def check_location(
    location: str,
    *,
    uri: str,
    alias: str,
    artifact_location: str,
    data_dirs: Iterable[str | Path] = (),
) -> Path | None:
    """Check where a model version keeps its files; return the local folder, or None if remote.

    A local folder must lie inside ``artifact_location`` and outside every data
    folder. A remote store (``s3://``, ``mlflow-artifacts:/``, ...) cannot hold
    the local data folders, so it passes.

    Raises
    ------
    ModelError
        ``model.guard.in_data_folder`` or ``model.guard.outside_artifact_store``.
    """
    local = _local_path(location)
    if local is None:
        # NOTE: a remote store is trusted as a whole; only local folders are checked.
        return None
    for data_dir in data_dirs:
        data_path = Path(data_dir).resolve()
        if local.is_relative_to(data_path):
            raise ModelError("model.guard.in_data_folder", uri=uri, alias=alias, location=local,
                             data_dir=data_path)
    root = _local_path(artifact_location)
    if root is None or not local.is_relative_to(root):
        raise ModelError("model.guard.outside_artifact_store", uri=uri, alias=alias, location=local,
                         artifact_root=artifact_location)
    return local


def check_signature(signature: Any, features: pd.DataFrame, *, uri: str) -> None:
    """Raise when the model's input signature does not match the feature table's columns.

    Missing: model inputs that the table lacks. Extra: catalog features in the
    table that the model does not take. Wrong type: a ``double`` input whose
    column is not numeric, or a ``string`` input whose column is numeric.
    """
    if signature is None or signature.inputs is None:
        raise ModelError("model.guard.no_signature", uri=uri)
    inputs = {spec.name: getattr(spec.type, "name", str(spec.type)) for spec in signature.inputs.inputs}
    missing = [name for name in inputs if name not in features.columns]
    extra = [name for name in FEATURE_NAMES if name in features.columns and name not in inputs]
    mistyped = [
        f"{name} (model {kind}, table {features[name].dtype})"
        for name, kind in inputs.items()
        if name in features.columns and not _type_matches(kind, features[name])
    ]
    if missing or extra or mistyped:
        raise ModelError("model.guard.signature_mismatch", uri=uri, missing=_names(missing),
                         extra=_names(extra), mistyped=_names(mistyped))


def _check_reference(model_name: object, alias: object) -> None:
    if not isinstance(model_name, str) or not model_name.strip() or _NAME_FORBIDDEN.search(model_name):
        raise ParamsError("model.guard.invalid_reference", what="mlflow.model_name", value=model_name)
    if not isinstance(alias, str) or not _ALIAS_PATTERN.fullmatch(alias):
        raise ParamsError("model.guard.invalid_reference", what="model alias", value=alias)


def _local_path(location: str) -> Path | None:
    """Return the resolved folder of a path or ``file:`` URI, or None for a remote URI."""
    parsed = urlparse(str(location))
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path)).resolve()
    if parsed.scheme == "" or len(parsed.scheme) == 1:
        # A plain path, or a Windows drive letter parsed as a scheme.
        return Path(str(location)).resolve()
    return None


def _type_matches(kind: str, column: pd.Series) -> bool:
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if kind in ("double", "float", "long", "integer"):
        return numeric
    if kind == "string":
        return not numeric
    return True


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "-"
