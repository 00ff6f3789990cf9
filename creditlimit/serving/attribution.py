"""Why it changed: attribute each change of grade or limit since the previous run to its causes.

A customer has changed when its grade or its proposed limit differs from the
previous run's. The causes, in this order:

- ``model_version`` and ``policy_version``: the run used another model or policy
  version than the previous one (from the manifests);
- ``feature``: the features whose SHAP contribution (log-odds) moved the most,
  at most ``explain.top_causes`` of them and each by at least
  ``explain.min_contribution_change``; a positive delta raised the PD;
- ``need`` and ``capacity``: the policy's trading-need or capacity limit moved
  by at least ``explain.min_relative_change`` of its previous value.

Contributions of two runs are comparable in log-odds when the model is the
same. After a model change the feature deltas also carry the change of model,
which is why ``model_version`` is listed first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from creditlimit.features.catalog import FEATURES
from creditlimit.i18n import register, translate
from creditlimit.serving.explain_params import ExplainParams
from creditlimit.serving.flags import flag_texts
from creditlimit.serving.reasons import format_value

__all__ = [
    "CHANGE_COLUMNS", "COMPARED_LIMIT_COLUMNS", "contributions_table", "feature_values_table", "previous_tables", "attribute_changes",
]

logger = logging.getLogger(__name__)

CHANGE_COLUMNS = ("customer_id", "cause_kind", "cause", "delta", "text_zh", "text_en")
# The limit columns a change is measured on, in this run and the previous one.
COMPARED_LIMIT_COLUMNS = ("grade", "pd_12m", "proposed_limit", "need_limit", "capacity_limit")

register({
    "change.headline": {
        "en": "Grade {grade_before} → {grade_after}, PD {pd_before} → {pd_after}, proposed limit {limit_before} → {limit_after}.",
        "zh_CN": "等级由{grade_before}级变为{grade_after}级，违约概率由{pd_before}变为{pd_after}，建议额度由{limit_before}变为{limit_after}。",
    },
    "change.headline_same_grade": {
        "en": "Grade {grade_after} unchanged, PD {pd_before} → {pd_after}, proposed limit {limit_before} → {limit_after}.",
        "zh_CN": "等级仍为{grade_after}级，违约概率由{pd_before}变为{pd_after}，建议额度由{limit_before}变为{limit_after}。",
    },
    "change.causes": {"en": " Causes: {causes}.", "zh_CN": "原因：{causes}。"},
    "change.no_cause": {
        "en": " Causes: no single input moved past the thresholds; many small moves add up.",
        "zh_CN": "原因：没有单项输入的变化超过阈值，由多项小幅变化累积而成。",
    },
    "change.feature": {
        "en": "{label} {before} → {after} {direction} the PD ({delta} log-odds)",
        "zh_CN": "{label}由{before}变为{after}，{direction}违约概率（对数几率{delta}）",
    },
    "change.feature_same_value": {
        "en": "{label} unchanged at {before} {direction} the PD through other features ({delta} log-odds)",
        "zh_CN": "{label}保持{before}，但通过其他特征的交互{direction}违约概率（对数几率{delta}）",
    },
    "change.raised": {"en": "raised", "zh_CN": "推高"},
    "change.lowered": {"en": "lowered", "zh_CN": "降低"},
    "change.need": {
        "en": "trading need (recent invoiced volume) {before} → {after}",
        "zh_CN": "交易需求额度（近期开票量）由{before}变为{after}",
    },
    "change.capacity": {
        "en": "capacity (equity and revenue) {before} → {after}",
        "zh_CN": "偿付能力额度（净资产与营业收入）由{before}变为{after}",
    },
    "change.model_version": {
        "en": "model version {before} → {after}",
        "zh_CN": "模型版本由{before}变为{after}",
    },
    "change.policy_version": {
        "en": "policy version {before} → {after}",
        "zh_CN": "策略版本由{before}变为{after}",
    },
})

_SEPARATOR = {"en": "; ", "zh_CN": "；"}
_SPECS = {spec.name: spec for spec in FEATURES}
_CATALOG_ORDER = {spec.name: i for i, spec in enumerate(FEATURES)}


def contributions_table(
    explanations: pd.DataFrame, raw_margin: pd.Series, feature_names: Sequence[str]
) -> pd.DataFrame:
    """Pivot the long explanations into one row per customer with every feature's contribution.

    Parameters
    ----------
    explanations : pandas.DataFrame
        Long frame of :func:`creditlimit.serving.reasons.reason_codes`.
    raw_margin : pandas.Series
        Raw margin (log-odds) indexed by ``customer_id``.
    feature_names : sequence of str
        Model features, in the column order of the result.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``base_value``, ``raw_margin`` and one float column per
        feature with its SHAP contribution in log-odds, sorted by customer.
    """
    if explanations.empty:
        columns = ["customer_id", "base_value", "raw_margin", *feature_names]
        return pd.DataFrame({c: pd.Series(dtype="str" if c == "customer_id" else "float64") for c in columns})
    wide = explanations.pivot(index="customer_id", columns="feature", values="contribution")
    wide = wide.reindex(columns=list(feature_names)).astype("float64")
    base = explanations.groupby("customer_id", sort=True)["base_value"].first()
    table = pd.DataFrame({"base_value": base, "raw_margin": raw_margin.reindex(base.index).astype("float64")})
    table = table.join(wide).reset_index().rename(columns={"index": "customer_id"})
    table.columns.name = None
    return table.sort_values("customer_id", ignore_index=True)


def feature_values_table(explanations: pd.DataFrame) -> pd.DataFrame:
    """Pivot the long explanations into one row per customer with each feature's value (object)."""
    if explanations.empty:
        return pd.DataFrame()
    values = explanations["value"].astype(object)
    if "value_category" in explanations.columns:
        values = explanations["value_category"].astype(object).where(explanations["value_category"].notna(), values)
    long = explanations[["customer_id", "feature"]].assign(shown=values)
    return long.pivot(index="customer_id", columns="feature", values="shown")


