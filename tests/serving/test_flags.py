"""Tests of the risk flags: parameter checks, each flag code, texts and row order."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import use_locale
from creditlimit.serving.flags import FLAG_COLUMNS, SEVERITIES, FlagParams, raise_flags

AS_OF = date(2026, 1, 1)
FLAGS_SECTION = {
    "overdue_days": [1, 30, 60, 90],
    "high_utilisation": 0.8,
    "stale_statement_months": 18,
    "thin_file_max_invoices": 3,
    "pd_jump_min_increase": 0.01,
    "pd_jump_min_ratio": 1.5,
    "downgrade_notches": 2,
    "recent_months": 3,
    "trend_min_increase_days": 10.0,
    "trend_min_payments": 3,
    "dispute_spike_share": 0.2,
    "dispute_spike_ratio": 1.5,
    "dispute_min_invoices": 2,
    "concentration_share": 0.05,
    "concentration_min_customers": 3,
    "quarantined_min_rows": 1,
}
PARAMS = FlagParams.from_mapping(FLAGS_SECTION)

# A customer that raises no flag at all.
QUIET_ROW = {
    "customer_id": "C0",
    "max_dpd_now": 0.0,
    "open_exposure": 10_000.0,
    "current_limit": 100_000.0,
    "limit_valid_to": pd.NaT,
    "statement_age_months": 6.0,
    "has_statements": True,
    "invoice_count_12m": 20.0,
}
QUIET_LIMIT = {"customer_id": "C0", "current_limit": 100_000.0, "proposed_limit": 100_000.0,
               "needs_review": False, "review_reason": None}


def frames(*changes: dict, limit_changes: list[dict] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build a scored frame and a limits frame with one customer per change."""
    scored, limits = [], []
    limit_changes = limit_changes or [{}] * len(changes)
    for i, (change, limit_change) in enumerate(zip(changes, limit_changes)):
        scored.append({**QUIET_ROW, "customer_id": f"C{i}", **change})
        limits.append({**QUIET_LIMIT, "customer_id": f"C{i}", **limit_change})
    return pd.DataFrame(scored), pd.DataFrame(limits)


def flags_for(*changes: dict, limit_changes: list[dict] | None = None, **kwargs) -> pd.DataFrame:
    scored, limits = frames(*changes, limit_changes=limit_changes)
    return raise_flags(scored, limits=limits, params=PARAMS, as_of=AS_OF, **kwargs)


# ---------------------------------------------------------------- parameters


def test_flag_params_from_mapping():
    """A valid flags section becomes typed, frozen values."""
    assert PARAMS.overdue_days == (1, 30, 60, 90)
    assert PARAMS.high_utilisation == 0.8
    assert PARAMS.thin_file_max_invoices == 3
    with pytest.raises(AttributeError):
        PARAMS.high_utilisation = 0.9  # type: ignore[misc]


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("overdue_days", [1, 30, 60], "four strictly increasing"),
    ("overdue_days", [1, 30, 30, 90], "four strictly increasing"),
    ("overdue_days", [0, 30, 60, 90], "first at least 1"),
    ("overdue_days", [1, 30.5, 60, 90], "whole numbers"),
    ("high_utilisation", 0.0, r"in \(0, 1\]"),
    ("high_utilisation", 1.2, r"in \(0, 1\]"),
    ("high_utilisation", "0.8", "finite number"),
    ("stale_statement_months", 0, "greater than 0"),
    ("thin_file_max_invoices", -1, "whole number, at least 0"),
    ("thin_file_max_invoices", 2.5, "whole number, at least 0"),
    ("pd_jump_min_increase", 1.0, r"in \(0, 1\)"),
    ("pd_jump_min_ratio", 1.0, "greater than 1"),
    ("dispute_spike_ratio", 0.5, "at least 1"),
    ("recent_months", 12, "whole number from 1 to 11"),
    ("downgrade_notches", 0, "whole number, at least 1"),
    ("concentration_share", 0.0, r"in \(0, 1\]"),
    ("quarantined_min_rows", 1.0, "whole number, at least 1"),
])
def test_flag_params_rejects_invalid_value(key, value, rule):
    """Each broken rule raises ParamsError naming the key, the rule and the value."""
    with pytest.raises(ParamsError, match=rf"flags\.{key}: it must be .*{rule}.*but got"):
        FlagParams.from_mapping({**FLAGS_SECTION, key: value})


