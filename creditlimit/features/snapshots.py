"""Build point-in-time features for (customer, as_of) snapshots in DuckDB SQL.

A snapshot describes a customer at the start of day ``as_of``: every feature is
computed from records dated strictly before ``as_of`` (statements by
``published_on``, invoices and credit notes by ``issued_on``, payments by
``paid_on``, credit events by ``event_on``). All computation runs in SQL over the
views opened by :func:`creditlimit.features.tables.connect_tables`; Python only
checks parameters and fixes the output dtypes.

Conventions used by every feature
---------------------------------
Months
    A month is ``DAYS_PER_MONTH`` = 365.2425 / 12 days, so month counts
    (``tenure_months``, ``statement_age_months``, ``months_since_last_late``)
    are fractional. Look-back windows (3, 6, 12 months) are calendar months:
    ``[as_of - N months, as_of)``.
Open amounts and fully paid dates
    As defined by :func:`creditlimit.features.tables.create_invoice_balances`.
    Payments and credit notes dated before as_of reduce their invoice, measured
    in the invoice's currency. The fully paid date is the first payment date at
    which payments reach the amount net of the credit notes known at as_of.
Payments without an invoice
    Payments without a matching ``document_id`` (and credit notes without a
    matching ``reference_id``) reduce the customer's ``open_exposure`` but no
    invoice's open amount or lateness. A payment dated before its invoice was
    issued counts the same way until the invoice is issued.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.catalog import CATEGORICAL_FEATURES, CONTEXT_COLUMNS, FEATURE_NAMES, SNAPSHOT_KEYS
from creditlimit.features.tables import create_invoice_balances, require_tables
from creditlimit.i18n import register

__all__ = [
    "DAYS_PER_MONTH",
    "DEFAULTED_EVENT_TYPES",
    "FEATURE_TABLES",
    "FeatureParams",
    "build_features",
    "create_feature_table",
    "fix_dtypes",
    "monthly_as_of_dates",
]

logger = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.2425 / 12
# Credit events that make ``is_defaulted`` true (the catalog defines this list).
DEFAULTED_EVENT_TYPES = ("default", "write_off", "bankruptcy")
FEATURE_TABLES = ("customers", "financial_statements", "invoices", "payments", "credit_events")

_TEXT_COLUMNS = ("region", "group_id")
_BOOL_COLUMNS = ("limit_locked", "has_statements", "is_defaulted")

register({
    "features.param_missing": {
        "en": "{section}.{name} is missing. Add it to the '{section}' section of params.yaml.",
        "zh_CN": "缺少参数 {section}.{name}。请在 params.yaml 的“{section}”部分添加该参数。",
    },
    "features.param_unknown": {
        "en": "{section}: unknown parameter(s) {names}. Remove them or correct the spelling; known parameters: {known}.",
        "zh_CN": "{section}：未知参数 {names}。请删除或更正拼写；可用参数：{known}。",
    },
    "features.param_int": {
        "en": "{section}.{name} must be a whole number >= {minimum}; got {value}.",
        "zh_CN": "{section}.{name} 必须是大于等于 {minimum} 的整数；实际为 {value}。",
    },
    "features.no_as_of_dates": {
        "en": "No as_of dates were given. Pass at least one snapshot date.",
        "zh_CN": "未提供 as_of 日期。请至少提供一个快照日期。",
    },
    "features.invalid_as_of": {
        "en": "as_of value {value} is not a calendar date. Pass datetime.date values (a time of day is not allowed).",
        "zh_CN": "as_of 值 {value} 不是日历日期。请传入 datetime.date 值（不能带时刻）。",
    },
    "features.duplicate_customers": {
        "en": (
            "Table customers holds {count} duplicated customer_id value(s), e.g. '{example}'. "
            "Keep one row per customer (validation quarantines such rows)."
        ),
        "zh_CN": "customers 表中有 {count} 个重复的 customer_id，例如“{example}”。每个客户只能保留一行（数据校验会隔离这类行）。",
    },
    "features.no_records": {
        "en": "Tables invoices, payments and credit_events hold no dated records, so there is no history for snapshots.",
        "zh_CN": "invoices、payments 和 credit_events 表中没有任何带日期的记录，无法生成快照。",
    },
    "features.history_too_short": {
        "en": (
            "The history is too short for monthly snapshots: the first as_of would be {first}, "
            "but the last as_of with a complete {horizon}-month outcome window is {last} "
            "(earliest invoice {earliest}, observation end {end}). Lower "
            "features.min_history_months or label.horizon_months, or load a longer history."
        ),
        "zh_CN": (
            "历史数据太短，无法生成月度快照：第一个 as_of 为 {first}，而结果窗口（{horizon} 个月）完整的最后一个 "
            "as_of 为 {last}（最早发票 {earliest}，观察截止 {end}）。请调低 features.min_history_months 或 "
            "label.horizon_months，或载入更长的历史数据。"
        ),
    },
})


@dataclass(frozen=True)
class FeatureParams:
    """Parameters of the features stage (``features`` section of params.yaml).

    Attributes
    ----------
    min_history_months : int
        Months of invoice history before the first monthly snapshot (>= 0).
    max_statement_age_months : int
        Statements whose ``period_end`` lies more than this many calendar months
        before as_of are ignored (>= 1).
    """

    min_history_months: int
    max_statement_age_months: int

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> FeatureParams:
        """Validate the ``features`` section and build the parameters.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value is not a whole number in range.
        """
        names = {"min_history_months": 0, "max_statement_age_months": 1}
        unknown = sorted(set(mapping) - set(names))
        if unknown:
            raise ParamsError(
                "features.param_unknown", section="features", names=", ".join(unknown), known=", ".join(names)
            )
        values = {name: _int_param(mapping, "features", name, minimum) for name, minimum in names.items()}
        return cls(**values)


def build_features(
    con: duckdb.DuckDBPyConnection,
    as_of_dates: Sequence[dt.date],
    *,
    max_statement_age_months: int,
) -> pd.DataFrame:
    """Build one feature row per (customer, as_of) for every customer onboarded before as_of.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the views ``customers``, ``financial_statements``,
        ``invoices``, ``payments`` and ``credit_events`` (amounts in base currency).
    as_of_dates : sequence of datetime.date
        Snapshot dates; duplicates are ignored.
    max_statement_age_months : int
        Ignore statements whose ``period_end`` is more than this many calendar
        months before as_of.

    Returns
    -------
    pandas.DataFrame
        One row per snapshot, sorted by (as_of, customer_id), with columns:

        - ``customer_id`` (object) and ``as_of`` (datetime64[us])
        - every name in ``FEATURE_NAMES``: float64, except ``industry`` and
          ``size_class`` (object, None when missing)
        - every name in ``CONTEXT_COLUMNS``: ``region`` and ``group_id`` object,
          ``limit_locked``, ``has_statements`` and ``is_defaulted`` bool (a
          missing lock is False), ``limit_valid_to`` datetime64[us], the rest
          float64.

    Raises
    ------
    ParamsError
        If no as_of date is given, a date is invalid or the statement age is not a
        whole number >= 1.
    InputDataError
        If a table is not loaded or ``customers`` repeats a customer_id.

    Notes
    -----
    Financial features (latest statement published before as_of whose
    ``period_end`` lies within ``max_statement_age_months``):

    - ``debt_to_assets`` = total_liabilities / total_assets
    - ``current_ratio`` = current_assets / current_liabilities
    - ``quick_ratio`` = (current_assets - inventory) / current_liabilities
    - ``interest_coverage`` = operating_profit / interest_expense
    - ``ocf_to_liabilities`` = operating_cash_flow / total_liabilities
    - ``net_margin`` = net_profit / revenue; ``roa`` = net_profit / total_assets
    - ``revenue_growth`` = revenue / previous revenue - 1, where the previous
      statement is the latest one published before as_of with ``period_end``
      9 to 15 months before the current one; NaN when that revenue is not > 0
    - ``log_revenue`` = ln(revenue) when revenue > 0
    - ``statement_age_months`` = days from period_end to as_of / DAYS_PER_MONTH

    A zero or missing denominator gives NaN, never 0. ``equity_base`` and
    ``revenue_base`` come from the same statement; ``has_statements`` is true when
    any statement was published before as_of, even one too old to use.

    Payment features, over records dated before as_of (see the module notes
    for open amounts and fully paid dates):

    - ``invoiced_3m/6m/12m``: invoice amounts net of credit notes issued in
      ``[as_of - N months, as_of)``; 0 when nothing was issued.
    - ``invoice_count_12m``: invoices (not credit notes) issued in the last 12 months.
    - ``mean_days_late_12m``, ``max_days_late_12m`` and
      ``share_paid_30p_late_12m`` (share with days late >= 30): over invoices
      fully paid in the last 12 months; NaN if there is none.
    - ``open_exposure``: open amount of all invoices minus the payments and
      credit notes that match no invoice, floored at 0 (a credit balance shows
      as 0).
    - ``overdue_amount``: open amount of invoices with ``due_on < as_of``, capped
      at ``open_exposure``.
    - ``max_dpd_now``: max days from ``due_on`` to as_of over open overdue
      invoices; 0 when the customer has invoices but none overdue, NaN when it
      never had one.
    - ``dso_days`` = open_exposure / (invoiced in the last 90 days) * 90, NaN
      when that volume is not > 0.
    - ``utilisation`` = open_exposure / current_limit, NaN when the limit is
      missing or not > 0.
    - ``disputed_share_12m``: disputed invoices / invoices with a known
      ``disputed`` value, issued in the last 12 months; NaN when there is none.
    - ``months_since_last_late``: months since the fully paid date of the last
      invoice paid late; NaN when none was.
    - ``tenure_months``: months since ``onboarded_on``.
    - ``avg_monthly_invoiced_6m`` (context) = invoiced_6m / 6; ``is_defaulted``
      (context): a default, write_off or bankruptcy event before as_of.
    """
    started = time.perf_counter()
    _create_group_tables(con, as_of_dates, max_statement_age_months)
    frame = con.execute(_FEATURE_SELECT_SQL, {"days_per_month": DAYS_PER_MONTH}).df()
    frame = fix_dtypes(frame)

    logger.info(
        "Built features: %d rows, %d customers, %d as_of dates in %.2f s",
        len(frame), frame["customer_id"].nunique(), frame["as_of"].nunique(), time.perf_counter() - started,
    )
    return frame


def create_feature_table(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    max_statement_age_months: int,
    name: str = "_features",
) -> None:
    """Build the features of one ``as_of`` into the DuckDB temp table ``name``.

    The rows and columns are those of :func:`build_features`, before the pandas
    dtype fixes (:func:`fix_dtypes`), so a large book can be read in batches
    instead of as one frame. Raises as :func:`build_features` does.
    """
    _create_group_tables(con, [as_of], max_statement_age_months)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {_FEATURE_SELECT_SQL}",
                {"days_per_month": DAYS_PER_MONTH})


def _create_group_tables(con: duckdb.DuckDBPyConnection, as_of_dates: Sequence[dt.date],
                         max_statement_age_months: int) -> None:
    """Check the inputs and create the snapshot grid and one temp table per feature group."""
    dates = _check_as_of_dates(as_of_dates)
    age = _int_param({"max_statement_age_months": max_statement_age_months}, "features", "max_statement_age_months", 1)
    require_tables(con, FEATURE_TABLES)
    _check_unique_customers(con)

    # Snapshot grid and the as_of-independent invoice balances.
    con.execute("CREATE OR REPLACE TEMP TABLE _as_of_dates (as_of DATE)")
    con.executemany("INSERT INTO _as_of_dates VALUES (?)", [(day,) for day in dates])
    con.execute(_WINDOW_STARTS_SQL)
    con.execute(_SNAPSHOT_SQL)
    create_invoice_balances(con, first_day=dates[0], last_day=dates[-1])

    # One temp table per feature group; the feature query joins them.
    con.execute(_FINANCIAL_SQL, {"age": age, "days_per_month": DAYS_PER_MONTH})
    con.execute(_DOCUMENT_SQL)
    con.execute(_BALANCE_SQL)
    con.execute(_UNALLOCATED_SQL)
    con.execute(_EVENT_SQL, {"event_types": list(DEFAULTED_EVENT_TYPES)})


def monthly_as_of_dates(
    con: duckdb.DuckDBPyConnection,
    *,
    min_history_months: int,
    horizon_months: int,
) -> tuple[list[dt.date], dt.date]:
    """Choose monthly snapshot dates whose outcome window is complete.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the views ``invoices``, ``payments`` and ``credit_events``.
    min_history_months : int
        Months of history (from the earliest invoice) before the first as_of.
    horizon_months : int
        Length of the outcome window in months.

    Returns
    -------
    as_of_dates : list of datetime.date
        First days of months, from the first month start on or after (earliest
        ``issued_on`` + ``min_history_months`` months) to the last month start
        with as_of + ``horizon_months`` <= ``observation_end``.
    observation_end : datetime.date
        The day after the latest record date (invoice ``issued_on``, payment
        ``paid_on``, credit event ``event_on``): records before it are observed.

    Raises
    ------
    ParamsError
        If a month count is not a whole number in range.
    InputDataError
        If the tables hold no records or the history is too short for one snapshot.
    """
    min_history = _int_param({"min_history_months": min_history_months}, "features", "min_history_months", 0)
    horizon = _int_param({"horizon_months": horizon_months}, "label", "horizon_months", 1)
    require_tables(con, ("invoices", "payments", "credit_events"))
    earliest, latest = con.execute(_HISTORY_SQL).fetchall()[0]
    if earliest is None or latest is None:
        raise InputDataError("features.no_records")

    observation_end = latest + dt.timedelta(days=1)
    first = _month_start_on_or_after(_add_months(earliest, min_history))
    last_end = _add_months(observation_end, -horizon)
    last = dt.date(last_end.year, last_end.month, 1)
    if first > last:
        raise InputDataError(
            "features.history_too_short", first=first.isoformat(), last=last.isoformat(), horizon=horizon,
            earliest=earliest.isoformat(), end=observation_end.isoformat(),
        )
    dates = []
    current = first
    while current <= last:
        dates.append(current)
        current = _add_months(current, 1)
    logger.info(
        "Monthly as_of dates: %d from %s to %s, observation end %s", len(dates), first, last, observation_end
    )
    return dates, observation_end


# Look-back window starts, once per as_of.
_WINDOW_STARTS_SQL = """
CREATE OR REPLACE TEMP TABLE _window_starts AS
SELECT as_of,
       CAST(as_of - INTERVAL 3 MONTH AS DATE) AS start_3m,
       CAST(as_of - INTERVAL 6 MONTH AS DATE) AS start_6m,
       CAST(as_of - INTERVAL 12 MONTH AS DATE) AS start_12m,
       CAST(as_of - INTERVAL 90 DAY AS DATE) AS start_90d
