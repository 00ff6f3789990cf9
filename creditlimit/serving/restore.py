"""What would restore a grade: the smallest actionable change the model itself confirms.

For each customer whose limit is cut or suspended, the search tries candidate
feature rows in order of size and re-scores them with the model (encoding, raw
margin, calibration, grade). Candidates combine up to ``restore_max_actions``
actions of ``explain.restore_actions``. A candidate moves every feature of its
actions the same share of the way to the action's target. Fewer actions come
first, then smaller shares, then the order of the actions in params. The first
candidate that reaches the target grade is the result.

A feature with a monotone constraint moves only in the direction that lowers the
PD (down for +1, up for -1), so the search never proposes a change that the
model's constraints call worse. An unconstrained feature moves as a consequence
of its action. A missing value stays missing, because a change cannot be stated
from an unknown value.

NOTE: the candidates are a grid, so "smallest" means the smallest grid point;
a smaller change between two grid points may also work.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.features.catalog import FEATURES
from creditlimit.i18n import register, translate
from creditlimit.serving.early_warning import grade_notches
from creditlimit.serving.explain_params import ExplainParams
from creditlimit.serving.flags import flag_texts
from creditlimit.serving.reasons import format_value

__all__ = ["RESTORE_COLUMNS", "find_restoring_changes"]

logger = logging.getLogger(__name__)

RESTORE_COLUMNS = ("customer_id", "restore_feasible", "restore_zh", "restore_en", "restore_changes")

register({
    "restore.action.pay_overdue": {"en": "pay the overdue invoices", "zh_CN": "支付逾期发票"},
    "restore.action.pay_on_time": {"en": "pay invoices on time", "zh_CN": "按时支付发票"},
    "restore.action.resolve_disputes": {"en": "resolve the disputed invoices", "zh_CN": "解决争议发票"},
    "restore.action.reduce_leverage": {"en": "reduce debt relative to assets", "zh_CN": "降低资产负债率"},
    "restore.action.improve_liquidity": {"en": "improve liquidity", "zh_CN": "改善流动性"},
    "restore.change": {"en": "{label} {before} → {after}", "zh_CN": "{label}由{before}降至{after}"},
    "restore.change_up": {"en": "{label} {before} → {after}", "zh_CN": "{label}由{before}升至{after}"},
    "restore.feasible": {
        "en": "Grade {target} or better returns (PD {pd}) if the customer would {actions}: {changes}.",
        "zh_CN": "若客户{actions}（{changes}），等级可恢复至{target}级或更好（违约概率{pd}）。",
    },
    "restore.infeasible": {
        "en": (
            "No change found: no combination of up to {max_actions} of the allowed actions ({actions}) "
            "brings grade {current} back to grade {target} under the current model; the best reaches grade {best}."
        ),
        "zh_CN": "无法恢复：在当前模型下，允许的动作（{actions}）中任意不超过{max_actions}项的组合都无法使等级由{current}级恢复至{target}级，最好只能达到{best}级。",
    },
    "restore.no_action_applies": {
        "en": "No change found: none of the allowed actions ({actions}) applies, because the features they move are already at their targets or missing.",
        "zh_CN": "无法恢复：允许的动作（{actions}）均不适用，相关特征已达到目标值或缺失。",
    },
    "restore.default_event": {
        "en": "No change restores grade {target}: a default, write-off or bankruptcy event is on record.",
        "zh_CN": "任何调整都无法恢复至{target}级：客户已有违约、核销或破产记录。",
    },
    "restore.grade_not_worse": {
        "en": (
            "The grade ({grade}) is no worse than the grade to restore ({target}), so the cut comes from "
            "the policy inputs (trading need, capacity or caps), which no change in the risk features restores."
        ),
        "zh_CN": "当前等级（{grade}级）不差于应恢复的等级（{target}级），额度下调源于策略输入（交易需求、偿付能力或上限），调整风险特征无法恢复。",
    },
    "restore.no_target": {
        "en": "No previous grade to restore: the customer was not graded in the previous run.",
        "zh_CN": "没有可恢复的原等级：该客户在上次评分中没有等级。",
    },
})

_JOIN = {"en": ", ", "zh_CN": "、"}
_AND = {"en": " and ", "zh_CN": "并"}
_SPECS = {spec.name: spec for spec in FEATURES}
# Day and count features that only take whole values: a maximum of whole days,
# today's days past due and an invoice count (means such as mean days late do not).
WHOLE_NUMBER_FEATURES = frozenset({"max_days_late_12m", "max_dpd_now", "invoice_count_12m"})


@dataclass(frozen=True)
class _Candidate:
    actions: tuple[str, ...]
    step: float


def find_restoring_changes(
    features: pd.DataFrame,
    *,
    target_grade: Sequence[object],
    current_grade: Sequence[object],
    default_event: Sequence[bool],
    model,
    master_scale,
    params: ExplainParams,
    base_currency: str | None = None,
) -> pd.DataFrame:
    """Search the smallest actionable change that brings each customer back to its target grade.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per customer to search: ``customer_id`` and every model feature.
    target_grade, current_grade : sequence of str of length n_rows
        Grade to reach (None or NaN when there is none) and the grade now.
    default_event : sequence of bool of length n_rows
        True when a default, write-off or bankruptcy event is on record; such a
        customer stays in grade D whatever it changes.
    model : CreditPDModel
        The scoring model; candidates go through its ``encode``, ``raw_margin``
        and ``calibrate``.
    master_scale : MasterScale
        Grades of the candidate PDs.
    params : ExplainParams
        Actions, targets and steps of the search.
    base_currency : str, optional
        Currency code written with amounts.

    Returns
    -------
    pandas.DataFrame
        One row per input row with ``RESTORE_COLUMNS``: ``restore_feasible``
        (boolean), texts in zh_CN and en, and ``restore_changes``, a JSON list
        of ``{"feature", "from", "to"}`` (empty list when infeasible).
    """
    n_rows = len(features)
    order = tuple(master_scale.grade_order)
    target_rank = grade_notches(list(target_grade), order)
    current_rank = grade_notches(list(current_grade), order)
    events = np.asarray(default_event, dtype=bool)
    X, _unseen = model.encode(features) if n_rows else (np.empty((0, len(model.feature_names))), {})
    names = list(model.feature_names)
    moves = _feature_moves(X, names, model.monotone_constraints, params)
    whole = _whole_columns(names)
    candidates = _candidates(params)

    with np.errstate(invalid="ignore"):
        searchable = ~np.isnan(target_rank) & (current_rank > target_rank) & ~events
    found, best_rank, found_pd = _search(X, names, moves, whole, candidates, target_rank, searchable, model,
                                         master_scale)

    rows = []
    for i in range(n_rows):
        rows.append(_describe(
            i, features, found[i], best_rank[i], found_pd[i], candidates, moves, whole, X, names, target_grade[i],
            current_grade[i], target_rank[i], current_rank[i], events[i], order, params, base_currency,
        ))
    frame = pd.DataFrame(rows, columns=list(RESTORE_COLUMNS))
    frame["restore_feasible"] = frame["restore_feasible"].astype("boolean")
    logger.info("restore search: %d customers, %d feasible", n_rows, int(frame["restore_feasible"].sum()))
    return frame


def _feature_moves(
    X: np.ndarray, names: list[str], constraints, params: ExplainParams
) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Per action, the columns it moves and each row's full move (0 where it may not move)."""
    moves: dict[str, list[tuple[int, np.ndarray]]] = {}
    for action, targets in params.restore_actions.items():
        columns = []
        for feature, target in targets.items():
            if feature not in names:
                logger.warning("restore action %s: %s is not a model feature and is left out", action, feature)
                continue
            j = names.index(feature)
            delta = target - X[:, j]
            sign = int(constraints.get(feature, 0))
            # Constrained features only move where the move lowers the PD.
            allowed = ~np.isnan(delta) & ((sign == 0) | (sign * delta < 0))
            columns.append((j, np.where(allowed, delta, 0.0)))
        moves[action] = columns
    return moves


