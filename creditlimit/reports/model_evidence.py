"""Validation evidence of a trained PD model: the figures and tables its model report shows.

:func:`collect_evidence` recomputes from the trained model and its training table
what the report draws but ``metrics.json`` does not store. That is the ROC and KS
curves, metrics by segment, observed against predicted default rate per
master-scale grade, missing shares, and SHAP contributions on a seeded sample of
out-of-time rows. Rendering lives in :mod:`creditlimit.reports.model_report`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import ParamsError
from creditlimit.features.catalog import FEATURES
from creditlimit.i18n import register
from creditlimit.models.encoding import build_feature_matrix
from creditlimit.models.master_scale import MasterScale
from creditlimit.models.metrics import evaluate, evaluate_by_segment, grade_calibration_test
from creditlimit.models.segments import SEGMENT_COLUMNS, segment_frame
from creditlimit.models.split import split_by_time
from creditlimit.models.training import LABEL_COLUMN, TrainedModel

__all__ = [
    "ReportParams",
    "PartEvidence",
    "FeatureEvidence",
    "ShapSample",
    "ModelEvidence",
    "collect_evidence",
]

log = logging.getLogger(__name__)


register({
    "report.invalid_param": {
        "en": "params.yaml model_report.{param} must be {rule_en}; got {value!r}. Fix the value in params.yaml.",
        "zh_CN": "params.yaml 中 model_report.{param} 必须是{rule_zh}；实际为 {value!r}。请在 params.yaml 中修正该值。",
    },
    "report.unknown_param": {
        "en": "params.yaml model_report has unknown keys {keys}; allowed: {allowed}. Remove or rename them.",
        "zh_CN": "params.yaml 的 model_report 含有未知键 {keys}；允许的键：{allowed}。请删除或改名。",
    },
})


@dataclass(frozen=True)
class ReportParams:
    """Settings of the model report, from the ``model_report`` section of params.yaml.

    Attributes
    ----------
    shap_sample_rows : int
        Out-of-time rows sampled (seeded with ``train.seed``) for SHAP contributions.
    psi_watch, psi_alert : float
        PSI/CSI reading: below ``psi_watch`` stable, up to ``psi_alert`` a moderate
        shift, above it a significant shift. ``0 < psi_watch < psi_alert``.
    max_missing_share : float
        A feature missing in more than this share of training rows is named as a
        limitation, in [0, 1].
    min_bads : int
        A part or segment with fewer bads than this is named as a limitation,
        because its metrics rest on few events.
    curve_points : int
        Points kept per ROC or KS curve (at least 10).
    """

    shap_sample_rows: int
    psi_watch: float
    psi_alert: float
    max_missing_share: float
    min_bads: int
    curve_points: int

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> ReportParams:
        """Validate the ``model_report`` section and build the settings.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        allowed = ("shap_sample_rows", "psi_watch", "psi_alert", "max_missing_share", "min_bads",
                   "curve_points")
        if not isinstance(mapping, Mapping):
            raise ParamsError("report.invalid_param", param="(section)", value=mapping,
                              rule_en="a mapping", rule_zh="映射")
        unknown = sorted(set(mapping) - set(allowed))
        if unknown:
            raise ParamsError("report.unknown_param", keys=unknown, allowed=", ".join(allowed))
        psi_watch = _number(mapping, "psi_watch", low=0.0, high=math.inf)
        psi_alert = _number(mapping, "psi_alert", low=0.0, high=math.inf)
        if psi_alert <= psi_watch:
            raise ParamsError("report.invalid_param", param="psi_alert", value=psi_alert,
                              rule_en=f"greater than psi_watch ({psi_watch})",
                              rule_zh=f"大于 psi_watch（{psi_watch}）的数值")
        return cls(
            shap_sample_rows=_integer(mapping, "shap_sample_rows", minimum=10),
            psi_watch=psi_watch,
            psi_alert=psi_alert,
            max_missing_share=_number(mapping, "max_missing_share", low=0.0, high=1.0),
            min_bads=_integer(mapping, "min_bads", minimum=0),
            curve_points=_integer(mapping, "curve_points", minimum=10),
        )