FROM _as_of_dates
"""

_SNAPSHOT_SQL = """
CREATE OR REPLACE TEMP TABLE _snap AS
SELECT c.customer_id, a.as_of, c.onboarded_on, c.industry, c.size_class, c.region, c.group_id,
       c.payment_terms_days, c.credit_limit, c.limit_locked, c.limit_valid_to,
       f.first_invoice_on
FROM customers AS c
JOIN _as_of_dates AS a ON c.onboarded_on < a.as_of
LEFT JOIN (
    SELECT customer_id, min(issued_on) AS first_invoice_on
    FROM invoices
    WHERE document_type = 'invoice'
    GROUP BY customer_id
) AS f USING (customer_id)
"""

_FINANCIAL_SQL = """
CREATE OR REPLACE TEMP TABLE _financial AS
WITH fresh AS (
    SELECT s.customer_id, s.as_of, f.* EXCLUDE (customer_id)
    FROM _snap AS s
    JOIN financial_statements AS f
        ON f.customer_id = s.customer_id
        AND f.published_on < s.as_of
        AND f.period_end >= CAST(s.as_of - to_months($age) AS DATE)
    QUALIFY row_number() OVER (
        PARTITION BY s.customer_id, s.as_of ORDER BY f.period_end DESC, f.published_on DESC
    ) = 1
),
previous AS (
    SELECT c.customer_id, c.as_of, p.revenue AS previous_revenue
    FROM fresh AS c
    JOIN financial_statements AS p
        ON p.customer_id = c.customer_id
        AND p.published_on < c.as_of
        AND p.period_end BETWEEN CAST(c.period_end - INTERVAL 15 MONTH AS DATE)
                             AND CAST(c.period_end - INTERVAL 9 MONTH AS DATE)
    QUALIFY row_number() OVER (
        PARTITION BY c.customer_id, c.as_of ORDER BY p.period_end DESC, p.published_on DESC
    ) = 1
),
known AS (
    SELECT customer_id, min(published_on) AS first_published_on
    FROM financial_statements
    GROUP BY customer_id
)
SELECT s.customer_id, s.as_of,
       f.total_liabilities / NULLIF(f.total_assets, 0) AS debt_to_assets,
       f.current_assets / NULLIF(f.current_liabilities, 0) AS current_ratio,
       (f.current_assets - f.inventory) / NULLIF(f.current_liabilities, 0) AS quick_ratio,
       f.operating_profit / NULLIF(f.interest_expense, 0) AS interest_coverage,
       f.operating_cash_flow / NULLIF(f.total_liabilities, 0) AS ocf_to_liabilities,
       f.net_profit / NULLIF(f.revenue, 0) AS net_margin,
       f.net_profit / NULLIF(f.total_assets, 0) AS roa,
       CASE WHEN p.previous_revenue > 0 THEN f.revenue / p.previous_revenue - 1 END AS revenue_growth,
       CASE WHEN f.revenue > 0 THEN ln(f.revenue) END AS log_revenue,
       date_diff('day', f.period_end, s.as_of) / $days_per_month AS statement_age_months,
       f.equity AS equity_base,
       f.revenue AS revenue_base,
       coalesce(k.first_published_on < s.as_of, false) AS has_statements