def _candidates(params: ExplainParams) -> list[_Candidate]:
    actions = list(params.restore_actions)
    ordered = []
    for size in range(1, min(params.restore_max_actions, len(actions)) + 1):
        for step in params.restore_steps:
            for subset in itertools.combinations(actions, size):
                ordered.append(_Candidate(subset, step))
    return ordered


def _whole_columns(names: list[str]) -> set[int]:
    """Columns of the features that are whole numbers by definition, so moved values stay whole.

    Decided by the feature, not by the values at hand, so a customer gets the same
    path whatever batch it is scored in.
    """
    return {j for j, name in enumerate(names) if name in WHOLE_NUMBER_FEATURES}


def _moved(value: np.ndarray, step: float, delta: np.ndarray, whole: bool) -> np.ndarray:
    """Move ``value`` the share ``step`` of ``delta``; a whole-number feature rounds on in the move's direction."""
    moved = value + step * delta
    if whole:
        moved = np.where(delta < 0, np.floor(moved), np.ceil(moved))
    return moved


def _search(X, names, moves, whole, candidates, target_rank, searchable, model, master_scale):
    """Score every candidate of every searchable row.

    Returns the index of the first successful candidate (-1 for none), the best
    grade position any candidate reached and the PD of the successful candidate.
    """
    n_rows = X.shape[0]
    found = np.full(n_rows, -1)
    best_rank = np.full(n_rows, np.nan)
    found_pd = np.full(n_rows, np.nan)
    rows = np.flatnonzero(searchable)
    if rows.size == 0:
        return found, best_rank, found_pd
    base = X[rows]
    stacked, changed = [], []
    for candidate in candidates:
        moved = base.copy()
        any_move = np.zeros(rows.size, dtype=bool)
        for action in candidate.actions:
            for j, delta in moves[action]:
                moved[:, j] = _moved(base[:, j], candidate.step, delta[rows], j in whole)
                any_move |= delta[rows] != 0
        stacked.append(moved)
        changed.append(any_move)
    matrix = np.concatenate(stacked, axis=0)
    rank, probabilities = _ranks(matrix, names, model, master_scale)
    rank = rank.reshape(len(candidates), rows.size)
    probabilities = probabilities.reshape(len(candidates), rows.size)
    changed = np.asarray(changed)
    success = (rank <= target_rank[rows][None, :]) & changed
    first = np.where(success.any(axis=0), success.argmax(axis=0), -1)
    found[rows] = first
    hit = first >= 0
    found_pd[rows[hit]] = probabilities[first[hit], np.flatnonzero(hit)]
    # The best grade over the candidates that move anything; rows with no such candidate stay NaN.
    reached = np.where(changed, rank, np.inf).min(axis=0)
    best_rank[rows] = np.where(np.isfinite(reached), reached, np.nan)
    return found, best_rank, found_pd


