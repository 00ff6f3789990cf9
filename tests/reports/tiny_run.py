"""A hand-made three-customer run for the report tests (imported by the test modules)."""

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from creditlimit.reports.inputs import ReportInputs, RunOutputs
from creditlimit.reports.params import ReportParams


AS_OF = dt.date(2026, 1, 1)
PREVIOUS = dt.date(2025, 12, 1)
REPORT_PARAMS = {
    "locales": ["zh_CN", "en"], "history_months": 6, "top_movers": 2, "ageing_bucket_days": [30, 60, 90],
    "psi_warning": 0.1, "psi_alert": 0.25, "psi_bins": 4, "review_horizon_days": 90, "waterfall_features": 2,
}
FEATURES = ("debt_to_assets", "max_dpd_now", "industry")


def report_params() -> ReportParams:
    """The report section used with the tiny run."""
    return ReportParams.from_mapping(REPORT_PARAMS)


def _limits(as_of: dt.date, *, new_limits: tuple[float, float, float], grades: tuple[str, str, str]) -> pd.DataFrame:
    log = {"inputs": {"open_exposure": 120000.0, "industry": "retail"},
           "steps": {"need_limit": 150000.0, "grade_factor": 0.9, "binding_rule": "need", "action": "decrease"}}
    frame = pd.DataFrame({
        "customer_id": ["C1", "C2", "C3"],
        "as_of": pd.Timestamp(as_of),
        "run_id": "run-1",
        "model_version": "5",
        "pd_12m": [0.081, 0.004, 0.02],
        "raw_margin": [-2.43, -5.5, -3.9],
        "grade": list(grades),
        "current_limit": [200000.0, 50000.0, 0.0],
        "proposed_limit": [140000.0, 50000.0, 30000.0],
        "new_limit": list(new_limits),
        "action": ["decrease", "hold", "new"],
        "effective_on": [pd.Timestamp(as_of) + pd.Timedelta(days=30), pd.Timestamp(as_of), pd.Timestamp(as_of)],
        "needs_review": [False, True, False],
        "exposure": [120000.0, 0.0, np.nan],
        "utilisation": [0.6, 0.0, np.nan],
        "available_credit": [80000.0, 50000.0, 0.0],
        "risk_flags": ["overdue_30", "", ""],
        "binding_rule": ["need", "min_limit", "thin_file_cap"],
        "limit_locked": [False, False, False],
        "is_pending": [True, False, False],
        "review_reason": [None, "stale_statements_for_increase", None],
        "notice_zh": ["客户账户 C1：额度将下调。", None, None],
        "notice_en": ["Customer account C1: your limit will decrease.", None, None],
        "calculation_log": [json.dumps(log)] * 3,
        "reason_1_zh": ["逾期", None, None],
        "additivity_ok": [True, True, True],
    })
    return frame


def _explanations(as_of: dt.date) -> pd.DataFrame:
    rows = []
    for customer, values in (("C1", (0.7, 45.0, "retail")), ("C2", (0.2, 0.0, "services")),
                             ("C3", (np.nan, np.nan, None))):
        for rank, (feature, value) in enumerate(zip(FEATURES, values, strict=True), start=1):
            numeric = feature != "industry"
            rows.append({
                "customer_id": customer, "as_of": pd.Timestamp(as_of), "feature": feature,
                "value": value if numeric else np.nan, "value_category": None if numeric else value,
                "contribution": 0.4 / rank if customer == "C1" else -0.2 / rank, "rank": rank,
                "base_value": -3.0, "text_zh": f"{feature} 推高违约概率" if rank == 1 else None,
                "text_en": f"{feature} raises the PD" if rank == 1 else None, "additivity_ok": True,
            })
    return pd.DataFrame(rows)


def _flags(as_of: dt.date) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C1", "C1"], "as_of": pd.Timestamp(as_of), "code": ["overdue_30", "pd_jump"],
        "severity": ["medium", "high"], "subject": ["max_dpd_now", "pd_12m"], "value": [45.0, 0.081],
        "threshold": [30.0, 0.02], "text_zh": ["逾期45天", "违约概率骤升"],
        "text_en": ["45 days past due", "PD jumped"],
    })