FROM _snap AS s
LEFT JOIN fresh AS f USING (customer_id, as_of)
LEFT JOIN previous AS p USING (customer_id, as_of)
LEFT JOIN known AS k USING (customer_id)
"""

# Invoiced volume: invoices and credit notes (negative) issued in the window.
# Documents are joined to the dates by range (with a few days of slack for
# month-end clamping) and the exact window start is applied after the join.
_DOCUMENT_SQL = """
CREATE OR REPLACE TEMP TABLE _documents AS
WITH pairs AS (
    SELECT d.customer_id, d.document_type, d.issued_on, d.amount, d.disputed,
           a.as_of, a.start_3m, a.start_6m, a.start_12m, a.start_90d
    FROM invoices AS d
    JOIN _window_starts AS a
        ON a.as_of > d.issued_on
        AND a.as_of <= CAST(d.issued_on + INTERVAL 12 MONTH + INTERVAL 3 DAY AS DATE)
    WHERE d.issued_on >= a.start_12m
)
-- Amount sums run in DECIMAL: a parallel DOUBLE sum adds in a varying order, so
-- reruns could differ in the last bits and break byte-identical outputs.
SELECT customer_id, as_of,
       CAST(sum(amount::DECIMAL(38, 6)) FILTER (WHERE issued_on >= start_3m) AS DOUBLE) AS invoiced_3m,
       CAST(sum(amount::DECIMAL(38, 6)) FILTER (WHERE issued_on >= start_6m) AS DOUBLE) AS invoiced_6m,
       CAST(sum(amount::DECIMAL(38, 6)) AS DOUBLE) AS invoiced_12m,
       CAST(sum(amount::DECIMAL(38, 6)) FILTER (WHERE issued_on >= start_90d) AS DOUBLE) AS invoiced_90d,
       count(*) FILTER (WHERE document_type = 'invoice') AS invoice_count_12m,
       count(disputed) FILTER (WHERE document_type = 'invoice') AS disputed_known_12m,
       count(*) FILTER (WHERE document_type = 'invoice' AND disputed) AS disputed_count_12m