@dataclass(frozen=True)
class PartEvidence:
    """Evidence of one time part (``train``, ``valid`` or ``oot``).

    ``window`` is the part's record from the time split (start, end, months, rows,
    bads) and ``metrics`` its :func:`~creditlimit.models.metrics.evaluate` output.
    ``roc`` is the (false positive rate, true positive rate) curve on the raw margin.
    ``ks`` is the (raw margin, cumulative share of bads, cumulative share of goods)
    curve, and ``ks_at`` the raw margin where the two shares are furthest apart.
    ``segments`` and ``calibration`` are the tables of
    :func:`~creditlimit.models.metrics.evaluate_by_segment` and
    :func:`~creditlimit.models.metrics.grade_calibration_test`.
    """

    name: str
    window: dict
    metrics: dict
    customers: int
    roc: tuple[np.ndarray, np.ndarray]
    ks: tuple[np.ndarray, np.ndarray, np.ndarray]
    ks_at: float | None
    segments: pd.DataFrame
    calibration: pd.DataFrame


@dataclass(frozen=True)
class FeatureEvidence:
    """One model feature: labels, constraint, missing share, importance and CSI."""

    name: str
    label_en: str
    label_zh: str
    unit: str
    categorical: bool
    constraint: int
    missing_share_train: float
    gain: float
    mean_abs_shap: float
    csi: float | None


@dataclass(frozen=True)
class ShapSample:
    """SHAP contributions (log-odds) of a seeded sample of out-of-time rows.

    ``contributions`` and ``values`` have shape (rows, features) with columns in
    ``feature_names`` order; ``values`` are the booster's inputs (category codes for
    categorical features, NaN when missing). ``max_additivity_error`` is the largest
    absolute gap between base value plus contributions and the raw margin.
    """

    feature_names: tuple[str, ...]
    contributions: np.ndarray
    values: np.ndarray
    base_value: float
    rows: int
    seed: int
    max_additivity_error: float


@dataclass(frozen=True)
class ModelEvidence:
    """Everything the model report shows, computed once for both languages."""

    model: dict
    label: dict
    parts: tuple[PartEvidence, ...]
    features: tuple[FeatureEvidence, ...]
    shap: ShapSample
    stability: dict
    gates: tuple[dict, ...]
    challenger: dict | None
    grade_bands: pd.DataFrame
    settings: ReportParams
    data_source: str
    synthetic: bool
    training_rows: int

    def part(self, name: str) -> PartEvidence:
        """Return the part called ``name`` (``train``, ``valid`` or ``oot``)."""
        return next(part for part in self.parts if part.name == name)


def collect_evidence(
    *,
    trained: TrainedModel,
    table: pd.DataFrame,
    metrics: Mapping[str, object],
    label_definition: Mapping[str, object],
    master_scale: MasterScale,
    settings: ReportParams,
    model_record: Mapping[str, object],
    data_source: str = "",
    synthetic: bool = False,
) -> ModelEvidence:
    """Compute the report evidence of ``trained`` on its training ``table``.

    Parameters
    ----------
    trained : TrainedModel
        The model as returned by :func:`~creditlimit.models.training.train_pd_model`.
    table : pandas.DataFrame
        The labelled snapshots it was trained on (not modified).
    metrics : Mapping
        The content of ``metrics.json`` (parts, ``stability``, ``gates`` and, when
        present, ``challenger``).
    label_definition : Mapping
        :meth:`~creditlimit.features.labels.LabelDefinition.to_dict` output.
    master_scale : MasterScale
        Grades for the calibration table.
    settings : ReportParams
        Report settings.
    model_record : Mapping
        Registered name, version, run id, promotion and failed gates.
    data_source : str
        Where the raw data came from, shown as is.
    synthetic : bool
        True when the data were generated by the sample stage.
    """
    split = split_by_time(table, valid_months=trained.params.valid_months,
                          oot_months=trained.params.oot_months, gap_months=trained.params.gap_months)
    scored = _scored_frame(trained, table)

    parts = tuple(
        _part_evidence(part.name, scored[part.mask], trained.split[part.name], _mapping(metrics.get(part.name)),
                       master_scale, settings)
        for part in split.parts()
    )
    shap = _shap_sample(trained, table[split.oot.mask], settings.shap_sample_rows, trained.params.seed)
    stability = dict(metrics.get("stability") or {})
    features = _feature_evidence(trained, table[split.train.mask], shap, stability)
    gates = tuple(dict(gate) for gate in (metrics.get("gates") or {}).values())
    challenger = metrics.get("challenger")
    model = {
        **dict(model_record),
        "calibration": trained.calibrator.method,
        "best_iteration": trained.best_iteration,
        "seed": trained.params.seed,
        "gap_months": trained.params.gap_months,
        "lightgbm_params": dict(trained.lightgbm_params),
    }
    return ModelEvidence(
        model=model, label=dict(label_definition), parts=parts, features=features, shap=shap,
        stability=stability, gates=gates,
        challenger=dict(challenger) if isinstance(challenger, Mapping) else None,
        grade_bands=master_scale.bands(), settings=settings, data_source=data_source,
        synthetic=synthetic, training_rows=len(table),
    )


