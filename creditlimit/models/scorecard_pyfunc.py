"""The registered challenger: an MLflow pyfunc wrapping the scorecard stored as JSON.

It returns the same ``pd_12m`` and ``raw_margin`` columns as the champion's
:class:`~creditlimit.models.pyfunc.CreditPDModel`, plus ``score_points``, so any
MLflow consumer can score both models on one feature table and compare them.

This module imports MLflow; import it only where the challenger is logged or loaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from creditlimit.errors import ModelError
from creditlimit.i18n import register
from creditlimit.models.scorecard import ScorecardModel

__all__ = ["SCORECARD_ARTIFACT", "SCORECARD_OUTPUT_COLUMNS", "ScorecardPDModel", "scorecard_signature"]

SCORECARD_ARTIFACT = "scorecard"
SCORECARD_OUTPUT_COLUMNS: tuple[str, ...] = ("pd_12m", "raw_margin", "score_points")

_SPEC_FILE = "scorecard.json"

register({
    "model.scorecard_pyfunc.not_loaded": {
        "en": (
            "The challenger scorecard has no fitted state: load it with "
            "mlflow.pyfunc.load_model or build it with ScorecardPDModel.from_scorecard."
        ),
        "zh_CN": "挑战者评分卡尚未载入：请用 mlflow.pyfunc.load_model 加载，或用 ScorecardPDModel.from_scorecard 构建。",
    },
    "model.scorecard_pyfunc.not_a_frame": {
        "en": "Model input must be a pandas DataFrame with named columns; got {kind}.",
        "zh_CN": "模型输入必须是带列名的 pandas DataFrame；实际为 {kind}。",
    },
})


class ScorecardPDModel(mlflow.pyfunc.PythonModel):
    """Challenger scorecard: features by name in, PD, log-odds and points out."""

    def __init__(self) -> None:
        self._spec: dict | None = None
        self._scorecard: ScorecardModel | None = None

    @classmethod
    def from_scorecard(cls, scorecard: ScorecardModel, *, default_definition: Mapping) -> ScorecardPDModel:
        """Bundle a fitted scorecard with the default definition it was trained on."""
        model = cls()
        model._restore({"scorecard": scorecard.to_dict(),
                        "default_definition": json.loads(json.dumps(dict(default_definition)))})
        return model

    def write_artifacts(self, folder: str | Path) -> dict[str, str]:
        """Write the scorecard JSON into ``folder`` and return the MLflow artifacts mapping."""
        self._require_loaded()
        path = Path(folder) / _SPEC_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self._spec, ensure_ascii=False, indent=2, sort_keys=True),
                        encoding="utf-8")
        return {SCORECARD_ARTIFACT: str(path)}

    def load_context(self, context: Any) -> None:
        """Rebuild the scorecard from the JSON artifact MLflow passes at load time."""
        path = Path(context.artifacts[SCORECARD_ARTIFACT])
        self._restore(json.loads(path.read_text(encoding="utf-8")))

    def __getstate__(self) -> dict:
        # load_context rebuilds the state from the JSON artifact; keep it out of the pickle.
        return {}

    def __setstate__(self, state: dict) -> None:
        self._spec, self._scorecard = None, None

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Score a feature table: ``pd_12m``, ``raw_margin`` (log-odds) and ``score_points``."""
        self._require_loaded()
        if not isinstance(model_input, pd.DataFrame):
            raise ModelError("model.scorecard_pyfunc.not_a_frame", kind=type(model_input).__name__)
        return self._scorecard.predict(model_input)

    @property
    def scorecard(self) -> ScorecardModel:
        """The fitted scorecard."""
        self._require_loaded()
        return self._scorecard

    @property
    def default_definition(self) -> dict:
        """Default definition the labels were built with (a copy)."""
        self._require_loaded()
        return json.loads(json.dumps(self._spec["default_definition"]))

    def _restore(self, spec: Mapping) -> None:
        if not isinstance(spec, Mapping) or "scorecard" not in spec:
            raise ModelError("model.scorecard.corrupt", problem="scorecard missing")
        self._scorecard = ScorecardModel.from_dict(spec["scorecard"])
        self._spec = dict(spec)

    def _require_loaded(self) -> None:
        if self._scorecard is None:
            raise ModelError("model.scorecard_pyfunc.not_loaded")


def scorecard_signature(feature_names: tuple[str, ...], categorical_features: tuple[str, ...]):
    """Build the MLflow signature: categoricals as string, other features as double."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, DataType, Schema

    inputs = Schema([
        ColSpec(DataType.string if name in categorical_features else DataType.double, name)
        for name in feature_names
    ])
    outputs = Schema([ColSpec(DataType.double, name) for name in SCORECARD_OUTPUT_COLUMNS])
    return ModelSignature(inputs=inputs, outputs=outputs)