FROM pairs
GROUP BY customer_id, as_of
"""

# The invoice states that apply at each as_of (payments and credit notes before
# as_of), joined to the dates by range so that no customer-wide product is
# built. Only states that feed a feature take part: open ones, ones paid late
# (``months_since_last_late`` looks back over the whole history) and ones fully
# paid within the last 12 months.
_BALANCE_SQL = """
CREATE OR REPLACE TEMP TABLE _balances AS
WITH states AS (
    SELECT customer_id, due_on, open_doc, open_base, paid_on, days_late,
           greatest(issued_on, coalesce(after_on, issued_on)) AS valid_after,
           coalesce(until_on, DATE '9999-12-31') AS valid_until
    FROM invoice_balances
    WHERE open_doc > 0 OR paid_on IS NOT NULL
),
pairs AS (
    SELECT b.*, d.as_of, d.start_12m
    FROM states AS b
    JOIN _window_starts AS d ON d.as_of > b.valid_after AND d.as_of <= b.valid_until
    WHERE b.open_doc > 0 OR b.days_late > 0 OR b.paid_on >= d.start_12m
)
SELECT customer_id, as_of,
       CAST(sum(open_base::DECIMAL(38, 6)) AS DOUBLE) AS open_invoices_base,
       CAST(sum(open_base::DECIMAL(38, 6)) FILTER (WHERE due_on < as_of) AS DOUBLE) AS overdue_invoices_base,
       max(date_diff('day', due_on, as_of)) FILTER (WHERE open_doc > 0 AND due_on < as_of) AS max_dpd_open,
       avg(days_late) FILTER (WHERE paid_on >= start_12m) AS mean_days_late_12m,
       max(days_late) FILTER (WHERE paid_on >= start_12m) AS max_days_late_12m,
       avg(CASE WHEN days_late >= 30 THEN 1.0 ELSE 0.0 END) FILTER (WHERE paid_on >= start_12m)
           AS share_paid_30p_late_12m,
       max(paid_on) FILTER (WHERE days_late > 0) AS last_late_paid_on