def _history(as_of: dt.date) -> pd.DataFrame:
    from creditlimit.reports.inputs import history_dates

    rows = []
    for day in history_dates(as_of, 6):
        for customer in ("C1", "C2", "C3"):
            known = customer == "C1" or day >= dt.date(2025, 10, 1)
            rows.append({
                "customer_id": customer, "as_of": pd.Timestamp(day),
                "overdue_amount": 15000.0 if customer == "C1" else 0.0, "open_exposure": 100000.0,
                "statement_age_months": 4.0 if known and customer != "C3" else np.nan,
                "debt_to_assets": 0.7 if day < dt.date(2025, 11, 1) else 0.75, "current_ratio": 1.2,
                "quick_ratio": 0.9, "interest_coverage": 3.0, "ocf_to_liabilities": 0.1, "net_margin": 0.05,
                "roa": 0.03, "revenue_growth": np.nan,
            })
    return pd.DataFrame(rows)


def make_inputs(*, with_previous: bool = True, with_optional: bool = True) -> ReportInputs:
    """Build the three-customer run; ``with_optional`` adds the columns and tables other stages add."""
    limits = _limits(AS_OF, new_limits=(140000.0, 50000.0, 30000.0), grades=("7", "2", "4"))
    extra = {}
    if with_optional:
        limits["change_summary_zh"] = ["等级由 5 降至 7：逾期增加。", "", ""]
        limits["change_summary_en"] = ["Grade fell from 5 to 7: more overdue.", "", ""]
        limits["restore_feasible"] = pd.array([True, pd.NA, pd.NA], dtype="boolean")
        limits["restore_zh"] = ["付清逾期款项可恢复原等级。", None, None]
        limits["restore_en"] = ["Paying the overdue amount would restore grade 5.", None, None]
        limits["restore_changes"] = [json.dumps([{"feature": "max_dpd_now", "from": 45, "to": 0}]), None, None]
        limits["next_review_on"] = pd.to_datetime(["2026-06-30", "2026-02-15", "2027-01-01"])
        extra["grade_migration"] = pd.DataFrame({"from_grade": ["5", "2", None], "to_grade": ["7", "2", "4"],
                                                 "customers": [1, 1, 1]})
    run = RunOutputs(as_of=AS_OF, folder=Path("unused"),
                     manifest={"run_id": "run-1", "as_of": AS_OF.isoformat(), "policy_version": "2026.1",
                               "code_version": "0.1.0+test",
                               "model": {"name": "creditlimit-pd", "version": "5", "alias": "champion",
                                         "run_id": "abc", "default_definition": {
                                             "horizon_months": 12, "dpd_threshold": 90, "min_amount": 100.0,
                                             "event_types": ["default"]}}},
                     limits=limits, explanations=_explanations(AS_OF), flags=_flags(AS_OF), extra=extra)
    previous = None
    if with_previous:
        previous_limits = _limits(PREVIOUS, new_limits=(200000.0, 50000.0, 0.0), grades=("5", "2", "4"))
        previous_limits = previous_limits[previous_limits["customer_id"] != "C3"]
        previous = RunOutputs(as_of=PREVIOUS, folder=Path("unused"), manifest={"run_id": "run-0"},
                              limits=previous_limits, explanations=pd.DataFrame(), flags=pd.DataFrame())
    history_frames = [run.limits] + ([previous.limits] if previous is not None else [])
    limit_history = pd.concat(history_frames, ignore_index=True).sort_values(["customer_id", "as_of"])
    return ReportInputs(
        run=run, previous=previous, limit_history=limit_history, history=_history(AS_OF),
        monthly_flows=pd.DataFrame({"customer_id": ["C1", "C1", "C2"],
                                    "month": [dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2025, 12, 1)],
                                    "invoiced": [80000.0, 90000.0, 1000.0], "paid": [70000.0, 60000.0, 1000.0]}),
        ageing=pd.DataFrame({"customer_id": ["C1", "C1", "C2", "C1"], "days_past_due": [-5, 45, 0, 120],
                             "open_amount": [50000.0, 15000.0, 2000.0, 1000.0]}),
        customers=pd.DataFrame({"customer_id": ["C1", "C2", "C3"],
                                "name": ["Acme 有限公司", "<script>alert(1)</script>", None],
                                "industry": ["retail", "services", "retail"], "region": ["east", "west", None]}),
        validation_report={"base_currency": "CNY", "tables": {"invoices": {
            "rows_in": 110, "accepted": 100, "dropped_total": 4, "quarantined_total": 6,
            "quarantined_share": 0.0545, "quarantined": {"unknown_currency": 4, "due_before_issue": 2}}}},
        model_info={"name": "creditlimit-pd", "version": "5"},
        metrics={"oot": {"auc": 0.82, "gini": 0.64, "ks": 0.49}, "stability": {"score_psi": 0.009}},
        training=pd.DataFrame({"debt_to_assets": np.linspace(0.1, 0.9, 40), "max_dpd_now": np.arange(40.0),
                               "industry": ["retail", "services"] * 20}),
    )