def _scored_frame(trained: TrainedModel, table: pd.DataFrame) -> pd.DataFrame:
    """Score every row and add the segment columns defined in :mod:`creditlimit.models.segments`."""
    predictions = trained.predict(table)
    if trained.params.segments is not None:
        segments = segment_frame(table, params=trained.params.segments)
    else:
        segments = _given_segments(table)
    scored = pd.DataFrame({
        "customer_id": table["customer_id"].to_numpy(),
        LABEL_COLUMN: table[LABEL_COLUMN].to_numpy(np.int64),
        "pd_12m": predictions["pd_12m"].to_numpy(np.float64),
        "raw_margin": predictions["raw_margin"].to_numpy(np.float64),
    })
    for column in SEGMENT_COLUMNS:
        scored[column] = segments[column].to_numpy(dtype=object)
    return scored


def _given_segments(table: pd.DataFrame) -> pd.DataFrame:
    """Return the segments as the table gives them, for a model trained without ``train.segments``.

    No size class is derived from revenue then; thin file follows the same rule as
    :func:`~creditlimit.models.segments.segment_frame`.
    """
    has_statements = table["has_statements"].astype("boolean")
    thin_file = pd.Series(np.where(has_statements.fillna(False).to_numpy(dtype=bool), "no", "yes"),
                          index=table.index, dtype=object)
    thin_file[has_statements.isna().to_numpy()] = None
    return pd.DataFrame({
        "industry": table["industry"].astype(object).where(table["industry"].notna(), None),
        "size_class": table["size_class"].astype(object).where(table["size_class"].notna(), None),
        "thin_file": thin_file,
    }, index=table.index)


def _part_evidence(name: str, part: pd.DataFrame, window: dict, recorded: Mapping | None,
                   master_scale: MasterScale, settings: ReportParams) -> PartEvidence:
    """Compute one part's curves and tables; ``recorded`` metrics (metrics.json) win over recomputed ones."""
    outcome = part[LABEL_COLUMN].to_numpy()
    margin = part["raw_margin"].to_numpy()
    segments = evaluate_by_segment(part, y=LABEL_COLUMN, pd_column="pd_12m", score_column="raw_margin",
                                   segment_columns=list(SEGMENT_COLUMNS))
    grades = master_scale.assign_grades(part["pd_12m"].to_numpy())
    calibration = grade_calibration_test(outcome, part["pd_12m"].to_numpy(), grades,
                                         grade_order=list(master_scale.grades))
    ks_curve, ks_at = _ks_curve(outcome, margin, settings.curve_points)
    return PartEvidence(
        name=name, window=dict(window), metrics=dict(recorded or evaluate(outcome, part["pd_12m"], margin)),
        customers=int(part["customer_id"].nunique()),
        roc=_roc_curve(outcome, margin, settings.curve_points), ks=ks_curve, ks_at=ks_at,
        segments=segments, calibration=calibration,
    )