FROM pairs
GROUP BY customer_id, as_of
"""

_UNALLOCATED_SQL = """
CREATE OR REPLACE TEMP TABLE _unallocated AS
SELECT s.customer_id, s.as_of, CAST(sum(u.amount_base::DECIMAL(38, 6)) AS DOUBLE) AS unallocated_base
FROM _snap AS s
JOIN unallocated_reductions AS u
    ON u.customer_id = s.customer_id
    AND u.on_date < s.as_of
    AND (u.applied_on IS NULL OR u.applied_on >= s.as_of)
GROUP BY s.customer_id, s.as_of
"""

_EVENT_SQL = """
CREATE OR REPLACE TEMP TABLE _events AS
SELECT DISTINCT s.customer_id, s.as_of
FROM _snap AS s
JOIN credit_events AS e
    ON e.customer_id = s.customer_id
    AND e.event_on < s.as_of
    AND list_contains($event_types, e.event_type)
"""

_HISTORY_SQL = """
SELECT (SELECT min(issued_on) FROM invoices WHERE document_type = 'invoice'),
       greatest(
           (SELECT max(issued_on) FROM invoices),
           (SELECT max(paid_on) FROM payments),
           (SELECT max(event_on) FROM credit_events)
       )
"""


# Final join. ``open_exposure`` is computed first because three features use it.
_FEATURE_SELECT_SQL = """
WITH joined AS (
    SELECT s.*, f.* EXCLUDE (customer_id, as_of),
           d.* EXCLUDE (customer_id, as_of),
           b.* EXCLUDE (customer_id, as_of),
           e.customer_id IS NOT NULL AS is_defaulted,
           greatest(coalesce(b.open_invoices_base, 0.0) - coalesce(u.unallocated_base, 0.0), 0.0)
               AS open_exposure
    FROM _snap AS s
    JOIN _financial AS f USING (customer_id, as_of)
    LEFT JOIN _documents AS d USING (customer_id, as_of)
    LEFT JOIN _balances AS b USING (customer_id, as_of)
    LEFT JOIN _unallocated AS u USING (customer_id, as_of)
    LEFT JOIN _events AS e USING (customer_id, as_of)
)
SELECT customer_id, as_of,
       debt_to_assets, current_ratio, quick_ratio, interest_coverage, ocf_to_liabilities,
       net_margin, roa, revenue_growth, log_revenue, statement_age_months,
       coalesce(invoiced_3m, 0.0) AS invoiced_3m,
       coalesce(invoiced_6m, 0.0) AS invoiced_6m,
       coalesce(invoiced_12m, 0.0) AS invoiced_12m,
       CAST(mean_days_late_12m AS DOUBLE) AS mean_days_late_12m,
       CAST(max_days_late_12m AS DOUBLE) AS max_days_late_12m,
       share_paid_30p_late_12m,
       least(coalesce(overdue_invoices_base, 0.0), open_exposure) AS overdue_amount,
       CAST(CASE WHEN first_invoice_on < as_of THEN coalesce(max_dpd_open, 0) END AS DOUBLE) AS max_dpd_now,
       CASE WHEN invoiced_90d > 0 THEN open_exposure / invoiced_90d * 90 END AS dso_days,
       open_exposure,
       CASE WHEN credit_limit > 0 THEN open_exposure / credit_limit END AS utilisation,
       CASE WHEN disputed_known_12m > 0 THEN disputed_count_12m / disputed_known_12m END
           AS disputed_share_12m,
       date_diff('day', last_late_paid_on, as_of) / $days_per_month AS months_since_last_late,
       date_diff('day', onboarded_on, as_of) / $days_per_month AS tenure_months,
       CAST(coalesce(invoice_count_12m, 0) AS DOUBLE) AS invoice_count_12m,
       industry, size_class,
       region, group_id,
       CAST(payment_terms_days AS DOUBLE) AS payment_terms_days,
       -- NOTE: the contract holds only the current credit limit, not its history,
       -- so past snapshots also see today's limit (and utilisation against it).
       credit_limit AS current_limit,
       coalesce(limit_locked, false) AS limit_locked,
       limit_valid_to,
       equity_base, revenue_base, has_statements,
       coalesce(invoiced_6m, 0.0) / 6 AS avg_monthly_invoiced_6m,
       is_defaulted
