"""MLflow location for the stages: params ``mlflow`` with ``MLFLOW_TRACKING_URI`` winning."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditlimit.pipelines.params import section

__all__ = ["MlflowSettings", "mlflow_settings"]


@dataclass(frozen=True)
class MlflowSettings:
    """MLflow tracking location, artifact folder, experiment and registered model name."""

    tracking_uri: str
    artifact_location: str
    experiment: str
    model_name: str


def mlflow_settings(params: Mapping[str, Any]) -> MlflowSettings:
    """Read the ``mlflow`` section; the environment variable overrides the URI."""
    values = section(params, "mlflow")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    return MlflowSettings(
        tracking_uri=os.environ.get("MLFLOW_TRACKING_URI") or str(values["tracking_uri"]),
        artifact_location=Path(str(values["artifact_location"])).resolve().as_uri(),
        experiment=str(values["experiment"]),
        model_name=str(values["model_name"]),
    )
