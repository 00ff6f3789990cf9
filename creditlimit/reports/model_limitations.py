"""Limitations of a trained model, stated from its own evidence for the model report."""

from __future__ import annotations

import math
from collections.abc import Callable

from creditlimit.reports.model_evidence import ModelEvidence

__all__ = ["limitations", "auc_standard_error"]

_SIGNIFICANCE = 0.05


def limitations(evidence: ModelEvidence, text: Callable[..., str]) -> list[str]:
    """Return the limitations of the model in the language of ``text``, most general first.

    ``text`` is the report's text renderer (catalog lookup plus the ``share``,
    ``metric``, ``integer`` and ``join`` formatters of its locale).
    """
    items = [_data_source(evidence, text), text("limit.scope")]
    items.append(_sample_size(evidence, text))
    items += _few_bads(evidence, text)
    items += _undefined_segments(evidence, text)
    items.append(_missing_features(evidence, text))
    items += _unstable_features(evidence, text)
    items += _miscalibrated_grades(evidence, text)
    items.append(_gates(evidence, text))
    return [item for item in items if item]


def auc_standard_error(auc: float, bads: int, goods: int) -> float:
    """Return the standard error of an AUC after Hanley and McNeil (1982, Radiology 143:29-36).

    ``Q1 = A / (2 - A)`` and ``Q2 = 2 A^2 / (1 + A)``; the variance is
    ``(A (1 - A) + (n_bads - 1)(Q1 - A^2) + (n_goods - 1)(Q2 - A^2)) / (n_bads n_goods)``.
    Rows are treated as independent, which repeated snapshots of one customer are not,
    so the value understates the true uncertainty.
    """
    if bads <= 0 or goods <= 0:
        return math.nan
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    variance = (auc * (1.0 - auc) + (bads - 1) * (q1 - auc * auc) + (goods - 1) * (q2 - auc * auc))
    return math.sqrt(max(variance, 0.0) / (bads * goods))


def _data_source(evidence: ModelEvidence, text: Callable[..., str]) -> str:
    source = evidence.data_source or "?"
    return text("limit.synthetic" if evidence.synthetic else "limit.real_data", source=source)


def _sample_size(evidence: ModelEvidence, text: Callable[..., str]) -> str:
    oot = evidence.part("oot")
    rows, bads = int(oot.metrics.get("n_rows") or 0), int(oot.metrics.get("n_bads") or 0)
    auc = oot.metrics.get("auc")
    error = math.nan if auc is None else auc_standard_error(float(auc), bads, rows - bads)
    return text("limit.sample_size", bads=text.integer(bads), rows=text.integer(rows),
                customers=text.integer(oot.customers), se=text.metric(error), twice_se=text.metric(2 * error))


def _few_bads(evidence: ModelEvidence, text: Callable[..., str]) -> list[str]:
    minimum = evidence.settings.min_bads
    named = [f"{text(f'part.{part.name}')} ({part.metrics.get('n_bads')})"
             for part in evidence.parts if int(part.metrics.get("n_bads") or 0) < minimum]
    oot = evidence.part("oot")
    for record in oot.segments.to_dict("records"):
        if 0 < record["n_bads"] < minimum and record["n_bads"] < record["n_rows"]:
            segment = f"{text('segment.' + record['segment_column'])} = {_value(record['segment_value'], text)}"
            named.append(f"{text('part.oot')}: {segment} ({record['n_bads']})")
    if not named:
        return []
    return [text("limit.few_bads", min_bads=minimum, parts=text.join(named))]


def _undefined_segments(evidence: ModelEvidence, text: Callable[..., str]) -> list[str]:
    named = []
    for part in evidence.parts:
        for record in part.segments.to_dict("records"):
            if record["auc"] is None:
                segment = f"{text('segment.' + record['segment_column'])} = {_value(record['segment_value'], text)}"
                named.append(f"{text(f'part.{part.name}')}: {segment}")
    return [text("limit.undefined_segments", segments=text.join(named))] if named else []


def _missing_features(evidence: ModelEvidence, text: Callable[..., str]) -> str:
    threshold = evidence.settings.max_missing_share
    label = _label_getter(text)
    named = [f"{label(f)} ({text.share(f.missing_share_train, digits=1)})"
             for f in evidence.features if f.missing_share_train > threshold]
    share = text.share(threshold, digits=0)
    if not named:
        return text("limit.no_missing_features", share=share)
    return text("limit.missing_features", share=share, features=text.join(named))


def _unstable_features(evidence: ModelEvidence, text: Callable[..., str]) -> list[str]:
    alert = evidence.settings.psi_alert
    label = _label_getter(text)
    named = [f"{label(f)} ({text.metric(f.csi, 2)})" for f in evidence.features
             if f.csi is not None and f.csi > alert]
    if not named:
        return []
    return [text("limit.unstable_features", alert=text.metric(alert, 2), features=text.join(named))]


def _miscalibrated_grades(evidence: ModelEvidence, text: Callable[..., str]) -> list[str]:
    table = evidence.part("oot").calibration
    flagged = table[(table["n_rows"] > 0) & (table["p_value_above"] < _SIGNIFICANCE)]
    if flagged.empty:
        return []
    grades = [f"{row.grade} ({text.share(row.observed_default_rate)} / {text.share(row.mean_pd)})"
              for row in flagged.itertuples()]
    return [text("limit.calibration_grades", grades=text.join(grades))]


def _gates(evidence: ModelEvidence, text: Callable[..., str]) -> str:
    if evidence.gates:
        failed = [str(gate.get("name")) for gate in evidence.gates if not gate.get("passed")]
    else:
        failed = [str(name) for name in evidence.model.get("failed_gates") or ()]
    if not failed:
        return text("limit.gates_passed")
    return text("limit.gates_failed", gates=text.join(failed))


def _label_getter(text: Callable[..., str]) -> Callable:
    zh = getattr(text, "locale", "en") == "zh_CN"
    return lambda feature: feature.label_zh if zh else feature.label_en


def _value(value: object, text: Callable[..., str]) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text("segment.missing")
    if isinstance(value, bool):
        return text("yes" if value else "no")
    if value in ("yes", "no"):
        return text(str(value))
    return str(value)
