"""Score and feature drift of a run: PSI of the PD and CSI of every model feature.

The score PSI compares this run's PD with the previous run's PD, with bins from
the previous run. The feature CSI compares this run's feature values with the
training snapshots, with bins from training. Both use
:mod:`creditlimit.models.stability`, so binning and smoothing match the
training-time stability figures in ``metrics.json``.
"""

from __future__ import annotations

import pandas as pd

from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES
from creditlimit.models.stability import csi, psi

__all__ = ["drift_status", "score_psi", "scored_features", "feature_csi"]


def drift_status(value: float | None, *, warning: float, alert: float) -> str:
    """Classify a PSI as ``stable``, ``warning``, ``alert`` or ``undefined``."""
    if value is None or pd.isna(value):
        return "undefined"
    if value > alert:
        return "alert"
    return "warning" if value >= warning else "stable"


def score_psi(current: pd.DataFrame, previous: pd.DataFrame | None, *, bins: int) -> float | None:
    """PSI of ``pd_12m`` in ``current`` against ``previous``; None when either lacks PDs."""
    if previous is None or "pd_12m" not in previous or "pd_12m" not in current:
        return None
    result = psi(previous["pd_12m"], current["pd_12m"], bins=bins, categorical=False)
    return result.psi.value


def scored_features(run_extra: dict[str, pd.DataFrame], explanations: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """Return the run's feature values (one row per customer) and where they came from.

    The run's ``features`` table is used when present. Otherwise the values are
    read back from the long explanations table, which contains every model feature's
    value per customer (``value`` for numbers, ``value_category`` for categories).
    """
    features = run_extra.get("features")
    if features is not None and not features.empty:
        return features, "features"
    needed = {"customer_id", "feature", "value"}
    if explanations.empty or not needed <= set(explanations.columns):
        return None, "none"
    numeric = explanations.pivot_table(index="customer_id", columns="feature", values="value",
                                       aggfunc="first", dropna=False)
    frame = numeric.reindex(columns=[c for c in FEATURE_NAMES if c in numeric.columns])
    if "value_category" in explanations.columns:
        categories = explanations[explanations["feature"].isin(CATEGORICAL_FEATURES)]
        wide = categories.pivot(index="customer_id", columns="feature", values="value_category")
        for column in wide.columns:
            frame[column] = wide[column].reindex(frame.index).astype(object)
    return frame.reset_index(), "explanations"


def feature_csi(current: pd.DataFrame | None, training: pd.DataFrame | None, *, bins: int) -> pd.DataFrame | None:
    """CSI of every model feature present in both frames, in catalog order."""
    if current is None or training is None:
        return None
    columns = [c for c in FEATURE_NAMES if c in current.columns and c in training.columns]
    if not columns:
        return None
    return csi(training, current, columns=columns, bins=bins,
               categorical_columns=[c for c in columns if c in CATEGORICAL_FEATURES])
