"""Count each customer's quarantined input rows, for the data-quality flag.

Validation writes every rejected row to ``<quarantine>/<table>.csv`` with its
``reason_code``. A customer with quarantined rows is scored on incomplete data,
so the scorer flags it. Only rows dated before ``as_of`` count, by the same
date column that decides whether a clean row is visible to the features. Rows
whose date is missing or unreadable count too, because nothing shows they lie
in the future.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pandas as pd

__all__ = ["QUARANTINE_SUMMARY_COLUMNS", "quarantine_summary"]

logger = logging.getLogger(__name__)

QUARANTINE_SUMMARY_COLUMNS = ("customer_id", "table", "reason_code", "rows")

# The date column that places a row in time, per table with a customer_id.
_DATE_COLUMNS = {
    "customers": "onboarded_on",
    "financial_statements": "published_on",
    "invoices": "issued_on",
    "payments": "paid_on",
    "credit_events": "event_on",
}


def quarantine_summary(quarantine_dir: Path, as_of: dt.date) -> pd.DataFrame:
    """Count quarantined rows per customer, table and reason.

    Parameters
    ----------
    quarantine_dir : pathlib.Path
        Folder of the quarantine CSV files (``data/interim/quarantine``). A
        missing folder or file counts as no quarantined rows.
    as_of : datetime.date
        Scoring date; rows dated on or after it are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``QUARANTINE_SUMMARY_COLUMNS``, sorted by customer, table and
        reason. Rows without a customer id (for example an fx rate) are left out.
    """
    parts = []
    for table, date_column in _DATE_COLUMNS.items():
        path = Path(quarantine_dir) / f"{table}.csv"
        if not path.is_file():
            continue
        rows = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8")
        if rows.empty or "customer_id" not in rows.columns:
            continue
        dates = rows[date_column] if date_column in rows.columns else pd.Series("", index=rows.index)
        dated = pd.to_datetime(dates.str.strip(), errors="coerce", format="%Y-%m-%d")
        visible = (rows["customer_id"].str.strip() != "") & ~(dated >= pd.Timestamp(as_of))
        counted = rows.loc[visible].groupby(["customer_id", "reason_code"], sort=True).size()
        parts.append(counted.rename("rows").reset_index().assign(table=table))
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype="int64" if column == "rows" else "str")
                             for column in QUARANTINE_SUMMARY_COLUMNS})
    summary = pd.concat(parts, ignore_index=True)[list(QUARANTINE_SUMMARY_COLUMNS)]
    summary = summary.sort_values(["customer_id", "table", "reason_code"], ignore_index=True)
    logger.info("quarantined rows before %s: %d rows of %d customers",
                as_of, int(summary["rows"].sum()), summary["customer_id"].nunique())
    return summary.astype({"rows": "int64"})
