"""Batch scorer: features to PD, grade, limit proposal, risk flags and reason codes.

The scorer is pure. It takes the feature frame of one ``as_of`` and a loaded model
and returns frames, and the stage writes and publishes them. Rows are scored
in batches of ``batch_size`` so model and explanation memory follows the batch size.
A customer outside any group scores exactly the same alone as inside a batch,
because every step is row-wise (LightGBM prediction, TreeSHAP, the policy and the
flag rules) except the policy's group cap, which needs every member of a group in
the same batch: score whole groups together.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from creditlimit.features.catalog import CATEGORICAL_FEATURES
from creditlimit.models.master_scale import MasterScale
from creditlimit.serving.explain_params import ExplainParams
from creditlimit.serving.explain_run import explain_run
from creditlimit.serving.flag_codes import joined_flag_codes
from creditlimit.serving.flags import FlagParams, raise_flags
from creditlimit.serving.migration import grade_migration, previous_columns
from creditlimit.serving.policy import PolicyParams, propose_limits
from creditlimit.serving.previous_run import PreviousRun
from creditlimit.serving.reasons import reason_codes

__all__ = ["ScoreResult", "add_portfolio_flags", "finish_scoring", "score_portfolio", "LIMIT_COLUMNS"]

log = logging.getLogger(__name__)

LIMIT_COLUMNS = (
    "customer_id", "as_of", "run_id", "model_version", "scale_version", "pd_12m", "raw_margin", "grade",
    "previous_grade", "grade_change", "current_limit", "previous_limit", "proposed_limit", "new_limit",
    "action", "effective_on", "needs_review", "next_review_on", "review_frequency_months",
    "exposure", "utilisation", "available_credit", "risk_flags", "binding_rule",
    "group_id", "group_cap", "group_exposure", "group_limit_total",
)


PREVIOUS_COLUMNS = ("previous_grade", "previous_limit", "grade_change")


@dataclass(frozen=True)
class ScoreResult:
    """Frames of one scoring run: limits, explanations (long) and flags.

    ``extra`` contains further output tables by name; the stage writes each one as
    ``<name>.parquet`` into the run folder. The scorer fills ``grade_migration``
    (see :func:`creditlimit.serving.migration.grade_migration`) and ``features``
    (the scored feature row of every customer, for drift reports).
    """

    limits: pd.DataFrame
    explanations: pd.DataFrame
    flags: pd.DataFrame
    timings: dict[str, float]
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def score_portfolio(
    features: pd.DataFrame,
    *,
    model,
    master_scale: MasterScale,
    policy: PolicyParams,
    flag_params: FlagParams,
    as_of: dt.date,
    run_id: str,
    model_version: str,
    top_k: int,
    batch_size: int,
    base_currency: str,
    previous: PreviousRun | None = None,
    explain_params: ExplainParams | None = None,
    quarantine: pd.DataFrame | None = None,
    with_migration: bool = True,
) -> ScoreResult:
    """Score every row of ``features`` (one row per customer at ``as_of``).

    Parameters
    ----------
    features : pandas.DataFrame
        Output of the feature builder for a single ``as_of``.
    model : CreditPDModel
        The loaded pyfunc's Python model (encoder, booster and calibrator).
    run_id, model_version : str
        Recorded on every output row.
    top_k : int
        Number of reason codes per customer.
    batch_size : int
        Rows per model and explanation batch.
    previous : PreviousRun, optional
        The latest published run before ``as_of``, for comparisons with it.
    explain_params : ExplainParams, optional
        Change attribution and restore search; None leaves their columns empty.
    quarantine : pandas.DataFrame, optional
        Quarantined input rows per customer
        (:func:`creditlimit.features.quarantine.quarantine_summary`).
    with_migration : bool, default True
        Count the ``grade_migration`` table. A caller that scores the book in
        parts counts it once for the whole book instead.

    Returns
    -------
    ScoreResult
    """
    timings: dict[str, float] = {}
    features = features.sort_values("customer_id", kind="stable").reset_index(drop=True)

    # Model and explanations, batch by batch.
    started = time.perf_counter()
    scored_parts, reason_parts, explanation_parts = [], [], []
    for start in range(0, len(features), batch_size):
        batch = features.iloc[start:start + batch_size]
        scored, reasons = _score_batch(batch, model=model, top_k=top_k, base_currency=base_currency)
        scored_parts.append(scored)
        reason_parts.append(reasons.top)
        explanation_parts.append(reasons.explanations)
    scored = pd.concat(scored_parts, ignore_index=True) if scored_parts else _empty_scored(features)
    top = pd.concat(reason_parts, ignore_index=True) if reason_parts else pd.DataFrame({"customer_id": []})
    explanations = (pd.concat(explanation_parts, ignore_index=True) if explanation_parts
                    else pd.DataFrame({"customer_id": []}))
    timings["model_and_explanations_s"] = time.perf_counter() - started

    limits_out, flags, extra = finish_scoring(
        features, scored, top, explanations, model=model, master_scale=master_scale, policy=policy,
        flag_params=flag_params, explain_params=explain_params, previous=previous, quarantine=quarantine,
        as_of=as_of, run_id=run_id, model_version=model_version, base_currency=base_currency, timings=timings,
    )
    if with_migration:
        extra["grade_migration"] = grade_migration(scored["customer_id"], scored["grade"], previous,
                                                   grade_order=master_scale.grade_order,
                                                   scale_version=policy.scale_version)
    log.info("scored %d customers: %s", len(limits_out), timings)
    return ScoreResult(limits=limits_out, explanations=explanations, flags=flags, timings=timings, extra=extra)


def finish_scoring(features, scored, top, explanations, *, model, master_scale, policy, flag_params,
                   explain_params, previous, quarantine, as_of, run_id, model_version, base_currency,
                   timings: dict[str, float] | None = None):
    """Run every step after the model: grades, limits, flags, the previous-run comparison and explanations.

    ``scored`` contains the feature rows with ``pd_12m`` and ``raw_margin``; ``top`` and
    ``explanations`` are the reason-code frames. The local scorer and the Spark
    engine (per bucket of whole groups) both call this. Returns the limits, the
    flags and the extra tables except ``grade_migration``, which needs the whole book.
    ``explanations`` gets its ``as_of`` column in place.
    """
    timings = {} if timings is None else timings

    # Grades, credit policy and early-warning flags.
    started = time.perf_counter()
    scored["is_defaulted"] = _in_default(scored, model.default_definition)
    scored["grade"] = master_scale.assign_grades(scored["pd_12m"].to_numpy(), scored["is_defaulted"].to_numpy())
    limits = propose_limits(scored, policy=policy, as_of=as_of, base_currency=base_currency)
    flags = raise_flags(scored, limits=limits, params=flag_params, as_of=as_of,
                        unseen_categories=_unseen_categories(scored, model), base_currency=base_currency)
    timings["policy_and_flags_s"] = time.perf_counter() - started

    # Comparison with the previous run.
    compared = previous_columns(scored["customer_id"], scored["grade"], previous, master_scale.grade_order)
    limits_out = _assemble_limits(scored.join(compared), limits, flags, top, as_of=as_of, run_id=run_id,
                                  model_version=model_version)

    # Context flags, why it changed and what would restore it (creditlimit.serving.explain_run).
    explained = explain_run(
        features=features, scored=scored, limits=limits_out, flags=flags, explanations=explanations,
        model=model, master_scale=master_scale, flag_params=flag_params, explain_params=explain_params,
        previous=previous, quarantine=quarantine, model_version=model_version, policy_version=policy.version,
        cutoff_grade=policy.cutoff_grade, base_currency=base_currency,
    )
    timings.update(explained.timings)
    explanations.insert(1, "as_of", pd.Timestamp(as_of))
    flags = explained.flags.copy()
    flags.insert(1, "as_of", pd.Timestamp(as_of))
    return explained.limits, flags, {"features": features, **explained.extra}


def add_portfolio_flags(limits: pd.DataFrame, flags: pd.DataFrame,
                        portfolio_flags: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add flags raised on the whole book (concentration) to the flags of a part of it.

    Engines that score a book in parts run the concentration rule once on every
    customer; this merges its flags for the part's customers, keeps the flags
    sorted by customer, code and subject, and rebuilds ``risk_flags``.
    """
    if not len(portfolio_flags):
        return limits, flags
    added = portfolio_flags[list(flags.columns)].astype(flags.dtypes.to_dict())
    flags = pd.concat([flags, added], ignore_index=True)
    flags = flags.sort_values(["customer_id", "code", "subject"], kind="mergesort", ignore_index=True)
    limits = limits.copy()
    limits["risk_flags"] = joined_flag_codes(limits["customer_id"], flags)
    return limits, flags


