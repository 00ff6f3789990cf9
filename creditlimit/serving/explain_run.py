"""Complete a scored run: early-warning flags, change attribution and restoring changes.

The scorer calls :func:`explain_run` once, after the limits are assembled. It adds
the flags that need context beyond one customer's row, compares the run with the
previous one, searches what would restore each cut and returns the further
output tables (``contributions`` and ``changes``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.serving.attribution import (
    CHANGE_COLUMNS, attribute_changes, contributions_table, feature_values_table, previous_tables,
)
from creditlimit.serving.early_warning import raise_early_warnings
from creditlimit.serving.explain_params import ExplainParams
from creditlimit.serving.flag_codes import joined_flag_codes
from creditlimit.serving.flags import FlagParams
from creditlimit.serving.previous_run import PreviousRun
from creditlimit.serving.restore import RESTORE_COLUMNS, find_restoring_changes

__all__ = ["RunExplanation", "explain_run", "EXPLAIN_LIMIT_COLUMNS"]

logger = logging.getLogger(__name__)

EXPLAIN_LIMIT_COLUMNS = (
    "previous_pd_12m", "change_summary_zh", "change_summary_en",
    "restore_feasible", "restore_zh", "restore_en", "restore_changes",
)
# Limit actions whose cause the restore search explains.
CUT_ACTIONS = ("decrease", "suspend")


@dataclass(frozen=True)
class RunExplanation:
    """Limits with the explanation columns, all flags, further tables and timings."""

    limits: pd.DataFrame
    flags: pd.DataFrame
    extra: dict[str, pd.DataFrame]
    timings: dict[str, float]


def explain_run(
    *,
    features: pd.DataFrame,
    scored: pd.DataFrame,
    limits: pd.DataFrame,
    flags: pd.DataFrame,
    explanations: pd.DataFrame,
    model,
    master_scale,
    flag_params: FlagParams,
    explain_params: ExplainParams | None,
    previous: PreviousRun | None,
    quarantine: pd.DataFrame | None,
    model_version: str,
    policy_version: str,
    cutoff_grade: int | None,
    base_currency: str | None,
) -> RunExplanation:
    """Add early-warning flags, change summaries and restoring changes to a scored run.

    Parameters
    ----------
    features : pandas.DataFrame
        The feature builder's frame in scoring order; its ``is_defaulted``
        marks default events only.
    scored : pandas.DataFrame
        Features with ``pd_12m``, ``raw_margin`` and ``grade``, same order.
    limits : pandas.DataFrame
        The assembled limits, one row per customer.
    flags : pandas.DataFrame
        Flags of :func:`creditlimit.serving.flags.raise_flags`.
    explanations : pandas.DataFrame
        Long frame of every feature's contribution per customer.
    model : CreditPDModel
        The scoring model, re-used by the restore search.
    master_scale : MasterScale
        Grades, for notches and the restore search.
    flag_params : FlagParams
        Flag thresholds.
    explain_params : ExplainParams or None
        None leaves the change and restore columns empty.
    previous : PreviousRun or None
        The previous published run.
    quarantine : pandas.DataFrame or None
        Quarantined rows per customer, table and reason.
    model_version, policy_version : str
        This run's versions, compared with the previous manifest.
    cutoff_grade : int or None
        Worst grade that still gets credit; a suspension is restored by
        reaching it at least.
    base_currency : str, optional
        Currency code written with amounts.

    Returns
    -------
    RunExplanation
        ``limits`` with ``EXPLAIN_LIMIT_COLUMNS`` added and ``risk_flags``
        rebuilt, ``flags`` sorted by customer, code and subject, and ``extra``
        with the ``contributions`` and ``changes`` tables.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    previous_limits = previous.limits if previous is not None else None
    limit_only = [c for c in limits.columns if c not in scored.columns or c == "customer_id"]
    context = scored.merge(limits[limit_only], on="customer_id", how="left")
    warnings = raise_early_warnings(
        context, limits=limits, params=flag_params, grade_order=master_scale.grade_order,
        previous_limits=previous_limits, previous_as_of=previous.as_of if previous else None,
        quarantine=quarantine, base_currency=base_currency,
    )
    all_flags = pd.concat([f for f in (flags, warnings) if len(f)] or [flags], ignore_index=True)
    all_flags = all_flags.sort_values(["customer_id", "code", "subject"], kind="mergesort", ignore_index=True)
    timings["early_warning_s"] = time.perf_counter() - started

    started = time.perf_counter()
    raw_margin = scored.set_index("customer_id")["raw_margin"]
    contributions = contributions_table(explanations, raw_margin, list(model.feature_names))
    out = limits.copy()
    out["previous_pd_12m"] = _previous_column(out, previous_limits, "pd_12m")
    changes = _changes(out, contributions, explanations, previous, explain_params, model_version,
                       policy_version, base_currency)
    out = _add_change_summaries(out, changes.summary)
    timings["attribution_s"] = time.perf_counter() - started

    started = time.perf_counter()
    out = _add_restore(out, features, model, master_scale, previous_limits, explain_params, cutoff_grade,
                       base_currency)
    timings["restore_s"] = time.perf_counter() - started

    out["risk_flags"] = _risk_flags(out["customer_id"], all_flags)
    logger.info("explained run: %s", {k: round(v, 2) for k, v in timings.items()})
    return RunExplanation(limits=out, flags=all_flags, extra={"contributions": contributions,
                                                              "changes": changes.table}, timings=timings)


