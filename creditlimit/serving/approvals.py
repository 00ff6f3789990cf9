"""Maker-checker approval of limit decisions, recorded in the decision ledger.

A scoring run is the maker: it appends one ``decision`` record per customer.
Increases larger than ``ledger.max_auto_increase`` (base currency; a new
customer's whole first limit counts as its increase) and every suspension need a
checker: they wait in the approval queue until someone other
than the maker appends an ``approved`` or ``rejected`` record. Only decisions
that need no approval, or that were approved, become effective limits. A
rejected or still-pending decision leaves the customer's last effective limit in
force.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import ParamsError
from creditlimit.i18n import register
from creditlimit.serving.ledger import append_records, iter_records, last_record, read_records

__all__ = [
    "ApprovalParams",
    "approve",
    "approval_queue",
    "decision_records",
    "effective_limits",
    "find_run_anchor",
    "record_run_decisions",
    "reject",
]

DECISION = "decision"
APPROVED = "approved"
REJECTED = "rejected"

register({
    "approvals.param_invalid": {
        "en": "ledger.{name} must be {rule}; got {value!r}. Fix it in params.yaml.",
        "zh_CN": "ledger.{name} 必须{rule_zh}；实际为 {value!r}。请在 params.yaml 中修改。",
    },
    "approvals.unknown_decision": {
        "en": "Decision {decision_id} is not in the ledger. List the queue with `creditlimit approvals`.",
        "zh_CN": "台账中没有决策 {decision_id}。可用 `creditlimit approvals` 查看待审批队列。",
    },
    "approvals.not_required": {
        "en": "Decision {decision_id} ({action}) needs no approval: it is effective as proposed.",
        "zh_CN": "决策 {decision_id}（{action}）无需审批：已按提议生效。",
    },
    "approvals.already_decided": {
        "en": "Decision {decision_id} was already {outcome} by {by}. A decision is approved or rejected once.",
        "zh_CN": "决策 {decision_id} 已由 {by} {outcome_zh}。每项决策只能审批或拒绝一次。",
    },
    "approvals.same_person": {
        "en": "{by} made decision {decision_id} and cannot also check it. Another person must approve or reject it.",
        "zh_CN": "{by} 是决策 {decision_id} 的发起人，不能同时审核。请由其他人批准或拒绝。",
    },
    "approvals.superseded": {
        "en": "Decision {decision_id} is superseded by decision {later} (as of {as_of}) for the same customer. Approve or reject the later one.",
        "zh_CN": "决策 {decision_id} 已被同一客户的决策 {later}（评估日 {as_of}）取代。请审批较新的决策。",
    },
    "approvals.missing_name": {
        "en": "Give the approver's name with --by NAME.",
        "zh_CN": "请用 --by NAME 指定审批人姓名。",
    },
    "approvals.missing_reason": {
        "en": "Give the reason for rejecting with --reason TEXT.",
        "zh_CN": "请用 --reason TEXT 说明拒绝原因。",
    },
})


@dataclass(frozen=True)
class ApprovalParams:
    """Approval rules from the ``ledger`` params section: the amount and the actions that need a checker."""

    max_auto_increase: float
    suspensions_need_approval: bool = True

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> ApprovalParams:
        limit = mapping.get("max_auto_increase")
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not math.isfinite(limit) or limit < 0:
            raise ParamsError("approvals.param_invalid", name="max_auto_increase", value=limit,
                              rule="a number >= 0 (base currency)", rule_zh="是大于等于 0 的数值（本位币）")
        suspensions = mapping.get("suspensions_need_approval", True)
        if not isinstance(suspensions, bool):
            raise ParamsError("approvals.param_invalid", name="suspensions_need_approval", value=suspensions,
                              rule="true or false", rule_zh="为 true 或 false")
        return cls(max_auto_increase=float(limit), suspensions_need_approval=suspensions)


def decision_records(limits: pd.DataFrame, *, run_id: str, made_by: str,
                     params: ApprovalParams) -> list[dict]:
    """Build one ``decision`` ledger record per row of a run's limits frame, in customer order.

    Columns are read whole and the records zipped from them, because a row loop
    over a million text columns costs more than the ledger's hashing.
    """
    frame = limits.sort_values("customer_id", kind="stable")
    rows = len(frame)
    before, after = frame["current_limit"].to_numpy(dtype=float), frame["new_limit"].to_numpy(dtype=float)
    actions = [str(action) for action in frame["action"].tolist()]
    # A new customer has no current limit, so its whole new limit is the increase.
    increase = np.nan_to_num(after, nan=0.0) - np.nan_to_num(before, nan=0.0)
    action_array = np.array(actions, dtype=object)
    needs_approval = ((np.isin(action_array, ("increase", "new")) & (increase > params.max_auto_increase))
                      | ((action_array == "suspend") & params.suspensions_need_approval))
    columns = {
        "customer_id": [str(value) for value in frame["customer_id"].tolist()],
        "as_of": _iso_dates(frame["as_of"]),
        "limit_before": _json_numbers(before),
        "limit_after": _json_numbers(after),
        "action": actions,
        "effective_on": _iso_dates(frame["effective_on"]) if "effective_on" in frame else [None] * rows,
        "model_version": [str(value) for value in frame["model_version"].tolist()],
        "policy_version": ([str(value) for value in frame["policy_version"].tolist()]
                           if "policy_version" in frame else [""] * rows),
        "reason_codes": _reason_code_lists(frame),
        "approval": ["required" if needed else "auto" for needed in needs_approval],
    }
    return [
        {"decision_id": f"{run_id}-{customer}", "kind": DECISION, "customer_id": customer, "as_of": as_of,
         "run_id": run_id, "limit_before": limit_before, "limit_after": limit_after, "action": action,
         "effective_on": effective_on, "model_version": model_version, "policy_version": policy_version,
         "reason_codes": reason_codes, "made_by": made_by, "approval": approval}
        for customer, as_of, limit_before, limit_after, action, effective_on, model_version, policy_version,
        reason_codes, approval in zip(*columns.values())
    ]


def record_run_decisions(url: str, limits: pd.DataFrame | Iterable[pd.DataFrame], *, run_id: str,
                         made_by: str, params: ApprovalParams) -> dict:
    """Append a run's decisions unless the ledger already has them; return the run's ledger anchor.

    ``limits`` is the run's limits frame, or an iterable of its parts (read batch
    by batch from a large run's file). The run id is a hash of the inputs, params
    and model, so scoring the same inputs again appends nothing: reruns stay
    idempotent. The anchor names the sequence number and hash of the run's last
    decision record, the same on every rerun, so the run manifest can carry it
    and ``audit verify`` can check it.
    """
    anchor = find_run_anchor(url, run_id)
    if anchor is None:
        parts = [limits] if isinstance(limits, pd.DataFrame) else limits
        records = (record for part in parts
                   for record in decision_records(part, run_id=run_id, made_by=made_by, params=params))
        append_records(url, records)
        anchor = find_run_anchor(url, run_id)
    return anchor or {"run_id": run_id, "count": 0, "hash": "", "decisions": 0}


def find_run_anchor(url: str, run_id: str) -> dict | None:
    """Return the ledger anchor of a run already recorded, or None (replay appends nothing)."""
    found = last_record(url, run_id=run_id, kind=DECISION)
    if found is None:
        return None
    decisions, last = found
    return {"run_id": run_id, "count": last["seq"], "hash": last["hash"], "decisions": decisions}


def approve(url: str, decision_id: str, *, by: str, note: str = "") -> dict:
    """Append an ``approved`` record for a queued decision and return it."""
    if not by.strip():
        raise ParamsError("approvals.missing_name")
    return _check_and_append(url, decision_id, kind=APPROVED, by=by.strip(), note=note)


def reject(url: str, decision_id: str, *, by: str, reason: str) -> dict:
    """Append a ``rejected`` record for a queued decision and return it."""
    if not by.strip():
        raise ParamsError("approvals.missing_name")
    if not reason.strip():
        raise ParamsError("approvals.missing_reason")
    return _check_and_append(url, decision_id, kind=REJECTED, by=by.strip(), note=reason.strip())


def approval_queue(url: str) -> pd.DataFrame:
    """List decisions that need approval, have neither approval nor rejection, and are not superseded.

    A decision is superseded when a later run (a later as-of date, or a later run
    of the same date) decided on the same customer.
    """
    records = read_records(url)
    checked = {r["decision_id"] for r in records if r["kind"] in (APPROVED, REJECTED)}
    latest = _latest_decisions(records)
    pending = [r for r in records
               if r["kind"] == DECISION and r["approval"] == "required" and r["decision_id"] not in checked
               and latest[r["customer_id"]]["decision_id"] == r["decision_id"]]
    columns = ["decision_id", "customer_id", "as_of", "action", "limit_before", "limit_after",
               "effective_on", "made_by", "reason_codes"]
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in pending], columns=columns)


def effective_limits(url: str, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Return each customer's limit in force: its latest decision that needs no approval or was approved.

    A customer whose decisions all wait for approval or were rejected keeps the
    limit it had when first decided (``limit_before``, ``approved_by`` = ``unchanged``).
    ``pending_decision_id`` names a decision newer than the one in force that still
    waits for a checker (empty when none), so a limit in force is never mistaken
    for the proposal behind it. Decisions after ``as_of`` (when given) are ignored.
    The ``effective_on`` column carries the date a pending decrease takes effect.
    """
    outcomes = {r["decision_id"]: r for r in iter_records(url, kinds=(APPROVED, REJECTED))}
    latest: dict[str, tuple] = {}
    pending: dict[str, str] = {}
    for record in iter_records(url, kinds=(DECISION,)):
        if as_of and record["as_of"] > as_of.isoformat():
            continue
        outcome = outcomes.get(record["decision_id"])
        customer = record["customer_id"]
        if record["approval"] == "auto" or (outcome and outcome["kind"] == APPROVED):
            approved_by = outcome["by"] if outcome else "auto"
            latest[customer] = _in_force(record, record["limit_after"], record["action"],
                                         record["effective_on"], approved_by)
            pending.pop(customer, None)
            continue
        if outcome is None:
            pending[customer] = record["decision_id"]
        if customer not in latest:
            latest[customer] = _in_force(record, record["limit_before"], "hold", record["as_of"], "unchanged")
    columns = ["customer_id", "limit", "effective_on", "decision_id", "as_of", "action", "approved_by",
               "pending_decision_id"]
    rows = [(customer, *kept, pending.get(customer)) for customer, kept in sorted(latest.items())]
    return pd.DataFrame(rows, columns=columns)


