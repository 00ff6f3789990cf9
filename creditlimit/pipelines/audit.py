"""Commands on the decision ledger: verify, approval queue, approve, reject, lineage."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from creditlimit.errors import InputDataError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.params import load_params, section

__all__ = ["approve_decision", "print_lineage", "print_queue", "reject_decision", "verify"]

register({
    "audit.ok": {
        "en": "Ledger {url} is intact: {count} records, last hash {hash}; {anchors} run manifest(s) match.",
        "zh_CN": "台账 {url} 完整：共 {count} 条记录，末尾哈希 {hash}；{anchors} 个运行清单一致。",
    },
    "audit.broken": {
        "en": "Ledger {url} failed verification at the first bad record: {problem}",
        "zh_CN": "台账 {url} 校验失败，第一处问题：{problem}",
    },
    "audit.queue_empty": {
        "en": "No decision waits for approval.",
        "zh_CN": "没有待审批的决策。",
    },
    "audit.queue_header": {
        "en": "{count} decision(s) wait for approval:",
        "zh_CN": "共有 {count} 项决策待审批：",
    },
    "audit.queue_row": {
        "en": "{decision_id}  customer {customer_id}  {action}  {before} -> {after}  as of {as_of}",
        "zh_CN": "{decision_id}  客户 {customer_id}  {action}  {before} -> {after}  评估日 {as_of}",
    },
    "audit.approved": {
        "en": "Decision {decision_id} approved by {by}; it is now an effective limit.",
        "zh_CN": "决策 {decision_id} 已由 {by} 批准，现为生效额度。",
    },
    "audit.rejected": {
        "en": "Decision {decision_id} rejected by {by} ({reason}); the earlier effective limit stays.",
        "zh_CN": "决策 {decision_id} 已被 {by} 拒绝（{reason}）；原生效额度保持不变。",
    },
    "audit.ledger_failed": {
        "en": "The decision ledger is not intact, so nothing was recorded: {problem}. Run `creditlimit audit verify`.",
        "zh_CN": "决策台账不完整，未记录任何内容：{problem}。请运行 `creditlimit audit verify`。",
    },
    "lineage.no_run": {
        "en": "No scoring run as of {as_of} in {folder}. List runs with `ls {root}`.",
        "zh_CN": "{folder} 中没有 {as_of} 的评分结果。可用 `ls {root}` 查看已有运行。",
    },
    "lineage.no_customer": {
        "en": "Customer {customer_id} is not in the run as of {as_of} ({path}).",
        "zh_CN": "评估日 {as_of} 的运行中没有客户 {customer_id}（{path}）。",
    },
})


def ledger_url(params: dict) -> str:
    """Ledger database URL from the ``ledger`` params section."""
    return str(section(params, "ledger.database_url"))


def verify(*, params_path: Path, scores_root: Path) -> None:
    """Verify the chain against every run manifest's ledger anchor; raise on the first problem."""
    from creditlimit.serving.ledger import ledger_head, verify_ledger

    url = ledger_url(load_params(params_path))
    anchors = _manifest_anchors(scores_root)
    problem = verify_ledger(url, anchors=anchors)
    if problem is not None:
        raise InputDataError("audit.broken", url=url, problem=problem.text())
    head = ledger_head(url)
    print(translate("audit.ok", url=url, count=head.count, hash=head.last_hash[:12], anchors=len(anchors)))


def print_queue(*, params_path: Path) -> None:
    """Print the decisions waiting for a checker."""
    from creditlimit.serving.approvals import approval_queue

    queue = approval_queue(ledger_url(load_params(params_path)))
    if queue.empty:
        print(translate("audit.queue_empty"))
        return
    print(translate("audit.queue_header", count=len(queue)))
    for row in queue.itertuples(index=False):
        print(translate("audit.queue_row", decision_id=row.decision_id, customer_id=row.customer_id,
                        action=row.action, before=_amount(row.limit_before), after=_amount(row.limit_after),
                        as_of=row.as_of))


def approve_decision(*, params_path: Path, decision_id: str, by: str, note: str) -> None:
    """Approve one queued decision after checking the chain is intact."""
    from creditlimit.serving.approvals import approve

    url = _intact_ledger_url(params_path)
    record = approve(url, decision_id, by=by, note=note)
    _republish_effective_limits(params_path, url, decision_id)
    print(translate("audit.approved", decision_id=record["decision_id"], by=by))