def previous_tables(folder: Path | None, explanations: pd.DataFrame,
                    contributions: pd.DataFrame | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Read the previous run's contributions (given, its table, else its explanations) and feature values."""
    if explanations is None or explanations.empty or "contribution" not in explanations.columns:
        return None, pd.DataFrame()
    values = feature_values_table(explanations)
    if contributions is not None:
        return contributions, values
    path = folder / "contributions.parquet" if folder is not None else None
    if path is not None and path.is_file():
        return pd.read_parquet(path).set_index("customer_id"), values
    return explanations.pivot(index="customer_id", columns="feature", values="contribution"), values


def attribute_changes(
    limits: pd.DataFrame,
    *,
    contributions: pd.DataFrame,
    values: pd.DataFrame,
    previous_limits: pd.DataFrame,
    previous_contributions: pd.DataFrame | None,
    previous_values: pd.DataFrame,
    versions: dict[str, tuple[object, object]],
    params: ExplainParams,
    base_currency: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attribute each change of grade or proposed limit since the previous run.

    Parameters
    ----------
    limits : pandas.DataFrame
        This run's limits: ``customer_id``, ``grade``, ``pd_12m``,
        ``proposed_limit``; ``need_limit`` and ``capacity_limit`` when present.
    contributions : pandas.DataFrame
        This run's :func:`contributions_table`.
    values : pandas.DataFrame
        This run's :func:`feature_values_table`, indexed by customer.
    previous_limits : pandas.DataFrame
        The previous run's limits.
    previous_contributions : pandas.DataFrame or None
        The previous run's contributions indexed by customer, one column per
        feature; None leaves the feature causes out.
    previous_values : pandas.DataFrame
        The previous run's feature values indexed by customer.
    versions : dict
        ``{"model_version": (before, after), "policy_version": (before, after)}``.
    params : ExplainParams
        Thresholds and the number of feature causes.
    base_currency : str, optional
        Currency code written with amounts.

    Returns
    -------
    changes : pandas.DataFrame
        Long frame with ``CHANGE_COLUMNS``, one row per cause, in cause order.
    summary : pandas.DataFrame
        ``customer_id``, ``change_summary_zh``, ``change_summary_en`` for the
        changed customers.
    """
    compared = [c for c in COMPARED_LIMIT_COLUMNS if c in limits.columns or c in previous_limits.columns]
    before = previous_limits.drop_duplicates("customer_id").set_index("customer_id").reindex(columns=compared)
    now = limits.drop_duplicates("customer_id").set_index("customer_id").reindex(columns=compared)
    common = now.index.intersection(before.index, sort=False)
    now_rows = now.loc[common].to_dict("index")
    before_rows = before.loc[common].to_dict("index")
    changed = [c for c in common if _has_changed(now_rows[c], before_rows[c])]
    feature_causes = _feature_causes(changed, contributions, previous_contributions, values, previous_values,
                                     params, base_currency)
    version_causes = _version_causes(versions)

    cause_rows, summaries = [], []
    for customer_id in changed:
        causes = list(version_causes) + feature_causes.get(customer_id, [])
        causes += _policy_input_causes(now_rows[customer_id], before_rows[customer_id], params, base_currency)
        cause_rows += [(customer_id, *cause) for cause in causes]
        summaries.append((customer_id, *_summary(now_rows[customer_id], before_rows[customer_id], causes,
                                                 base_currency)))
    changes = pd.DataFrame(cause_rows, columns=list(CHANGE_COLUMNS)).astype({"delta": "float64"})
    summary = pd.DataFrame(summaries, columns=["customer_id", "change_summary_zh", "change_summary_en"])
    logger.info("attributed changes of %d of %d customers present in both runs", len(changed), len(common))
    return changes, summary


def _has_changed(now: dict, before: dict) -> bool:
    grade_moved = str(now.get("grade")) != str(before.get("grade"))
    limit_now, limit_before = _float(now.get("proposed_limit")), _float(before.get("proposed_limit"))
    if np.isnan(limit_now) and np.isnan(limit_before):
        return grade_moved
    return grade_moved or bool(np.isnan(limit_now) or np.isnan(limit_before) or limit_now != limit_before)


def _version_causes(versions: dict[str, tuple[object, object]]) -> list[tuple]:
    causes = []
    for kind in ("model_version", "policy_version"):
        old, new = versions.get(kind, (None, None))
        if old is None or new is None or str(old) == str(new):
            continue
        texts = flag_texts(f"change.{kind}", before=str(old), after=str(new))
        causes.append((kind, kind, np.nan, *texts))
    return causes


def _feature_causes(changed, contributions, previous_contributions, values, previous_values,
                    params, base_currency) -> dict[object, list[tuple]]:
    """Top feature causes of each changed customer, from the contribution deltas in one matrix."""
    if previous_contributions is None or not changed:
        return {}
    current = contributions.set_index("customer_id") if "customer_id" in contributions.columns else contributions
    names = [c for c in current.columns if c not in ("base_value", "raw_margin")]
    ids = [c for c in changed if c in previous_contributions.index and c in current.index]
    delta = (current.loc[ids, names].to_numpy(dtype=np.float64)
             - previous_contributions.reindex(index=ids, columns=names).to_numpy(dtype=np.float64))
    # Moves below the threshold, and NaN moves, sort last and end the loop below.
    with np.errstate(invalid="ignore"):
        magnitude = np.where(np.abs(delta) >= params.min_contribution_change, np.abs(delta), -np.inf)
    catalog_rank = np.broadcast_to([_CATALOG_ORDER.get(n, len(_CATALOG_ORDER)) for n in names], delta.shape)
    # Largest move first; ties keep the feature catalog order.
    order = np.lexsort((catalog_rank, -magnitude), axis=1)[:, :params.top_causes]
    now_values = values.reindex(index=ids, columns=names).to_numpy(dtype=object) if len(values) else None
    old_values = (previous_values.reindex(index=ids, columns=names).to_numpy(dtype=object)
                  if len(previous_values) else None)
    causes: dict[object, list[tuple]] = {}
    for i, customer_id in enumerate(ids):
        rows = []
        for j in order[i]:
            if not np.isfinite(magnitude[i, j]):
                break
            after = now_values[i, j] if now_values is not None else None
            before = old_values[i, j] if old_values is not None else None
            texts = _feature_texts(names[j], before, after, delta[i, j], base_currency)
            rows.append(("feature", names[j], float(delta[i, j]), *texts))
        causes[customer_id] = rows
    return causes


def _feature_texts(feature, before, after, delta, base_currency) -> tuple[str, str]:
    spec = _SPECS.get(feature)
    unit = spec.unit if spec else "ratio"
    same = _same_value(before, after)
    key = "change.feature_same_value" if same else "change.feature"
    direction = "change.raised" if delta > 0 else "change.lowered"

    def label(loc):
        if spec is None:
            return feature
        return spec.label_zh if loc == "zh_CN" else spec.label_en
    return flag_texts(
        key, label=label, direction=lambda loc: translate(direction, loc), delta=f"{delta:+.2f}",
        before=lambda loc: format_value(before, unit, locale=loc, base_currency=base_currency),
        after=lambda loc: format_value(after, unit, locale=loc, base_currency=base_currency),
    )


def _policy_input_causes(now: dict, before: dict, params: ExplainParams, base_currency) -> list[tuple]:
    causes = []
    for kind, column in (("need", "need_limit"), ("capacity", "capacity_limit")):
        new, old = _float(now.get(column)), _float(before.get(column))
        if np.isnan(new) and np.isnan(old):
            continue
        moved = np.isnan(new) != np.isnan(old) or (
            abs(new - old) >= params.min_relative_change * abs(old) and new != old)
        if not moved:
            continue
        texts = flag_texts(
            f"change.{kind}",
            before=lambda loc, v=old: format_value(v, "amount", locale=loc, base_currency=base_currency),
            after=lambda loc, v=new: format_value(v, "amount", locale=loc, base_currency=base_currency),
        )
        causes.append((kind, column, new - old, *texts))
    return causes


def _summary(now: dict, before: dict, causes: list[tuple], base_currency) -> tuple[str, str]:
    def amount(value):
        return lambda loc: format_value(_float(value), "amount", locale=loc, base_currency=base_currency)

    def percent(value):
        return lambda loc: format_value(_float(value), "percent", locale=loc)
    same_grade = str(before.get("grade")) == str(now.get("grade"))
    headline = flag_texts(
        "change.headline_same_grade" if same_grade else "change.headline", grade_before=str(before.get("grade")), grade_after=str(now.get("grade")),
        pd_before=percent(before.get("pd_12m")), pd_after=percent(now.get("pd_12m")),
        limit_before=amount(before.get("proposed_limit")), limit_after=amount(now.get("proposed_limit")),
    )
    texts = []
    for position, locale in enumerate(("zh_CN", "en")):
        if causes:
            # Cause tuples end with (text_zh, text_en).
            joined = _SEPARATOR[locale].join(cause[-2 + position] for cause in causes)
            tail = translate("change.causes", locale, causes=joined)
        else:
            tail = translate("change.no_cause", locale)
        texts.append(headline[position] + tail)
    return texts[0], texts[1]


def _same_value(before: object, after: object) -> bool:
    if pd.isna(before) and pd.isna(after):
        return True
    if pd.isna(before) or pd.isna(after):
        return False
    if isinstance(before, str) or isinstance(after, str):
        return str(before) == str(after)
    return bool(np.isclose(float(before), float(after), rtol=1e-9, atol=1e-12))


def _float(value: object) -> float:
    try:
        return float(value) if value is not None and not pd.isna(value) else np.nan
    except (TypeError, ValueError):
        return np.nan
