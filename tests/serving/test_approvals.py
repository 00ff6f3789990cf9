import datetime as dt

import pandas as pd
import pytest

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.serving.approvals import (
    ApprovalParams, approval_queue, approve, decision_records, effective_limits,
    record_run_decisions, reject,
)
from creditlimit.serving.ledger import read_records, verify_ledger

PARAMS = ApprovalParams(max_auto_increase=100_000.0)


def _limits(as_of="2026-01-01", rows=None):
    rows = rows or [
        ("C1", 50_000.0, 60_000.0, "increase"),     # small increase: auto
        ("C2", 100_000.0, 400_000.0, "increase"),   # large increase: approval
        ("C3", 200_000.0, 0.0, "suspend"),           # suspension: approval
        ("C4", 80_000.0, 60_000.0, "decrease"),     # decrease: auto
        ("C5", None, 150_000.0, "new"),               # new customer above the amount
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "current_limit", "new_limit", "action"])
    frame["as_of"] = pd.Timestamp(as_of)
    frame["effective_on"] = pd.Timestamp(as_of)
    frame["model_version"] = "3"
    frame["policy_version"] = "2026.1"
    frame["reason_1"] = "max_dpd_now"
    frame["reason_2"] = None
    return frame


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    record_run_decisions(url, _limits(), run_id="run1", made_by="system", params=PARAMS)
    return url


def test_decisions_mark_which_need_approval():
    records = decision_records(_limits(), run_id="r", made_by="system", params=PARAMS)
    approval = {r["customer_id"]: r["approval"] for r in records}
    assert approval == {"C1": "auto", "C2": "required", "C3": "required", "C4": "auto", "C5": "required"}


def test_decision_record_fields():
    record = decision_records(_limits(), run_id="r", made_by="system", params=PARAMS)[0]
    assert record["decision_id"] == "r-C1"
    assert record["limit_before"] == 50_000.0
    assert record["limit_after"] == 60_000.0
    assert record["reason_codes"] == ["max_dpd_now"]
    assert record["effective_on"] == "2026-01-01"


def test_rerun_appends_nothing(url):
    count = len(read_records(url))
    anchor = record_run_decisions(url, _limits(), run_id="run1", made_by="system", params=PARAMS)
    assert len(read_records(url)) == count
    assert anchor["count"] == 5
    assert anchor["decisions"] == 5
    assert anchor["hash"] == read_records(url)[4]["hash"]


def test_queue_lists_pending_decisions(url):
    queue = approval_queue(url)
    assert sorted(queue["customer_id"]) == ["C2", "C3", "C5"]


def test_only_approved_changes_become_effective(url):
    effective = effective_limits(url).set_index("customer_id")
    assert effective.loc["C1", "limit"] == 60_000.0
    assert effective.loc["C2", "limit"] == 100_000.0
    assert effective.loc["C2", "approved_by"] == "unchanged"
    approve(url, "run1-C2", by="checker")
    reject(url, "run1-C3", by="checker", reason="collateral pledged")
    effective = effective_limits(url).set_index("customer_id")
    assert effective.loc["C2", "limit"] == 400_000.0
    assert effective.loc["C2", "approved_by"] == "checker"
    assert effective.loc["C3", "limit"] == 200_000.0
    assert sorted(approval_queue(url)["customer_id"]) == ["C5"]
    assert verify_ledger(url) is None


def test_rejected_decision_keeps_earlier_limit(url):
    approve(url, "run1-C2", by="checker")
    later = _limits("2026-02-01", rows=[("C2", 400_000.0, 900_000.0, "increase")])
    record_run_decisions(url, later, run_id="run2", made_by="system", params=PARAMS)
    reject(url, "run2-C2", by="checker", reason="no collateral")
    effective = effective_limits(url).set_index("customer_id")
    assert effective.loc["C2", "limit"] == 400_000.0