def reject_decision(*, params_path: Path, decision_id: str, by: str, reason: str) -> None:
    """Reject one queued decision after checking the chain is intact."""
    from creditlimit.serving.approvals import reject

    url = _intact_ledger_url(params_path)
    reject(url, decision_id, by=by, reason=reason)
    _republish_effective_limits(params_path, url, decision_id)
    print(translate("audit.rejected", decision_id=decision_id, by=by, reason=reason))


def print_lineage(*, params_path: Path, customer_id: str, as_of: dt.date, scores_root: Path) -> None:
    """Print the chain behind one decision: inputs, model, params, policy, code, features, decision, ledger."""
    print(json.dumps(lineage(params_path=params_path, customer_id=customer_id, as_of=as_of,
                             scores_root=scores_root),
                     indent=2, ensure_ascii=False, sort_keys=False, default=str))


def lineage(*, params_path: Path, customer_id: str, as_of: dt.date, scores_root: Path) -> dict[str, Any]:
    """Collect what one decision rests on, from the run folder and the ledger."""
    import pandas as pd

    from creditlimit.serving.ledger import read_records

    folder = scores_root / f"as_of={as_of.isoformat()}"
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise InputDataError("lineage.no_run", as_of=as_of, folder=folder, root=scores_root)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    limits = pd.read_parquet(folder / "limits.parquet")
    row = limits[limits["customer_id"] == customer_id]
    if row.empty:
        raise InputDataError("lineage.no_customer", customer_id=customer_id, as_of=as_of,
                             path=folder / "limits.parquet")
    decision = row.iloc[0].to_dict()
    calculation_log = decision.pop("calculation_log", None)
    return {
        "customer_id": customer_id,
        "run": {key: manifest.get(key) for key in
                ("run_id", "as_of", "params_hash", "policy_version", "code_version", "ledger")},
        "inputs": manifest.get("inputs"),
        "raw_inputs": manifest.get("raw_inputs"),
        "model": manifest.get("model"),
        "features": _customer_features(folder, customer_id),
        "decision": {key: value for key, value in decision.items() if not _is_missing(value)},
        "calculation_log": json.loads(calculation_log) if isinstance(calculation_log, str) else calculation_log,
        "reasons": _customer_rows(folder / "explanations.parquet", customer_id),
        "flags": _customer_rows(folder / "flags.parquet", customer_id),
        "ledger": read_records(ledger_url(load_params(params_path)), customer_id=customer_id),
    }


def _customer_features(folder: Path, customer_id: str) -> dict | None:
    rows = _customer_rows(folder / "features.parquet", customer_id)
    return rows[0] if rows else None


def _customer_rows(path: Path, customer_id: str) -> list[dict]:
    import pandas as pd

    if not path.is_file():
        return []
    frame = pd.read_parquet(path)
    frame = frame[frame["customer_id"] == customer_id]
    return [{k: v for k, v in record.items() if not _is_missing(v)} for record in frame.to_dict("records")]


def _republish_effective_limits(params_path: Path, url: str, decision_id: str) -> None:
    """Replace the published effective limits of the decision's as-of date, now that its outcome is known."""
    from creditlimit.serving.approvals import effective_limits
    from creditlimit.serving.ledger import read_records
    from creditlimit.serving.publish import publish_to_database

    decision = next(r for r in read_records(url, decision_id=decision_id) if r["kind"] == "decision")
    as_of = dt.date.fromisoformat(decision["as_of"])
    frame = effective_limits(url, as_of=as_of).rename(columns={"as_of": "decided_as_of"})
    database_url = str(section(load_params(params_path), "score.database_url"))
    publish_to_database(database_url, {"effective_limits": frame}, as_of=as_of, run_id=decision["run_id"])


def _manifest_anchors(scores_root: Path) -> list[dict]:
    anchors = []
    for path in sorted(scores_root.glob("as_of=*/manifest.json")):
        ledger = json.loads(path.read_text(encoding="utf-8")).get("ledger")
        if ledger:
            anchors.append({"run_id": ledger.get("run_id", path.parent.name), **ledger})
    return anchors


def _intact_ledger_url(params_path: Path) -> str:
    from creditlimit.serving.ledger import verify_ledger

    url = ledger_url(load_params(params_path))
    problem = verify_ledger(url)
    if problem is not None:
        raise InputDataError("audit.ledger_failed", problem=problem.text())
    return url


def _amount(value: object) -> str:
    if value is None or value != value:  # None or NaN: a new customer has no limit before
        return "-"
    return f"{float(value):,.0f}"


def _is_missing(value: object) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, list | dict | tuple) else False
    except (TypeError, ValueError):
        return False
