"""Build the scoring features of one as_of on Spark from the local engine's own SQL.

The statements are the ones :func:`creditlimit.features.snapshots.build_features`
and :func:`creditlimit.features.recent_behaviour.recent_behaviour` run in DuckDB,
in the same order and with the same parameters, run through
:class:`creditlimit.features.spark_sql.SparkSQL`. The invoice balances come from
:func:`creditlimit.features.tables.create_invoice_balances` itself, called with
the Spark connection. The result stays a Spark DataFrame: nothing is collected.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from creditlimit.features import recent_behaviour as recent_sql
from creditlimit.features import snapshots
from creditlimit.features import tables
from creditlimit.features.batches import fix_feature_dtypes
from creditlimit.features.catalog import CONTEXT_COLUMNS, FEATURE_NAMES, SNAPSHOT_KEYS
from creditlimit.features.recent_behaviour import RECENT_COLUMNS
from creditlimit.features.spark_sql import SparkSQL

__all__ = ["register_clean_tables", "spark_features", "fix_feature_dtypes", "FEATURE_COLUMNS"]

logger = logging.getLogger(__name__)

FEATURE_COLUMNS = (*SNAPSHOT_KEYS, *FEATURE_NAMES, *CONTEXT_COLUMNS)
# Statements of build_features after the invoice balances, with their parameters.
_FEATURE_STEPS = (
    (snapshots._FINANCIAL_SQL, "financial"),
    (snapshots._DOCUMENT_SQL, None),
    (snapshots._BALANCE_SQL, None),
    (snapshots._UNALLOCATED_SQL, None),
    (snapshots._EVENT_SQL, "events"),
)


def register_clean_tables(sql: SparkSQL, table_paths: Mapping[str, Path]) -> None:
    """Register one typed view per clean Parquet table, with the local engine's typed SELECT."""
    for table, path in table_paths.items():
        source = sql.spark.read.parquet(str(Path(path).resolve()))
        source_name = f"_source_{table}"
        sql.register(source_name, source)
        columns = list(source.columns)
        typed = tables._typed_select(table, source_name, columns, str(path))
        sql.register(table, sql.frame(typed))
    sql.declare_rowid_tables([tables._REDUCTIONS_SQL, tables._BALANCES_SQL])


def spark_features(sql: SparkSQL, as_of: dt.date, *, max_statement_age_months: int, recent_months: int):
    """Build the feature row of every customer onboarded before ``as_of``, with the recent-behaviour columns.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``FEATURE_COLUMNS`` then ``RECENT_COLUMNS[1:]``, one row per customer,
        as :func:`creditlimit.features.snapshots.build_features` and
        :func:`creditlimit.features.recent_behaviour.recent_behaviour` give them
        before their pandas dtype fixes (see :func:`fix_feature_dtypes`).
    """
    snapshots._check_unique_customers(sql)
    sql.register("_as_of_dates", sql.spark.createDataFrame([(as_of,)], "as_of date"))
    sql.frame(snapshots._WINDOW_STARTS_SQL)
    sql.frame(snapshots._SNAPSHOT_SQL)
    tables.create_invoice_balances(sql, first_day=as_of, last_day=as_of)
    params = {
        "financial": {"age": max_statement_age_months, "days_per_month": snapshots.DAYS_PER_MONTH},
        "events": {"event_types": list(snapshots.DEFAULTED_EVENT_TYPES)},
    }
    for statement, key in _FEATURE_STEPS:
        sql.frame(statement, params.get(key))
    features = sql.frame(snapshots._FEATURE_SELECT_SQL, {"days_per_month": snapshots.DAYS_PER_MONTH})
    features = features.select(*FEATURE_COLUMNS)
    return features.join(_recent(sql, as_of, recent_months), on="customer_id", how="left")


def _recent(sql: SparkSQL, as_of: dt.date, months: int):
    """The recent-behaviour columns, as recent_behaviour() gives them (counts 0 when absent)."""
    from pyspark.sql import functions as F

    # The same window start as recent_behaviour().
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=months)).date()
    parameters = {"start": start, "as_of": as_of}
    paid = sql.frame(recent_sql._PAID_SQL, parameters)
    disputed = sql.frame(recent_sql._DISPUTED_SQL, parameters)
    recent = paid.join(disputed, on="customer_id", how="full_outer")
    for column in ("paid_invoices_recent", "disputed_invoices_recent"):
        recent = recent.withColumn(column, F.coalesce(F.col(column), F.lit(0.0)))
    return recent.select(*[F.col(c).cast("double") if c != "customer_id" else F.col(c)
                           for c in RECENT_COLUMNS])


