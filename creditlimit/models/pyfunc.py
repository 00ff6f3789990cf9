"""The registered PD model: one MLflow pyfunc bundling features, levels, booster and calibrator.

Every MLflow consumer (``mlflow.pyfunc.load_model``, a Spark UDF, a serving
endpoint) gets the same scoring path: select the features by name, encode the
categoricals with the training levels, compute the booster's raw margin and
calibrate it into ``pd_12m``. The batch scorer uses the extra public methods
(:meth:`CreditPDModel.encode`, :meth:`~CreditPDModel.contributions`, ...) for
explanations and data-quality flags.

The booster is stored as LightGBM model text and everything else as JSON, and
:meth:`CreditPDModel.load_context` rebuilds the model from those two files. The
pickle that MLflow writes for the class contains no fitted state. Loading needs the
``creditlimit`` package installed (the pickle names this class).

This module imports MLflow (about 2 s) because the class subclasses
``mlflow.pyfunc.PythonModel``; import it only where a model is built or loaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any

import lightgbm
import mlflow.pyfunc
import numpy as np
import pandas as pd

from creditlimit.errors import ModelError
from creditlimit.i18n import register
from creditlimit.models.calibration import Calibrator
from creditlimit.models.encoding import CategoryEncoder, build_feature_matrix

__all__ = [
    "BOOSTER_ARTIFACT",
    "SPEC_ARTIFACT",
    "OUTPUT_COLUMNS",
    "CreditPDModel",
    "model_signature",
    "pip_requirements",
]

BOOSTER_ARTIFACT = "booster"
SPEC_ARTIFACT = "model_spec"
OUTPUT_COLUMNS: tuple[str, str] = ("pd_12m", "raw_margin")

_BOOSTER_FILE = "booster.txt"
_SPEC_FILE = "model_spec.json"
_FORMAT_VERSION = 1
# Distributions the model needs at scoring time, pinned to the installed versions.
_RUNTIME_DISTRIBUTIONS = ("creditlimit", "lightgbm", "mlflow", "numpy", "pandas", "scikit-learn")

register({
    "model.pyfunc.missing_columns": {
        "en": (
            "Feature table is missing {count} column(s) the model needs: {columns}. "
            "Build the features with the feature list stored in the model."
        ),
        "zh_CN": "特征表缺少模型所需的 {count} 个列：{columns}。请按模型中保存的特征列表生成特征。",
    },
    "model.pyfunc.not_a_frame": {
        "en": "Model input must be a pandas DataFrame with named columns; got {kind}.",
        "zh_CN": "模型输入必须是带列名的 pandas DataFrame；实际为 {kind}。",
    },
    "model.pyfunc.not_loaded": {
        "en": (
            "The PD model has no fitted state: load it with mlflow.pyfunc.load_model or "
            "build it with CreditPDModel.from_trained before scoring."
        ),
        "zh_CN": "PD 模型尚未载入：评分前请用 mlflow.pyfunc.load_model 加载，或用 CreditPDModel.from_trained 构建。",
    },
    "model.pyfunc.bad_matrix": {
        "en": (
            "Feature matrix must have shape (n_rows, {expected}) in the model's feature "
            "order; got shape {shape}. Build it with CreditPDModel.encode."
        ),
        "zh_CN": "特征矩阵的形状必须是 (行数, {expected}) 且按模型特征顺序排列；实际形状为 {shape}。请用 CreditPDModel.encode 生成。",
    },
    "model.pyfunc.corrupt": {
        "en": "Stored PD model is invalid: {problem}. Retrain and register the model.",
        "zh_CN": "保存的 PD 模型无效：{problem}。请重新训练并注册模型。",
    },
    "model.pyfunc.default_definition": {
        "en": (
            "The default definition must be a JSON-serialisable mapping (the label "
            "section of params.yaml); got {kind}."
        ),
        "zh_CN": "违约定义必须是可序列化为 JSON 的映射（params.yaml 的 label 部分）；实际为 {kind}。",
    },
})


class CreditPDModel(mlflow.pyfunc.PythonModel):
    """Calibrated 12-month PD model: features by name in, ``pd_12m`` and ``raw_margin`` out.

    Build one with :meth:`from_trained` (in process) or load a logged one with
    ``mlflow.pyfunc.load_model`` (which calls :meth:`load_context`). Every method
    treats rows independently, so a batch of one row scores exactly as that row
    inside a large batch.
    """

    def __init__(self) -> None:
        self._clear()

    # Construction and persistence.

    @classmethod
    def from_trained(cls, trained: Any, *, default_definition: Mapping) -> CreditPDModel:
        """Bundle a :class:`~creditlimit.models.training.TrainedModel` with its default definition.

        The booster goes through its model text, exactly as it is stored in MLflow,
        so in-process and loaded predictions agree.

        Raises
        ------
        ModelError
            If ``default_definition`` is not a JSON-serialisable mapping.
        """
        spec = {
            "format_version": _FORMAT_VERSION,
            "feature_names": list(trained.feature_names),
            "categorical_features": list(trained.categorical_features),
            "category_levels": trained.encoder.to_dict(),
            "monotone_constraints": dict(trained.monotone_constraints),
            "calibrator": trained.calibrator.to_dict(),
            "default_definition": _json_mapping(default_definition),
            "best_iteration": int(trained.best_iteration),
            "output_columns": list(OUTPUT_COLUMNS),
        }
        model = cls()
        model._restore(trained.booster.model_to_string(), spec)
        return model

    @classmethod
    def from_artifacts(cls, booster_path: str | Path, spec_path: str | Path) -> CreditPDModel:
        """Rebuild a model from its booster text file and its JSON specification."""
        model = cls()
        model._restore(
            Path(booster_path).read_text(encoding="utf-8"),
            json.loads(Path(spec_path).read_text(encoding="utf-8")),
        )
        return model

    def write_artifacts(self, folder: str | Path) -> dict[str, str]:
        """Write the booster text and the JSON specification into ``folder``.

        Returns
        -------
        dict[str, str]
            Artifact name to file path, ready for ``mlflow.pyfunc.log_model(artifacts=...)``.
        """
        self._require_loaded()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        booster_path, spec_path = folder / _BOOSTER_FILE, folder / _SPEC_FILE
        booster_path.write_text(self._booster.model_to_string(), encoding="utf-8")
        spec_path.write_text(
            json.dumps(self._spec, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
        )
        return {BOOSTER_ARTIFACT: str(booster_path), SPEC_ARTIFACT: str(spec_path)}

    def load_context(self, context: Any) -> None:
        """Rebuild the model from the artifacts MLflow passes at load time."""
        artifacts = context.artifacts
        restored = CreditPDModel.from_artifacts(
            artifacts[BOOSTER_ARTIFACT], artifacts[SPEC_ARTIFACT]
        )
        self.__dict__.update(restored.__dict__)

    def __getstate__(self) -> dict:
        # MLflow pickles the instance when logging. Keep the fitted state out of the
        # pickle: load_context rebuilds it from the text and JSON artifacts.
        return {}

    def __setstate__(self, state: dict) -> None:
        self._clear()

    # Scoring.

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """Score a feature table.

        Parameters
        ----------
        context : mlflow.pyfunc.PythonModelContext or None
            Unused; the model state is loaded already.
        model_input : pandas.DataFrame
            One row per customer with every model feature; columns are selected by
            name and extra columns are ignored.
        params : dict, optional
            Unused.

        Returns
        -------
        pandas.DataFrame
            ``pd_12m`` (PD in [0, 1]) and ``raw_margin`` (log-odds), same index.

        Raises
        ------
        ModelError
            If the input is not a DataFrame or a feature column is missing.
        """
        features, _ = self.encode(model_input)
        raw_margin = self.raw_margin(features)
        return pd.DataFrame(
            {"pd_12m": self.calibrate(raw_margin), "raw_margin": raw_margin},
            index=model_input.index,
        )

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, int]]:
        """Select the features by name and encode them into the booster's matrix.

        Returns
        -------
        X : numpy.ndarray of float64, shape (n_rows, n_features)
            Columns in :attr:`feature_names` order; missing and unseen values are NaN.
        unseen : dict[str, int]
            Per categorical column, the number of values never seen in training.

        Raises
        ------
        ModelError
            If ``frame`` is not a DataFrame or lacks a feature column.
        """
        self._require_loaded()
        if not isinstance(frame, pd.DataFrame):
            raise ModelError("model.pyfunc.not_a_frame", kind=type(frame).__name__)
        missing = [name for name in self._feature_names if name not in frame.columns]
        if missing:
            raise ModelError(
                "model.pyfunc.missing_columns", count=len(missing), columns=", ".join(missing)
            )
        return build_feature_matrix(frame, feature_names=self._feature_names, encoder=self._encoder)

    def raw_margin(self, X: np.ndarray) -> np.ndarray:
        """Compute the booster's raw margin (log-odds), shape (n_rows,)."""
        return self._booster.predict(self._check_matrix(X), raw_score=True)

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split each raw margin into per-feature contributions and a bias (TreeSHAP).

        Returns
        -------
        contrib : numpy.ndarray of float64, shape (n_rows, n_features)
            Contribution of each feature in log-odds, columns in :attr:`feature_names` order.
        bias : numpy.ndarray of float64, shape (n_rows,)
            Expected raw margin over the training data, in log-odds. It is the same
            for every row, and ``contrib.sum(axis=1) + bias`` equals the raw margin.
        """
        matrix = self._check_matrix(X)
        explainer = self._exact_explainer()
        if explainer is not None:
            return explainer.contributions(matrix)
        values = np.asarray(self._booster.predict(matrix, pred_contrib=True), dtype=np.float64)
        return values[:, :-1], values[:, -1]

    def _exact_explainer(self):
        """Build (once) the fast exact TreeSHAP explainer; None when it cannot explain this booster.

        Its values equal ``booster.predict(X, pred_contrib=True)`` within rounding and it is
        many times faster on the small trees of this model (``benchmarks/RESULTS.md``).
        """
        if self._explainer is None:
            from creditlimit.serving.fast_shap import FastTreeShap

            try:
                self._explainer = FastTreeShap(self._booster)
            except ModelError:  # multiclass or linear trees: LightGBM's own TreeSHAP
                self._explainer = False
        return self._explainer or None

    def calibrate(self, raw_margin: np.ndarray) -> np.ndarray:
        """Map raw margins (log-odds) to PDs in [0, 1]."""
        self._require_loaded()
        return self._calibrator.predict(raw_margin)

    # Read-only description of the model.

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Model features in the booster's column order."""
        self._require_loaded()
        return self._feature_names

    @property
    def categorical_features(self) -> tuple[str, ...]:
        """Features encoded with the training category levels."""
        self._require_loaded()
        return tuple(self._spec["categorical_features"])

    @property
    def category_levels(self) -> Mapping[str, tuple[str, ...]]:
        """Sorted training levels of each categorical feature."""
        self._require_loaded()
        return MappingProxyType(dict(self._encoder.levels))

    @property
    def encoder(self) -> CategoryEncoder:
        """Category encoder with the training levels."""
        self._require_loaded()
        return self._encoder

    @property
    def calibrator(self) -> Calibrator:
        """Map from raw margin to PD."""
        self._require_loaded()
        return self._calibrator

    @property
    def booster(self) -> lightgbm.Booster:
        """LightGBM booster rebuilt from its model text."""
        self._require_loaded()
        return self._booster

    @property
    def default_definition(self) -> dict:
        """Default definition the labels were built with (a copy)."""
        self._require_loaded()
        return json.loads(json.dumps(self._spec["default_definition"]))

    @property
    def monotone_constraints(self) -> Mapping[str, int]:
        """Constraint of every feature: +1, -1 or 0 (unconstrained)."""
        self._require_loaded()
        return MappingProxyType(dict(self._spec["monotone_constraints"]))

    @property
    def best_iteration(self) -> int:
        """Number of boosting rounds in the booster."""
        self._require_loaded()
        return int(self._spec["best_iteration"])

    # Internal state.

    def _clear(self) -> None:
        self._booster: lightgbm.Booster | None = None
        self._spec: dict | None = None
        self._encoder: CategoryEncoder | None = None
        self._calibrator: Calibrator | None = None
        self._feature_names: tuple[str, ...] = ()
        # Fast exact TreeSHAP, built on the first call of contributions (False: not usable).
        self._explainer = None

    def _restore(self, booster_text: str, spec: Mapping) -> None:
        if not isinstance(spec, Mapping) or spec.get("format_version") != _FORMAT_VERSION:
            raise ModelError("model.pyfunc.corrupt", problem="unknown format_version")
        try:
            feature_names = tuple(str(name) for name in spec["feature_names"])
            encoder = CategoryEncoder.from_dict(spec["category_levels"])
            calibrator = Calibrator.from_dict(spec["calibrator"])
            booster = lightgbm.Booster(model_str=booster_text)
        except (KeyError, TypeError, lightgbm.basic.LightGBMError) as error:
            raise ModelError("model.pyfunc.corrupt", problem=repr(error)) from error
        if tuple(booster.feature_name()) != feature_names:
            raise ModelError(
                "model.pyfunc.corrupt", problem="booster features differ from the feature list"
            )
        if set(encoder.columns) != set(spec.get("categorical_features", ())):
            raise ModelError(
                "model.pyfunc.corrupt",
                problem="category levels differ from the categorical features",
            )
        self._booster, self._spec = booster, dict(spec)
        self._explainer = None
        self._encoder, self._calibrator = encoder, calibrator
        self._feature_names = feature_names

    def _require_loaded(self) -> None:
        if self._booster is None:
            raise ModelError("model.pyfunc.not_loaded")

    def _check_matrix(self, X: np.ndarray) -> np.ndarray:
        self._require_loaded()
        matrix = np.asarray(X, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self._feature_names):
            raise ModelError(
                "model.pyfunc.bad_matrix", expected=len(self._feature_names), shape=matrix.shape
            )
        return matrix


def model_signature(feature_names: tuple[str, ...], categorical_features: tuple[str, ...]):
    """Build the MLflow signature: categoricals as string, other features as double.

    Returns
    -------
    mlflow.models.ModelSignature
        Inputs are every feature by name; outputs are ``pd_12m`` and ``raw_margin``.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, DataType, Schema

    inputs = Schema([
        ColSpec(DataType.string if name in categorical_features else DataType.double, name)
        for name in feature_names
    ])
    outputs = Schema([ColSpec(DataType.double, name) for name in OUTPUT_COLUMNS])
    return ModelSignature(inputs=inputs, outputs=outputs)


def pip_requirements() -> list[str]:
    """List the packages the model needs at scoring time, pinned to the installed versions."""
    return [f"{name}=={metadata.version(name)}" for name in _RUNTIME_DISTRIBUTIONS]


def _json_mapping(definition: object) -> dict:
    if not isinstance(definition, Mapping):
        raise ModelError("model.pyfunc.default_definition", kind=type(definition).__name__)
    try:
        text = json.dumps(dict(definition), allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ModelError("model.pyfunc.default_definition", kind=repr(error)) from error
    return json.loads(text)

