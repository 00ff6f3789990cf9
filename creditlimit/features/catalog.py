"""The feature dictionary: every model feature with its unit and its names in zh_CN and en.

The feature builder produces exactly these columns (plus the snapshot keys and the
context columns below); the model trains on them; reason codes format their values
with ``unit`` and name them with ``label``.

Units
-----
``ratio``    a plain number such as a current ratio of 1.35
``percent``  a share stored as a fraction (0.25) and shown as 25.0 %
``days``     whole or fractional days
``months``   months
``amount``   money in the base currency
``count``    a number of documents
``category`` a categorical value encoded with the training category levels
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FeatureSpec",
    "FEATURES",
    "FEATURE_NAMES",
    "CATEGORICAL_FEATURES",
    "SNAPSHOT_KEYS",
    "CONTEXT_COLUMNS",
]


@dataclass(frozen=True)
class FeatureSpec:
    """One model feature: name, unit, source group and display labels."""

    name: str
    unit: str
    group: str
    label_en: str
    label_zh: str


FEATURES: tuple[FeatureSpec, ...] = (
    # Financial statements: the latest statement published before as_of.
    FeatureSpec("debt_to_assets", "percent", "financial", "debt to assets", "资产负债率"),
    FeatureSpec("current_ratio", "ratio", "financial", "current ratio", "流动比率"),
    FeatureSpec("quick_ratio", "ratio", "financial", "quick ratio", "速动比率"),
    FeatureSpec("interest_coverage", "ratio", "financial", "interest coverage", "利息保障倍数"),
    FeatureSpec(
        "ocf_to_liabilities", "percent", "financial",
        "operating cash flow to liabilities", "经营现金流负债比",
    ),
    FeatureSpec("net_margin", "percent", "financial", "net profit margin", "销售净利率"),
    FeatureSpec("roa", "percent", "financial", "return on assets", "总资产收益率"),
    FeatureSpec("revenue_growth", "percent", "financial", "revenue growth", "营业收入增长率"),
    FeatureSpec("log_revenue", "ratio", "financial", "log of annual revenue", "年营业收入（对数）"),
    FeatureSpec("statement_age_months", "months", "financial", "age of the latest statement", "最新财报距今月数"),
    # Invoice and payment history: records dated before as_of.
    FeatureSpec("invoiced_3m", "amount", "payment", "invoiced in the last 3 months", "近3个月开票金额"),
    FeatureSpec("invoiced_6m", "amount", "payment", "invoiced in the last 6 months", "近6个月开票金额"),
    FeatureSpec("invoiced_12m", "amount", "payment", "invoiced in the last 12 months", "近12个月开票金额"),
    FeatureSpec("mean_days_late_12m", "days", "payment", "mean days late (12 months)", "近12个月平均逾期天数"),
    FeatureSpec("max_days_late_12m", "days", "payment", "maximum days late (12 months)", "近12个月最长逾期天数"),
    FeatureSpec(
        "share_paid_30p_late_12m", "percent", "payment",
        "share of invoices paid 30+ days late", "逾期30天以上付款的发票占比",
    ),
    FeatureSpec("overdue_amount", "amount", "payment", "overdue amount", "逾期金额"),
    FeatureSpec("max_dpd_now", "days", "payment", "days past due today", "当前最长逾期天数"),
    FeatureSpec("dso_days", "days", "payment", "days sales outstanding", "应收账款周转天数"),
    FeatureSpec("open_exposure", "amount", "payment", "open exposure", "未结清敞口"),
    FeatureSpec("disputed_share_12m", "percent", "payment", "share of disputed invoices", "争议发票占比"),
    FeatureSpec(
        "months_since_last_late", "months", "payment",
        "months since the last late payment", "距上次逾期付款月数",
    ),
    FeatureSpec("tenure_months", "months", "payment", "customer tenure", "合作月数"),
    FeatureSpec("invoice_count_12m", "count", "payment", "invoices in the last 12 months", "近12个月发票数"),
    # Customer attributes, encoded with the category levels frozen at training.
    FeatureSpec("industry", "category", "customer", "industry", "行业"),
    FeatureSpec("size_class", "category", "customer", "size class", "企业规模"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURES)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(s.name for s in FEATURES if s.unit == "category")

SNAPSHOT_KEYS: tuple[str, ...] = ("customer_id", "as_of")

# Columns the feature builder adds beside the features for the credit policy, the
# risk flags and the reports. They are never model inputs.
CONTEXT_COLUMNS: dict[str, str] = {
    "region": "customer region (text, may be missing)",
    "group_id": "customer group (text, may be missing)",
    "payment_terms_days": "agreed payment terms in days",
    "current_limit": "credit limit in force at as_of, base currency (missing when none)",
    "limit_locked": "true when the limit is manually locked",
    "limit_valid_to": "expiry date of a temporary limit (may be missing)",
    "equity_base": "equity of the latest known statement, base currency",
    "revenue_base": "annual revenue of the latest known statement, base currency",
    "has_statements": "true when a statement was published before as_of",
    "avg_monthly_invoiced_6m": "invoiced_6m / 6, base currency",
    # Not a model feature: the contract holds only today's limit, so utilisation of
    # a past snapshot would use a limit set later (a suspended defaulter's limit of
    # 0 revealed to the model who defaults). It is right at the scoring date only.
    "utilisation": "open_exposure / current_limit at as_of (missing when no limit)",
    "is_defaulted": "true when a default, write-off or bankruptcy event is dated before as_of",
}