def _ranks(matrix: np.ndarray, names: list[str], model, master_scale) -> np.ndarray:
    """Grade position and PD of each candidate row, with the model's default definition re-applied."""
    probabilities = model.calibrate(model.raw_margin(matrix))
    definition = model.default_definition
    dpd = matrix[:, names.index("max_dpd_now")] if "max_dpd_now" in names else np.zeros(len(matrix))
    overdue = matrix[:, names.index("overdue_amount")] if "overdue_amount" in names else np.zeros(len(matrix))
    with np.errstate(invalid="ignore"):
        past_due = (dpd >= definition["dpd_threshold"]) & (overdue >= definition["min_amount"])
    grades = master_scale.assign_grades(probabilities, past_due)
    return grade_notches(list(grades), master_scale.grade_order), probabilities


def _describe(i, features, found, best_rank, found_pd, candidates, moves, whole, X, names, target, current,
              target_rank, current_rank, event, order, params, base_currency) -> tuple:
    customer_id = features["customer_id"].iloc[i]
    if pd.isna(target_rank):
        return (customer_id, False, *flag_texts("restore.no_target"), "[]")
    if event:
        return (customer_id, False, *flag_texts("restore.default_event", target=target), "[]")
    if not current_rank > target_rank:
        return (customer_id, False, *flag_texts("restore.grade_not_worse", grade=current, target=target), "[]")
    action_names = list(params.restore_actions)
    if found < 0:
        if np.isnan(best_rank):
            return (customer_id, False, *flag_texts("restore.no_action_applies",
                                                actions=_actions_text(action_names, _JOIN)), "[]")
        texts = flag_texts("restore.infeasible", actions=_actions_text(action_names, _JOIN),
                      max_actions=params.restore_max_actions, best=order[int(best_rank)],
                      current=current, target=target)
        return (customer_id, False, *texts, "[]")

    candidate = candidates[found]
    changes = []
    for action in candidate.actions:
        for j, delta in moves[action]:
            if delta[i] != 0:
                after = _moved(X[i:i + 1, j], candidate.step, delta[i:i + 1], j in whole)[0]
                changes.append((names[j], float(X[i, j]), float(after)))
    texts = flag_texts(
        "restore.feasible", target=target, actions=_actions_text(list(candidate.actions)),
        changes=lambda loc: _JOIN[loc].join(_change_text(f, b, a, loc, base_currency) for f, b, a in changes),
        pd=lambda loc: format_value(found_pd, "percent", locale=loc),
    )
    payload = json.dumps([{"feature": f, "from": b, "to": a} for f, b, a in changes],
                         ensure_ascii=False)
    return (customer_id, True, *texts, payload)


def _change_text(feature: str, before: float, after: float, locale: str, base_currency: str | None) -> str:
    spec = _SPECS.get(feature)
    unit = spec.unit if spec else "ratio"
    label = feature
    if spec is not None:
        label = spec.label_zh if locale == "zh_CN" else spec.label_en
    key = "restore.change" if after < before else "restore.change_up"
    return translate(key, locale, label=label,
                     before=format_value(before, unit, locale=locale, base_currency=base_currency),
                     after=format_value(after, unit, locale=locale, base_currency=base_currency))


def _actions_text(actions: list[str], separators: dict[str, str] = _AND):
    def render(locale: str) -> str:
        return separators[locale].join(translate(f"restore.action.{a}", locale) for a in actions)
    return render