FROM joined
ORDER BY as_of, customer_id
"""


def fix_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every feature column its documented dtype (see :func:`build_features`), in a fixed column order."""
    columns = [*SNAPSHOT_KEYS, *FEATURE_NAMES, *CONTEXT_COLUMNS]
    frame = frame.loc[:, columns].copy()
    frame["customer_id"] = _text(frame["customer_id"])
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[us]")
    frame["limit_valid_to"] = pd.to_datetime(frame["limit_valid_to"]).astype("datetime64[us]")
    for column in (*CATEGORICAL_FEATURES, *_TEXT_COLUMNS):
        frame[column] = _text(frame[column])
    for column in _BOOL_COLUMNS:
        frame[column] = frame[column].astype(bool)
    not_numeric = {*CATEGORICAL_FEATURES, *_TEXT_COLUMNS, *_BOOL_COLUMNS, "limit_valid_to"}
    for column in (*FEATURE_NAMES, *CONTEXT_COLUMNS):
        if column not in not_numeric:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
    return frame.reset_index(drop=True)


def _text(values: pd.Series) -> pd.Series:
    """Convert to object dtype with None for missing values."""
    return values.astype(object).where(values.notna(), None)


def _check_as_of_dates(as_of_dates: Sequence[dt.date]) -> list[dt.date]:
    dates = set()
    for value in as_of_dates:
        if isinstance(value, np.datetime64):
            value = pd.Timestamp(value)
        if value is None or value is pd.NaT:
            raise ParamsError("features.invalid_as_of", value=repr(value))
        # A datetime (and pd.Timestamp) at midnight is accepted as its date.
        if isinstance(value, dt.datetime):
            if value.time() != dt.time(0, 0):
                raise ParamsError("features.invalid_as_of", value=repr(value))
            value = value.date()
        if not isinstance(value, dt.date):
            raise ParamsError("features.invalid_as_of", value=repr(value))
        dates.add(value)
    if not dates:
        raise ParamsError("features.no_as_of_dates")
    return sorted(dates)


def _check_unique_customers(con: duckdb.DuckDBPyConnection) -> None:
    count, example = con.execute(
        "SELECT count(*), min(customer_id) FROM "
        "(SELECT customer_id FROM customers GROUP BY customer_id HAVING count(*) > 1)"
    ).fetchall()[0]
    if count:
        raise InputDataError("features.duplicate_customers", count=count, example=example)


def _int_param(mapping: Mapping[str, object], section: str, name: str, minimum: int) -> int:
    if name not in mapping:
        raise ParamsError("features.param_missing", section=section, name=name)
    value = mapping[name]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParamsError("features.param_int", section=section, name=name, minimum=minimum, value=repr(value))
    return int(value)


def _add_months(day: dt.date, months: int) -> dt.date:
    """Shift ``day`` by calendar months, clamping to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def _month_start_on_or_after(day: dt.date) -> dt.date:
    return day if day.day == 1 else _add_months(dt.date(day.year, day.month, 1), 1)