def test_flag_params_errors_in_chinese():
    """Invalid, missing and unknown keys are reported in zh_CN."""
    with use_locale("zh_CN"):
        with pytest.raises(ParamsError, match=r"预警参数 flags\.high_utilisation 无效：应为区间 \(0, 1\] 内的数值"):
            FlagParams.from_mapping({**FLAGS_SECTION, "high_utilisation": 2.0})
        with pytest.raises(ParamsError, match=r"缺少预警参数 flags\.overdue_days"):
            FlagParams.from_mapping({k: v for k, v in FLAGS_SECTION.items() if k != "overdue_days"})
        with pytest.raises(ParamsError, match=r"未知的预警参数 flags\.pd_jump"):
            FlagParams.from_mapping({**FLAGS_SECTION, "pd_jump": 0.1})
    with pytest.raises(ParamsError, match=r"Unknown flag parameter flags\.pd_jump"):
        FlagParams.from_mapping({**FLAGS_SECTION, "pd_jump": 0.1})


# ---------------------------------------------------------------- overdue


@pytest.mark.parametrize(("days", "code", "severity"), [
    (1.0, "overdue_1", "low"),
    (29.0, "overdue_1", "low"),
    (30.0, "overdue_30", "medium"),
    (59.5, "overdue_30", "medium"),
    (60.0, "overdue_60", "high"),
    (90.0, "overdue_90", "critical"),
    (400.0, "overdue_90", "critical"),
])
def test_raise_flags_overdue_highest_band_only(days, code, severity):
    """One overdue flag per customer, for the highest band reached."""
    flags = flags_for({"max_dpd_now": days})
    assert flags["code"].tolist() == [code]
    assert flags["severity"].tolist() == [severity]
    assert flags.loc[0, "value"] == days
    assert flags.loc[0, "subject"] == "max_dpd_now"


@pytest.mark.parametrize("days", [0.0, 0.5, np.nan])
def test_raise_flags_no_overdue_below_first_band(days):
    """Below one day past due, or unknown, no overdue flag is raised."""
    assert flags_for({"max_dpd_now": days}).empty


def test_raise_flags_overdue_text():
    """The overdue text names the days past due and the band threshold."""
    flags = flags_for({"max_dpd_now": 45.0})
    assert flags.loc[0, "text_en"] == "Open invoices are 45 days past due (threshold 30 days)."
    assert flags.loc[0, "text_zh"] == "存在逾期45天的未结发票（阈值30天）。"
    assert flags.loc[0, "threshold"] == 30.0


# ---------------------------------------------------------------- limit use


def test_raise_flags_high_utilisation_threshold():
    """Utilisation of the current limit at 80 % raises a flag and 79 % does not."""
    flags = flags_for({"open_exposure": 80_000.0}, {"open_exposure": 79_000.0})
    assert flags["customer_id"].tolist() == ["C0"]
    assert flags.loc[0, "code"] == "high_utilisation"
    assert flags.loc[0, "severity"] == "medium"
    assert flags.loc[0, "value"] == pytest.approx(0.8)
    assert flags.loc[0, "text_en"] == "Utilisation of the current limit is 80.0 % (threshold 80.0 %)."
    assert flags.loc[0, "text_zh"] == "当前额度使用率为80.0%（阈值80.0%）。"