def _score_batch(batch: pd.DataFrame, *, model, top_k: int, base_currency: str):
    X, _unseen = model.encode(batch)
    raw_margin = model.raw_margin(X)
    contributions, bias = model.contributions(X)
    scored = batch.copy()
    scored["raw_margin"] = raw_margin
    scored["pd_12m"] = model.calibrate(raw_margin)
    reasons = reason_codes(
        contributions, bias, raw_margin, list(model.feature_names),
        batch[list(model.feature_names)], batch["customer_id"].to_numpy(),
        top_k=top_k, base_currency=base_currency,
    )
    return scored, reasons


def _in_default(scored: pd.DataFrame, definition) -> np.ndarray:
    """Mark customers already in default under the model's own default definition.

    A default, write-off or bankruptcy event before as_of counts, and so does an
    overdue amount of at least ``min_amount`` while the oldest open invoice is at
    least ``dpd_threshold`` days past due. Training left such snapshots out, so
    the model's PD does not describe them: they get grade D.
    NOTE: the overdue amount sums every overdue invoice, not only those past the
    threshold, so this is slightly wider than the label's rule.
    """
    events = scored["is_defaulted"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    days_past_due = scored["max_dpd_now"].to_numpy(dtype=float)
    overdue = scored["overdue_amount"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        past_due = (days_past_due >= definition["dpd_threshold"]) & (overdue >= definition["min_amount"])
    return events | past_due


def _unseen_categories(scored: pd.DataFrame, model) -> pd.DataFrame:
    """List each customer and categorical column whose value the model never saw."""
    levels = model.category_levels
    rows = []
    for column in CATEGORICAL_FEATURES:
        if column not in scored.columns or column not in levels:
            continue
        values = scored[column]
        unseen = values.notna() & ~values.isin(levels[column])
        for customer_id, value in zip(scored.loc[unseen, "customer_id"], values[unseen]):
            rows.append({"customer_id": customer_id, "column": column, "value": str(value)})
    return pd.DataFrame(rows, columns=["customer_id", "column", "value"])


def _assemble_limits(scored, limits, flags, top, *, as_of, run_id, model_version) -> pd.DataFrame:
    frame = scored[["customer_id", "pd_12m", "raw_margin", "grade", *PREVIOUS_COLUMNS]].merge(
        limits, on="customer_id", how="left", validate="one_to_one"
    )
    frame.insert(1, "as_of", pd.Timestamp(as_of))
    frame.insert(2, "run_id", run_id)
    frame.insert(3, "model_version", model_version)
    frame["risk_flags"] = joined_flag_codes(frame["customer_id"], flags)
    frame = frame.merge(top, on="customer_id", how="left", validate="one_to_one")
    ordered = [c for c in LIMIT_COLUMNS if c in frame.columns]
    rest = [c for c in frame.columns if c not in ordered]
    return frame[ordered + rest]


def _empty_scored(features: pd.DataFrame) -> pd.DataFrame:
    scored = features.copy()
    scored["raw_margin"] = np.array([], dtype=float)
    scored["pd_12m"] = np.array([], dtype=float)
    return scored