def test_effective_limits_as_of(url):
    later = _limits("2026-02-01", rows=[("C1", 60_000.0, 70_000.0, "increase")])
    record_run_decisions(url, later, run_id="run2", made_by="system", params=PARAMS)
    assert effective_limits(url).set_index("customer_id").loc["C1", "limit"] == 70_000.0
    before = effective_limits(url, as_of=dt.date(2026, 1, 15)).set_index("customer_id")
    assert before.loc["C1", "limit"] == 60_000.0


def test_maker_cannot_check(url):
    with pytest.raises(ParamsError, match="Another person") as error:
        approve(url, "run1-C2", by="system")
    with use_locale("zh_CN"):
        assert "不能同时审核" in str(error.value)


def test_decided_once(url):
    approve(url, "run1-C2", by="checker")
    with pytest.raises(ParamsError, match="already approved by checker"):
        reject(url, "run1-C2", by="other", reason="late")


def test_unknown_decision(url):
    with pytest.raises(ParamsError, match="not in the ledger"):
        approve(url, "nope", by="checker")


def test_auto_decision_needs_no_approval(url):
    with pytest.raises(ParamsError, match="needs no approval"):
        approve(url, "run1-C1", by="checker")


def test_reject_needs_reason(url):
    with pytest.raises(ParamsError, match="--reason"):
        reject(url, "run1-C2", by="checker", reason=" ")


def test_params_rejects_negative_amount():
    with pytest.raises(ParamsError, match="max_auto_increase"):
        ApprovalParams.from_mapping({"max_auto_increase": -1})
    assert ApprovalParams.from_mapping({"max_auto_increase": 5}).suspensions_need_approval


def test_maker_check_ignores_case(url):
    with pytest.raises(ParamsError, match="Another person"):
        approve(url, "run1-C2", by=" SYSTEM ")


def test_effective_limits_name_pending_decision(url):
    """A decision waiting for a checker is named beside the limit in force, until its outcome."""
    effective = effective_limits(url).set_index("customer_id")
    assert effective.loc["C2", "pending_decision_id"] == "run1-C2"
    assert pd.isna(effective.loc["C1", "pending_decision_id"])
    approve(url, "run1-C2", by="checker")
    reject(url, "run1-C3", by="checker", reason="collateral pledged")
    effective = effective_limits(url).set_index("customer_id")
    assert pd.isna(effective.loc["C2", "pending_decision_id"])
    assert pd.isna(effective.loc["C3", "pending_decision_id"])


def test_later_pending_increase_keeps_limit_in_force(url):
    """An automatic decision stays in force while a later increase waits, and the wait is shown."""
    later = _limits("2026-02-01", rows=[("C1", 60_000.0, 900_000.0, "increase")])
    record_run_decisions(url, later, run_id="run2", made_by="system", params=PARAMS)
    effective = effective_limits(url).set_index("customer_id")
    assert effective.loc["C1", "limit"] == 60_000.0
    assert effective.loc["C1", "decision_id"] == "run1-C1"
    assert effective.loc["C1", "pending_decision_id"] == "run2-C1"


def test_superseded_decision_cannot_be_approved(url):
    later = _limits("2026-02-01", rows=[("C2", 100_000.0, 300_000.0, "increase")])
    record_run_decisions(url, later, run_id="run2", made_by="system", params=PARAMS)
    with pytest.raises(ParamsError, match="superseded by decision run2-C2"):
        approve(url, "run1-C2", by="checker")
    queue = approval_queue(url)
    assert "run1-C2" not in set(queue["decision_id"])
    assert "run2-C2" in set(queue["decision_id"])


def test_rejected_customer_keeps_limit_in_force(url):
    reject(url, "run1-C2", by="checker", reason="no collateral")
    effective = effective_limits(url).set_index("customer_id")
    assert effective.loc["C2", "limit"] == 100_000.0
    assert effective.loc["C2", "approved_by"] == "unchanged"