def _roc_curve(outcome: np.ndarray, margin: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ROC curve over distinct margins, thinned to about ``points`` points."""
    bads, goods = int(outcome.sum()), int(outcome.size - outcome.sum())
    if bads == 0 or goods == 0:
        return np.array([]), np.array([])
    _, cumulative_bads, cumulative_goods = _cumulative_by_margin(outcome, -margin)
    tpr = np.concatenate([[0.0], cumulative_bads / bads])
    fpr = np.concatenate([[0.0], cumulative_goods / goods])
    keep = _thin(fpr.size, points)
    return fpr[keep], tpr[keep]


def _ks_curve(outcome: np.ndarray, margin: np.ndarray,
              points: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], float | None]:
    """Return the cumulative shares of bads and goods at or below each distinct margin."""
    bads, goods = int(outcome.sum()), int(outcome.size - outcome.sum())
    if bads == 0 or goods == 0:
        empty = np.array([])
        return (empty, empty, empty), None
    thresholds, cumulative_bads, cumulative_goods = _cumulative_by_margin(outcome, margin)
    share_bads, share_goods = cumulative_bads / bads, cumulative_goods / goods
    widest = int(np.argmax(np.abs(share_goods - share_bads)))
    keep = np.union1d(_thin(thresholds.size, points), [widest])
    return (thresholds[keep], share_bads[keep], share_goods[keep]), float(thresholds[widest])


def _cumulative_by_margin(outcome: np.ndarray,
                          margin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Tied margins are grouped, so the curves step once per distinct value, as KS in
    # models/metrics.py is evaluated.
    order = np.argsort(margin, kind="stable")
    sorted_margin, sorted_outcome = margin[order], outcome[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(sorted_margin)), sorted_margin.size - 1]
    cumulative_bads = np.cumsum(sorted_outcome)[last_of_value].astype(np.float64)
    cumulative_goods = (last_of_value + 1) - cumulative_bads
    return sorted_margin[last_of_value], cumulative_bads, cumulative_goods


def _thin(size: int, points: int) -> np.ndarray:
    if size <= points:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, points).round().astype(int))


def _shap_sample(trained: TrainedModel, oot_rows: pd.DataFrame, sample_rows: int, seed: int) -> ShapSample:
    """Compute LightGBM ``pred_contrib`` SHAP values on a seeded sample of OOT rows."""
    rng = np.random.default_rng(seed)
    count = min(sample_rows, len(oot_rows))
    positions = np.sort(rng.choice(len(oot_rows), size=count, replace=False))
    sample = oot_rows.iloc[positions]
    matrix, _ = build_feature_matrix(sample, feature_names=trained.feature_names, encoder=trained.encoder)
    contributions = trained.booster.predict(matrix, pred_contrib=True)
    raw_margin = trained.booster.predict(matrix, raw_score=True)
    # The last column is the bias (expected raw margin), the same for every row.
    gap = np.abs(contributions.sum(axis=1) - raw_margin)
    log.info("SHAP contributions of %d out-of-time rows, max additivity error %.2e", count,
             float(gap.max(initial=0.0)))
    return ShapSample(
        feature_names=trained.feature_names, contributions=contributions[:, :-1], values=matrix,
        base_value=float(contributions[0, -1]) if count else math.nan, rows=count, seed=seed,
        max_additivity_error=float(gap.max(initial=0.0)),
    )


def _feature_evidence(trained: TrainedModel, train_rows: pd.DataFrame, shap: ShapSample,
                      stability: Mapping[str, object]) -> tuple[FeatureEvidence, ...]:
    specs = {spec.name: spec for spec in FEATURES}
    csi = stability.get("feature_csi") or {}
    mean_abs = np.abs(shap.contributions).mean(axis=0) if shap.rows else np.zeros(len(shap.feature_names))
    rows = []
    for position, name in enumerate(trained.feature_names):
        spec = specs.get(name)
        rows.append(FeatureEvidence(
            name=name,
            label_en=spec.label_en if spec else name,
            label_zh=spec.label_zh if spec else name,
            unit=spec.unit if spec else "",
            categorical=name in trained.categorical_features,
            constraint=int(trained.monotone_constraints.get(name, 0)),
            missing_share_train=float(train_rows[name].isna().mean()) if len(train_rows) else math.nan,
            gain=float(trained.feature_importance.get(name, 0.0)),
            mean_abs_shap=float(mean_abs[position]),
            csi=None if csi.get(name) is None else float(csi[name]),
        ))
    return tuple(sorted(rows, key=lambda feature: -feature.mean_abs_shap))


def _mapping(value: object) -> Mapping | None:
    return value if isinstance(value, Mapping) else None


def _number(mapping: Mapping[str, object], key: str, *, low: float, high: float) -> float:
    value = _required(mapping, key)
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    if not valid or not math.isfinite(value) or not low <= value <= high:
        shown_high = "∞" if math.isinf(high) else f"{high:g}"
        raise ParamsError("report.invalid_param", param=key, value=value,
                          rule_en=f"a number in [{low:g}, {shown_high}]",
                          rule_zh=f"区间 [{low:g}, {shown_high}] 内的数值")
    return float(value)


def _integer(mapping: Mapping[str, object], key: str, *, minimum: int) -> int:
    value = _required(mapping, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParamsError("report.invalid_param", param=key, value=value,
                          rule_en=f"an integer of at least {minimum}", rule_zh=f"不小于 {minimum} 的整数")
    return value


def _required(mapping: Mapping[str, object], key: str) -> object:
    if key not in mapping:
        raise ParamsError("report.invalid_param", param=key, value=None,
                          rule_en="set (the key is missing)", rule_zh="已设置的值（缺少该键）")
    return mapping[key]
