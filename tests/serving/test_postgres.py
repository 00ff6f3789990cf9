"""Publishing, the decision ledger and approvals against a real PostgreSQL server."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from creditlimit.errors import PublishError
from creditlimit.serving.approvals import ApprovalParams, approve, effective_limits, record_run_decisions
from creditlimit.serving.ledger import append_records, read_records, verify_ledger
from creditlimit.serving.publish import publish_to_database
from postgres import postgres_url  # noqa: F401 - fixture

AS_OF = date(2026, 1, 1)


def _limits(customers=("C1", "C2"), limit=100_000.0) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": list(customers),
        "new_limit": [limit] * len(customers),
        "action": ["hold"] * len(customers),
        "effective_on": pd.to_datetime(["2026-01-31"] * len(customers)),
        "notice_zh": ["额度调整"] + [None] * (len(customers) - 1),
    })


def _rows(url: str, table: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = sa.text(f"SELECT customer_id, new_limit, as_of, run_id FROM {table} ORDER BY as_of, customer_id")
            return [tuple(row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def test_publish_keeps_earlier_runs(postgres_url):
    publish_to_database(postgres_url, {"credit_limits": _limits()}, as_of=date(2025, 12, 1), run_id="r0")
    publish_to_database(postgres_url, {"credit_limits": _limits(limit=5.0)}, as_of=AS_OF, run_id="r1")
    rows = _rows(postgres_url, "credit_limits")
    assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [
        ("C1", 100_000.0, "2025-12-01", "r0"), ("C2", 100_000.0, "2025-12-01", "r0"),
        ("C1", 5.0, "2026-01-01", "r1"), ("C2", 5.0, "2026-01-01", "r1"),
    ]


def test_publish_failure_keeps_previous_state(postgres_url):
    publish_to_database(postgres_url, {"credit_limits": _limits()}, as_of=AS_OF, run_id="r1")
    before = _rows(postgres_url, "credit_limits")
    broken = pd.DataFrame({"customer_id": ["C1"], "code": ["x"], "payload": [object()]})
    with pytest.raises(PublishError):
        publish_to_database(postgres_url, {"credit_limits": _limits(("C9",)), "risk_flags": broken},
                            as_of=AS_OF, run_id="r2")
    assert _rows(postgres_url, "credit_limits") == before
    engine = sa.create_engine(postgres_url)
    try:
        assert "risk_flags" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_ledger_detects_edit(postgres_url):
    append_records(postgres_url, [{"decision_id": f"D{n}", "kind": "decision", "customer_id": f"C{n}",
                                   "limit_after": 1000.0 * n} for n in range(1, 5)])
    assert verify_ledger(postgres_url) is None
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE decision_ledger SET payload = replace(payload, '3000.0', '1.0') WHERE seq = 3"))
    engine.dispose()
    problem = verify_ledger(postgres_url)
    assert problem.seq == 3
    assert problem.key == "ledger.problem.bad_hash"


def test_approvals_on_postgres(postgres_url):
    limits = pd.DataFrame({
        "customer_id": ["C1", "C2"], "current_limit": [10.0, 10.0], "new_limit": [20.0, 900_000.0],
        "action": ["increase", "increase"], "as_of": pd.Timestamp(AS_OF), "effective_on": pd.Timestamp(AS_OF),
        "model_version": "1", "policy_version": "p",
    })
    params = ApprovalParams(max_auto_increase=1000.0)
    record_run_decisions(postgres_url, limits, run_id="r1", made_by="system", params=params)
    assert list(effective_limits(postgres_url)["limit"]) == [20.0, 10.0]
    approve(postgres_url, "r1-C2", by="checker")
    assert list(effective_limits(postgres_url)["limit"]) == [20.0, 900_000.0]
    assert len(read_records(postgres_url)) == 3
    assert verify_ledger(postgres_url) is None