@dataclass(frozen=True)
class _Changes:
    table: pd.DataFrame
    summary: pd.DataFrame


def _changes(limits, contributions, explanations, previous, params, model_version, policy_version,
             base_currency) -> _Changes:
    empty = _Changes(
        table=pd.DataFrame({c: pd.Series(dtype="float64" if c == "delta" else "str") for c in CHANGE_COLUMNS}),
        summary=pd.DataFrame(columns=["customer_id", "change_summary_zh", "change_summary_en"]),
    )
    if previous is None or params is None or previous.limits.empty:
        return empty
    previous_contributions, previous_values = previous_tables(previous.folder, previous.explanations,
                                                                 previous.contributions)
    manifest = previous.manifest or {}
    versions = {
        "model_version": ((manifest.get("model") or {}).get("version"), model_version),
        "policy_version": (manifest.get("policy_version"), policy_version),
    }
    table, summary = attribute_changes(
        limits, contributions=contributions, values=feature_values_table(explanations),
        previous_limits=previous.limits, previous_contributions=previous_contributions,
        previous_values=previous_values, versions=versions, params=params, base_currency=base_currency,
    )
    return _Changes(table=table, summary=summary)


def _add_change_summaries(limits: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    indexed = summary.set_index("customer_id")
    for column in ("change_summary_zh", "change_summary_en"):
        limits[column] = limits["customer_id"].map(indexed[column]).astype("str").fillna("")
    return limits


def _add_restore(limits, features, model, master_scale, previous_limits, params, cutoff,
                 base_currency) -> pd.DataFrame:
    limits["restore_feasible"] = pd.array([pd.NA] * len(limits), dtype="boolean")
    for column in ("restore_zh", "restore_en", "restore_changes"):
        limits[column] = pd.Series("", index=limits.index, dtype="str")
    if params is None or "action" not in limits.columns:
        return limits
    cut = limits["action"].isin(CUT_ACTIONS).to_numpy()
    if not cut.any():
        return limits
    rows = limits.loc[cut, ["customer_id", "grade"]]
    targets = _target_grades(rows, previous_limits, master_scale, limits.loc[cut, "action"], cutoff)
    subset = features.set_index("customer_id").loc[rows["customer_id"]].reset_index()
    events = subset["is_defaulted"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    found = find_restoring_changes(
        subset, target_grade=targets, current_grade=rows["grade"].tolist(), default_event=events,
        model=model, master_scale=master_scale, params=params, base_currency=base_currency,
    ).set_index("customer_id")
    for column in RESTORE_COLUMNS[1:]:
        limits.loc[cut, column] = found.loc[rows["customer_id"], column].to_numpy()
    return limits


def _target_grades(rows, previous_limits, master_scale, actions, cutoff) -> list[object]:
    """Return the previous grade as target, capped at the cut-off grade for a suspension so the target gets credit."""
    if previous_limits is not None and {"customer_id", "grade"} <= set(previous_limits.columns):
        before = previous_limits.drop_duplicates("customer_id").set_index("customer_id")["grade"]
        targets = rows["customer_id"].map(before).to_numpy(dtype=object)
    else:
        targets = np.full(len(rows), None, dtype=object)
    order = list(master_scale.grade_order)
    for i, action in enumerate(actions.to_numpy()):
        if action != "suspend" or cutoff is None:
            continue
        target = targets[i]
        if target is None or pd.isna(target) or str(target) not in order or order.index(str(target)) > cutoff - 1:
            targets[i] = str(cutoff)
    return list(targets)


def _previous_column(limits: pd.DataFrame, previous_limits: pd.DataFrame | None, column: str) -> pd.Series:
    if previous_limits is None or column not in previous_limits.columns:
        return pd.Series(np.nan, index=limits.index, dtype="float64")
    before = previous_limits.drop_duplicates("customer_id").set_index("customer_id")[column]
    return pd.to_numeric(limits["customer_id"].map(before)).astype("float64")


def _risk_flags(customer_ids: pd.Series, flags: pd.DataFrame) -> pd.Series:
    return joined_flag_codes(customer_ids, flags)