def _in_force(record: dict, limit, action: str, effective_on, approved_by: str) -> tuple:
    """Keep the few fields of a decision in force (a tuple: a large book keeps one per customer)."""
    return limit, effective_on, record["decision_id"], record["as_of"], action, approved_by


def _latest_decisions(records: list[dict]) -> dict[str, dict]:
    """Return each customer's latest decision record, by as-of date and then ledger order."""
    latest: dict[str, dict] = {}
    for record in records:
        if record["kind"] != DECISION:
            continue
        current = latest.get(record["customer_id"])
        if current is None or record["as_of"] >= current["as_of"]:
            latest[record["customer_id"]] = record
    return latest


def _check_and_append(url: str, decision_id: str, *, kind: str, by: str, note: str) -> dict:
    records = read_records(url, decision_id=decision_id)
    decision = next((r for r in records if r["kind"] == DECISION), None)
    if decision is None:
        raise ParamsError("approvals.unknown_decision", decision_id=decision_id)
    if decision["approval"] != "required":
        raise ParamsError("approvals.not_required", decision_id=decision_id, action=decision["action"])
    outcome = next((r for r in records if r["kind"] in (APPROVED, REJECTED)), None)
    if outcome is not None:
        raise ParamsError("approvals.already_decided", decision_id=decision_id, by=outcome["by"],
                             outcome=outcome["kind"],
                             outcome_zh="批准" if outcome["kind"] == APPROVED else "拒绝")
    if by.casefold() == str(decision["made_by"]).strip().casefold():
        raise ParamsError("approvals.same_person", by=by, decision_id=decision_id)
    latest = _latest_decisions(read_records(url, customer_id=decision["customer_id"]))[decision["customer_id"]]
    if latest["decision_id"] != decision_id:
        raise ParamsError("approvals.superseded", decision_id=decision_id, later=latest["decision_id"],
                             as_of=latest["as_of"])
    record = {"decision_id": decision_id, "kind": kind, "customer_id": decision["customer_id"],
              "by": by, "note": note,
              "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    append_records(url, [record])
    return record


def _reason_code_lists(frame: pd.DataFrame) -> list[list[str]]:
    ranks = [frame[f"reason_{rank}"].tolist() if f"reason_{rank}" in frame else [None] * len(frame)
             for rank in (1, 2, 3)]
    return [[code for code in codes if isinstance(code, str) and code] for codes in zip(*ranks)]


def _json_numbers(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(value) else value for value in values.tolist()]


def _iso_dates(values: pd.Series) -> list[str | None]:
    text = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
    return [None if pd.isna(value) else value for value in text.tolist()]
