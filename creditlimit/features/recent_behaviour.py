"""Recent payment and dispute behaviour per customer, for the early-warning flags.

The model features look back 12 months. A worsening trend shows when the most
recent months are compared with that year, so this module computes the same
measures over a shorter recent window. The columns are flag inputs, never model
inputs, and they follow the point-in-time rule of the features: only records
dated strictly before ``as_of`` count.
"""

from __future__ import annotations

import datetime as dt
import logging

import duckdb
import pandas as pd

from creditlimit.features.tables import create_invoice_balances, require_tables

__all__ = ["RECENT_COLUMNS", "recent_behaviour"]

logger = logging.getLogger(__name__)

RECENT_COLUMNS = (
    "customer_id", "mean_days_late_recent", "paid_invoices_recent",
    "disputed_share_recent", "disputed_invoices_recent",
)

# Invoices fully paid in [start, as_of), in the state that applies at as_of, as in
# the features' mean_days_late_12m.
_PAID_SQL = """
SELECT customer_id,
       CAST(avg(days_late) AS DOUBLE) AS mean_days_late_recent,
       CAST(count(*) AS DOUBLE) AS paid_invoices_recent
FROM invoice_balances
WHERE paid_on IS NOT NULL AND paid_on >= $start AND paid_on < $as_of
  AND greatest(issued_on, coalesce(after_on, issued_on)) < $as_of
  AND $as_of <= coalesce(until_on, DATE '9999-12-31')
GROUP BY customer_id
"""

# Invoices issued in [start, as_of); the share counts invoices whose disputed
# value is known, as in the features' disputed_share_12m.
_DISPUTED_SQL = """
SELECT customer_id,
       CASE WHEN count(disputed) > 0
            THEN count(*) FILTER (WHERE disputed) / count(disputed) END AS disputed_share_recent,
       CAST(count(*) FILTER (WHERE disputed) AS DOUBLE) AS disputed_invoices_recent
FROM invoices
WHERE document_type = 'invoice' AND issued_on >= $start AND issued_on < $as_of
GROUP BY customer_id
"""


def recent_behaviour(con: duckdb.DuckDBPyConnection, as_of: dt.date, *, months: int) -> pd.DataFrame:
    """Measure each customer's payment delays and disputes over the recent months.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the clean table views (see
        :func:`creditlimit.features.tables.connect_tables`). The temp table
        ``invoice_balances`` is rebuilt for ``as_of``.
    as_of : datetime.date
        Scoring date; the window is ``[as_of - months, as_of)``.
    months : int
        Length of the recent window in months (``flags.recent_months``).

    Returns
    -------
    pandas.DataFrame
        One row per customer with any paid or issued invoice in the window,
        columns ``RECENT_COLUMNS``:

        - ``mean_days_late_recent``: mean days late of invoices fully paid in the
          window (NaN when none was paid)
        - ``paid_invoices_recent``: number of those invoices (0 when none)
        - ``disputed_share_recent``: disputed invoices / invoices with a known
          ``disputed`` value issued in the window (NaN when none is known)
        - ``disputed_invoices_recent``: number of disputed invoices issued in
          the window
    """
    require_tables(con, ("invoices", "payments"))
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=months)).date()
    create_invoice_balances(con, first_day=as_of, last_day=as_of)
    parameters = {"start": start, "as_of": as_of}
    paid = con.execute(_PAID_SQL, parameters).df()
    disputed = con.execute(_DISPUTED_SQL, parameters).df()
    recent = paid.merge(disputed, on="customer_id", how="outer")
    for column in RECENT_COLUMNS[1:]:
        recent[column] = pd.to_numeric(recent[column]).astype("float64")
    # A customer found by one query only has a true count of 0 in the other; the means stay missing.
    for column in ("paid_invoices_recent", "disputed_invoices_recent"):
        recent[column] = recent[column].fillna(0.0)
    recent["customer_id"] = recent["customer_id"].astype("str")
    recent = recent.sort_values("customer_id", ignore_index=True)
    logger.info("recent behaviour over %d months before %s: %d customers", months, as_of, len(recent))
    return recent[list(RECENT_COLUMNS)]