def test_raise_flags_over_limit():
    """Exposure above the current limit raises over_limit; exposure equal to it does not."""
    flags = flags_for({"open_exposure": 120_000.0}, {"open_exposure": 100_000.0},
                      base_currency="CNY")
    over = flags[flags["code"] == "over_limit"]
    assert over["customer_id"].tolist() == ["C0"]
    row = over.iloc[0]
    assert row["severity"] == "high"
    assert row["value"] == 120_000.0
    assert row["threshold"] == 100_000.0
    assert row["text_en"] == "Open exposure of CNY 120,000 exceeds the current limit of CNY 100,000."
    assert row["text_zh"] == "未结清敞口CNY 120,000超过当前额度CNY 100,000。"
    assert set(flags["code"]) == {"over_limit", "high_utilisation"}


def test_raise_flags_exposure_without_limit():
    """Open exposure with no limit, a zero limit or an expired limit is over the limit."""
    flags = flags_for(
        {"current_limit": np.nan},
        {"current_limit": 0.0},
        {"limit_valid_to": pd.Timestamp("2025-12-31")},
        {"limit_valid_to": pd.Timestamp("2026-01-01")},
    )
    over = flags[flags["code"] == "over_limit"]
    assert over["customer_id"].tolist() == ["C0", "C1", "C2"]
    assert (over["threshold"] == 0.0).all()
    assert over.iloc[0]["text_en"] == "Open exposure of 10,000 is outstanding, but the customer has no credit limit in force."
    assert "high_utilisation" not in set(flags["code"])


def test_raise_flags_missing_exposure_raises_nothing():
    """Unknown exposure raises neither utilisation nor over-limit flags."""
    assert flags_for({"open_exposure": np.nan, "current_limit": np.nan}).empty


# ---------------------------------------------------------------- statements


def test_raise_flags_stale_statements():
    """Statements older than the threshold raise a low flag; exactly at it, none."""
    flags = flags_for({"statement_age_months": 19.0}, {"statement_age_months": 18.0})
    assert flags["customer_id"].tolist() == ["C0"]
    row = flags.iloc[0]
    assert row["code"] == "stale_statements"
    assert row["severity"] == "low"
    assert row["text_en"] == ("The latest financial statement is 19 months old (threshold 18 months). "
                              "Request current statements.")
    assert row["text_zh"] == "最新财务报表距今19个月（阈值18个月），请索取最新财务报表。"


def test_raise_flags_statements_too_old_for_features():
    """Statements too old for the features (age missing) still raise stale_statements."""
    flags = flags_for({"has_statements": True, "statement_age_months": np.nan})
    assert flags["code"].tolist() == ["stale_statements"]
    row = flags.iloc[0]
    assert np.isnan(row["value"])
    assert row["threshold"] == 18
    assert "too old to be used" in row["text_en"]
    assert "已超出特征使用期限" in row["text_zh"]


def test_raise_flags_missing_statements_and_thin_file():
    """No statements raise missing_statements; with few or unknown invoices also thin_file."""
    no_statements = {"has_statements": False, "statement_age_months": np.nan}
    flags = flags_for(
        {**no_statements, "invoice_count_12m": 2.0},
        {**no_statements, "invoice_count_12m": 3.0},
        {**no_statements, "invoice_count_12m": np.nan},
        {"invoice_count_12m": 0.0},
    )
    codes = flags.groupby("customer_id")["code"].apply(list).to_dict()
    assert codes == {
        "C0": ["missing_statements", "thin_file"],
        "C1": ["missing_statements"],
        "C2": ["missing_statements", "thin_file"],
    }
    thin = flags[(flags["code"] == "thin_file") & (flags["customer_id"] == "C0")].iloc[0]
    assert thin["severity"] == "info"
    assert thin["value"] == 2.0
    assert thin["threshold"] == 3.0
    assert "2 invoices in the last 12 months" in thin["text_en"]
    assert "近12个月发票数为2" in thin["text_zh"]
    missing = flags[flags["code"] == "missing_statements"].iloc[0]
    assert "before 2026-01-01" in missing["text_en"]
    assert np.isnan(missing["value"])


# ---------------------------------------------------------------- unseen categories and review


def test_raise_flags_unseen_category():
    """Each unseen categorical value raises a low flag naming the feature and value."""
    unseen = pd.DataFrame({"customer_id": ["C0", "C0"], "column": ["size_class", "industry"],
                           "value": ["giant", "mining"]})
    flags = flags_for({}, unseen_categories=unseen)
    assert flags["subject"].tolist() == ["industry", "size_class"]
    assert (flags["code"] == "unseen_category").all()
    assert (flags["severity"] == "low").all()
    assert flags.loc[0, "text_en"] == "The industry value 'mining' was not seen in training, so the model scored it as missing."
    assert flags.loc[0, "text_zh"] == "行业取值“mining”未在训练数据中出现，模型按缺失值评分。"


def test_raise_flags_review_required():
    """A decision that needs review raises a flag whose text gives the reason and the limits."""
    flags = flags_for(
        {}, {},
        limit_changes=[
            {"needs_review": True, "review_reason": "stale_statements_for_increase", "proposed_limit": 150_000.0},
            {"needs_review": True, "review_reason": "something_new"},
        ],
        base_currency="CNY",
    )
    assert flags["code"].tolist() == ["review_required", "review_required"]
    first = flags.iloc[0]
    assert first["severity"] == "medium"
    assert first["value"] == 150_000.0
    assert first["text_en"] == (
        "Limit review required: the proposed increase is on hold because the financial statements "
        "are missing or too old. Current limit CNY 100,000, proposed limit CNY 150,000."
    )
    assert first["text_zh"] == "需要人工复核额度：财务报表缺失或过旧，建议的上调暂缓。当前额度CNY 100,000，建议额度CNY 150,000。"
    assert "needs a manual check" in flags.iloc[1]["text_en"]


# ---------------------------------------------------------------- frame shape


def test_raise_flags_stable_order():
    """Rows are sorted by customer and code, whatever the input order."""
    changes = [{"max_dpd_now": 95.0, "open_exposure": 150_000.0}, {"statement_age_months": 30.0},
               {"max_dpd_now": 5.0, "has_statements": False, "statement_age_months": np.nan}]
    scored, limits = frames(*changes)
    expected = raise_flags(scored, limits=limits, params=PARAMS, as_of=AS_OF)
    shuffled = raise_flags(scored.iloc[::-1], limits=limits.iloc[[1, 2, 0]], params=PARAMS, as_of=AS_OF)
    pd.testing.assert_frame_equal(expected, shuffled)
    keys = list(zip(expected["customer_id"], expected["code"]))
    assert keys == sorted(keys)
    assert keys[:3] == [("C0", "high_utilisation"), ("C0", "over_limit"), ("C0", "overdue_90")]


def test_raise_flags_columns_and_types():
    """The frame has the documented columns, severities and types, also when empty."""
    flags = flags_for({"max_dpd_now": 45.0})
    assert list(flags.columns) == list(FLAG_COLUMNS)
    assert set(flags["severity"]) <= set(SEVERITIES)
    assert flags["value"].dtype == np.float64
    empty = flags_for({})
    assert empty.empty
    assert list(empty.columns) == list(FLAG_COLUMNS)
    assert empty["threshold"].dtype == np.float64


def test_raise_flags_rejects_missing_columns():
    """Frames without the needed columns are rejected in en and zh_CN."""
    scored, limits = frames({})
    with pytest.raises(InputDataError, match=r"The scored frame lacks the columns \['max_dpd_now'\]"):
        raise_flags(scored.drop(columns="max_dpd_now"), limits=limits, params=PARAMS, as_of=AS_OF)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"limits表缺少风险预警所需的列 \['needs_review'\]"):
        raise_flags(scored, limits=limits.drop(columns="needs_review"), params=PARAMS, as_of=AS_OF)
    with pytest.raises(InputDataError, match=r"unseen_categories frame lacks the columns \['column'\]"):
        raise_flags(scored, limits=limits, params=PARAMS, as_of=AS_OF,
                    unseen_categories=pd.DataFrame({"customer_id": ["C0"], "value": ["x"]}))
