"""Open a DuckDB connection with one typed view per canonical table, and derive invoice balances.

Each view is named after its table in :data:`creditlimit.features.contract.TABLES`
and selects the contract columns by name, cast to the contract kinds
(``str`` → VARCHAR, ``date`` → DATE, ``float`` → DOUBLE, ``int`` → BIGINT,
``bool`` → BOOLEAN). An optional column the source lacks becomes an all-NULL
column, so SQL can name every contract column. Tables with amounts also get
``original_currency`` and ``fx_rate_to_base``, which validation writes. A source
without them, or a row where they are missing, is taken to be in the base
currency already (rate 1.0). Extra source columns are left out of the view.

:func:`create_invoice_balances` derives, from the invoices, credit notes and
payments, each invoice's open amount and fully paid date over time; features
and labels both read it.

Open amount of an invoice
    The invoice amount minus its payments (by ``document_id``) and its credit
    notes (by ``reference_id``) dated before the day in question. Settlement is
    measured in the invoice's own currency and valued at the invoice's rate, so
    a foreign-currency invoice paid in full is not left open by a moved FX rate.
    An open amount of at most ``SETTLED_TOLERANCE`` counts as settled.
Fully paid date
    The first ``paid_on`` at which the invoice's cumulative payments reach its
    amount net of the credit notes known on the day in question. An invoice
    cancelled in full by credit notes has no fully paid date.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.contract import TABLE_ORDER, TABLES
from creditlimit.i18n import register

__all__ = [
    "AMOUNT_TABLES",
    "SETTLED_TOLERANCE",
    "connect_tables",
    "clean_table_paths",
    "require_tables",
    "create_invoice_balances",
]

logger = logging.getLogger(__name__)

# Tables whose amounts validation converts to the base currency.
AMOUNT_TABLES = ("customers", "financial_statements", "invoices", "payments", "credit_events")
# An open amount of at most this much (invoice currency units) counts as settled.
SETTLED_TOLERANCE = 0.005

_SQL_TYPES = {"str": "VARCHAR", "date": "DATE", "float": "DOUBLE", "int": "BIGINT", "bool": "BOOLEAN"}

register({
    "features.unknown_table": {
        "en": "'{table}' is not a canonical table. Use one of: {known}.",
        "zh_CN": "“{table}”不是标准数据表。请使用以下之一：{known}。",
    },
    "features.table_file_missing": {
        "en": (
            "{path}: the clean table file is missing. Run `creditlimit validate` to write "
            "the clean tables, or pass the folder that contains them."
        ),
        "zh_CN": "{path}：缺少清洗后的数据表文件。请先运行 `creditlimit validate` 生成清洗表，或指定包含这些文件的文件夹。",
    },
    "features.table_column_missing": {
        "en": (
            "{source}: required column '{column}' of table '{table}' is missing. "
            "Add the column, or run validation, which writes every contract column."
        ),
        "zh_CN": "{source}：数据表“{table}”缺少必需列“{column}”。请添加该列，或先运行数据校验（校验会写出契约规定的全部列）。",
    },
    "features.table_not_loaded": {
        "en": (
            "The connection has no view for table(s) {tables}. Pass every table the "
            "step reads to connect_tables: {needed}."
        ),
        "zh_CN": "连接中缺少数据表视图：{tables}。请把该步骤读取的全部数据表传给 connect_tables：{needed}。",
    },
})


def clean_table_paths(clean_dir: Path) -> dict[str, Path]:
    """List the clean Parquet file of every canonical table in ``clean_dir``.

    Parameters
    ----------
    clean_dir : Path
        Folder written by validation, holding ``<table>.parquet`` per table.

    Returns
    -------
    dict of str to Path
        Table name to file path, in load order (``TABLE_ORDER``).

    Raises
    ------
    InputDataError
        If a table file is missing (``features.table_file_missing``).
    """
    paths = {table: Path(clean_dir) / f"{table}.parquet" for table in TABLE_ORDER}
    for path in paths.values():
        if not path.is_file():
            raise InputDataError("features.table_file_missing", path=str(path))
    return paths


def connect_tables(tables: Mapping[str, Path | pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with one typed view per given table.

    Parameters
    ----------
    tables : mapping of str to Path or DataFrame
        Canonical table name to a Parquet file or a pandas DataFrame. Any subset of
        the canonical tables may be given; steps check what they read with
        :func:`require_tables`.

    Returns
    -------
    duckdb.DuckDBPyConnection
        Connection holding the views. A DataFrame is read where it lies (no copy),
        so it must not change while the connection is in use.

    Raises
    ------
    ParamsError
        If a name is not a canonical table (``features.unknown_table``).
    InputDataError
        If a Parquet file is missing or a source lacks a required contract column.
    """
    con = duckdb.connect(database=":memory:")
    for table, source in tables.items():
        if table not in TABLES:
            raise ParamsError("features.unknown_table", table=table, known=", ".join(TABLE_ORDER))
        source_name = f"_source_{table}"
        if isinstance(source, pd.DataFrame):
            con.register(source_name, source)
            columns = [str(column) for column in source.columns]
            label = f"DataFrame '{table}'"
        else:
            path = Path(source)
            if not path.is_file():
                raise InputDataError("features.table_file_missing", path=str(path))
            con.execute(f"CREATE VIEW {source_name} AS SELECT * FROM read_parquet({_sql_text(str(path))})")
            columns = list(pq.read_schema(path).names)
            label = str(path)
        con.execute(f"CREATE VIEW {table} AS {_typed_select(table, source_name, columns, label)}")
        logger.debug("View %s created from %s", table, label)
    return con


def require_tables(con: duckdb.DuckDBPyConnection, needed: Iterable[str]) -> None:
    """Check that ``con`` has a table or view for each name in ``needed``.

    Raises
    ------
    InputDataError
        Naming the missing tables (``features.table_not_loaded``).
    """
    needed = list(needed)
    present = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [name for name in needed if name not in present]
    if missing:
        raise InputDataError("features.table_not_loaded", tables=", ".join(missing), needed=", ".join(needed))


def create_invoice_balances(
    con: duckdb.DuckDBPyConnection,
    *,
    first_day: dt.date,
    last_day: dt.date,
) -> None:
    """Create the temp table ``invoice_balances``: each invoice's state between its payment dates.

    Each row is the state of one invoice on the days ``d`` with
    ``after_on < d <= until_on`` (a NULL bound is open), counting the payments and
    credit notes dated before ``d``, so exactly one row per invoice applies to a
    given day. Readers also require ``issued_on < d``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the views ``invoices`` and ``payments``.
    first_day, last_day : datetime.date
        The days the caller will look at. Only invoices issued before
        ``last_day`` and states that apply to a day in ``[first_day, last_day]``
        are kept, which keeps a single-date build small.

    Notes
    -----
    Columns of ``invoice_balances``:

    - ``inv_key``: integer invoice key; ``customer_id``, ``issued_on``, ``due_on``
    - ``rate``: the invoice's ``fx_rate_to_base``
    - ``after_on``, ``until_on``: the days the state applies to
    - ``net_doc``: amount net of credit notes, in the invoice's currency
    - ``open_doc``, ``open_base``: open amount in the invoice's and the base
      currency, 0 once settled
    - ``paid_on``: fully paid date, NULL while open or when credit notes cancel
      the invoice
    - ``days_late``: days from ``due_on`` to ``paid_on``, floored at 0

    Also creates ``unallocated_reductions`` (``customer_id``, ``on_date``,
    ``applied_on``, ``amount_base``): payments and credit notes that match no
    invoice of their customer (``applied_on`` NULL), or that are dated before
    their invoice's issue date (``applied_on`` = that date). They reduce the
    customer's exposure on the days before ``applied_on``.
    """
    require_tables(con, ("invoices", "payments"))
    # The score stage requests the same day twice (features, then recent behaviour).
    if _balances_cover(con, first_day, last_day):
        logger.debug("Invoice balances for %s..%s already built", first_day, last_day)
        return
    started = time.perf_counter()
    con.execute(_INVOICES_SQL)
    con.execute(_REDUCTIONS_SQL, {"last_day": last_day})
    con.execute(_STEPS_SQL)
    con.execute(_BALANCES_SQL, {"first_day": first_day, "last_day": last_day, "tolerance": SETTLED_TOLERANCE})
    con.execute(_UNALLOCATED_REDUCTIONS_SQL)
    unmatched = con.execute("SELECT count(*) FROM unallocated_reductions WHERE applied_on IS NULL").fetchall()[0][0]
    if unmatched:
        logger.info("%d payments or credit notes match no invoice; they reduce open_exposure only", unmatched)
    if isinstance(con, duckdb.DuckDBPyConnection):
        con.execute("CREATE OR REPLACE TEMP TABLE _invoice_balances_days AS SELECT $first_day AS first_day, "
                    "$last_day AS last_day", {"first_day": first_day, "last_day": last_day})
    logger.debug("Invoice balances built in %.2f s", time.perf_counter() - started)


def _balances_cover(con: duckdb.DuckDBPyConnection, first_day: dt.date, last_day: dt.date) -> bool:
    """Tell whether ``invoice_balances`` was last built on this DuckDB connection for exactly these days."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return False
    built = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = '_invoice_balances_days'"
    ).fetchone()[0]
    if not built:
        return False
    days = con.execute("SELECT first_day, last_day FROM _invoice_balances_days").fetchone()
    return tuple(days) == (first_day, last_day)


# Invoices get an integer key (the temp table's rowid) so the joins and windows
# below compare integers, not text ids.
_INVOICES_SQL = """
CREATE OR REPLACE TEMP TABLE _invoice_keys AS
SELECT document_id, customer_id, issued_on, due_on, original_currency,
       fx_rate_to_base AS rate, amount / fx_rate_to_base AS amount_doc
FROM invoices
WHERE document_type = 'invoice'
"""

# Payments and credit notes dated before last_day, linked to their invoice
# (inv_key NULL when none matches). ``reduction_doc`` is in the invoice's
# currency: a document in the invoice's currency uses its own original amount,
# one in another currency is converted back at the invoice's rate.
# ``reduction_base`` is in base currency.
_REDUCTIONS_SQL = """
CREATE OR REPLACE TEMP TABLE _reductions AS
SELECT p.customer_id, p.paid_on AS on_date, i.rowid AS inv_key, i.issued_on AS inv_issued_on,
       true AS is_payment,
       p.amount AS reduction_base,
       CASE WHEN p.original_currency = i.original_currency THEN p.amount / p.fx_rate_to_base
            ELSE p.amount / i.rate END AS reduction_doc
FROM payments AS p
LEFT JOIN _invoice_keys AS i ON i.document_id = p.document_id AND i.customer_id = p.customer_id
WHERE p.paid_on < $last_day
UNION ALL
SELECT c.customer_id, c.issued_on, i.rowid, i.issued_on,
       false,
       -c.amount,
       -CASE WHEN c.original_currency = i.original_currency THEN c.amount / c.fx_rate_to_base
             ELSE c.amount / i.rate END
FROM invoices AS c
LEFT JOIN _invoice_keys AS i ON i.document_id = c.reference_id AND i.customer_id = c.customer_id
WHERE c.document_type = 'credit_note' AND c.issued_on < $last_day
"""

# Running totals per invoice and day, summed in DECIMAL so the result does not
# depend on the order of a parallel sum.
_STEPS_SQL = """
CREATE OR REPLACE TEMP TABLE _invoice_steps AS
SELECT inv_key, on_date,
       CAST(sum(reduction_doc::DECIMAL(38, 6)) FILTER (WHERE is_payment) AS DOUBLE) AS paid_day,
       CAST(sum(sum(CASE WHEN is_payment THEN reduction_doc ELSE 0.0 END::DECIMAL(38, 6))) OVER w AS DOUBLE) AS paid_cum,
       CAST(sum(sum(CASE WHEN is_payment THEN 0.0 ELSE reduction_doc END::DECIMAL(38, 6))) OVER w AS DOUBLE) AS credited_cum,
       lag(on_date) OVER w AS previous_on,
       lead(on_date) OVER w AS next_on
FROM _reductions
WHERE inv_key IS NOT NULL
GROUP BY inv_key, on_date
WINDOW w AS (PARTITION BY inv_key ORDER BY on_date)
"""

# State 0 (nothing paid or credited) lasts until the first step date; the state
# of step k starts the day after its date. Only states that apply to some day in
# [first_day, last_day] are kept.
#
# Fully paid date of a settled state: the first payment date whose running total
# reaches the amount net of the credit notes known in that state. When the
# payments before the state's own day fall short of that amount, it is the
# state's own day (the usual case). Otherwise (a credit note settled the
# invoice, or a step after settlement) an ASOF join on the running total finds it.
_BALANCES_SQL = """
CREATE OR REPLACE TEMP TABLE invoice_balances AS
WITH states AS (
    SELECT i.rowid AS inv_key, i.customer_id, i.issued_on, i.due_on, i.rate,
           CAST(NULL AS DATE) AS after_on, s.on_date AS until_on,
           i.amount_doc AS net_doc, 0.0 AS paid_cum, 0.0 AS paid_before
    FROM _invoice_keys AS i
    LEFT JOIN _invoice_steps AS s ON s.inv_key = i.rowid AND s.previous_on IS NULL
    WHERE i.issued_on < $last_day AND (s.on_date IS NULL OR s.on_date >= $first_day)
    UNION ALL
    SELECT s.inv_key, i.customer_id, i.issued_on, i.due_on, i.rate,
           s.on_date, s.next_on,
           i.amount_doc - s.credited_cum, s.paid_cum, s.paid_cum - coalesce(s.paid_day, 0.0)
    FROM _invoice_steps AS s
    JOIN _invoice_keys AS i ON i.rowid = s.inv_key
    WHERE i.issued_on < $last_day AND (s.next_on IS NULL OR s.next_on >= $first_day)
),
flagged AS (
    SELECT *, net_doc > $tolerance AND net_doc - paid_cum <= $tolerance AS is_settled
    FROM states
),
earlier AS (
    SELECT inv_key, after_on, net_doc
    FROM flagged
    WHERE is_settled AND paid_before >= net_doc - $tolerance
),
looked_up AS (
    SELECT b.inv_key, b.after_on, p.on_date AS paid_on
    FROM earlier AS b
    ASOF JOIN (
        SELECT inv_key, on_date, paid_cum FROM _invoice_steps
        WHERE paid_day > 0 AND inv_key IN (SELECT inv_key FROM earlier)
    ) AS p
        ON p.inv_key = b.inv_key AND b.net_doc - $tolerance <= p.paid_cum
),
dated AS (
    SELECT f.*,
           CASE WHEN NOT f.is_settled THEN NULL
                WHEN f.paid_before < f.net_doc - $tolerance THEN f.after_on
                ELSE l.paid_on END AS paid_on
    FROM flagged AS f
    LEFT JOIN looked_up AS l ON l.inv_key = f.inv_key AND l.after_on = f.after_on
)
SELECT inv_key, customer_id, issued_on, due_on, rate, after_on, until_on, net_doc,
       CASE WHEN net_doc - paid_cum > $tolerance THEN net_doc - paid_cum ELSE 0.0 END AS open_doc,
       CASE WHEN net_doc - paid_cum > $tolerance THEN (net_doc - paid_cum) * rate ELSE 0.0 END AS open_base,
       paid_on,
       greatest(date_diff('day', due_on, paid_on), 0) AS days_late
FROM dated
"""

# Reductions that are not applied to an issued invoice on some days: those
# matching no invoice (never applied) and those dated before their invoice was
# issued (applied from the issue date on).
_UNALLOCATED_REDUCTIONS_SQL = """
CREATE OR REPLACE TEMP TABLE unallocated_reductions AS
SELECT customer_id, on_date, inv_issued_on AS applied_on, reduction_base AS amount_base
FROM _reductions
WHERE inv_key IS NULL OR inv_issued_on > on_date
"""

def _typed_select(table: str, source_name: str, columns: list[str], label: str) -> str:
    spec = TABLES[table]
    available = set(columns)
    selected = []
    for column, kind in spec.columns.items():
        sql_type = _SQL_TYPES[kind]
        if column in available:
            selected.append(f'CAST("{column}" AS {sql_type}) AS {column}')
        elif column in spec.required:
            raise InputDataError("features.table_column_missing", source=label, table=table, column=column)
        else:
            selected.append(f"CAST(NULL AS {sql_type}) AS {column}")
    if table in AMOUNT_TABLES:
        # A missing rate means the amount is in base currency (validation writes
        # 1.0 for base-currency rows).
        given_currency = "currency" if "currency" in spec.columns else "NULL"
        if "original_currency" in available:
            selected.append(
                f'CAST(COALESCE("original_currency", {given_currency}) AS VARCHAR) AS original_currency'
            )
        else:
            selected.append(f"CAST({given_currency} AS VARCHAR) AS original_currency")
        if "fx_rate_to_base" in available:
            selected.append('CAST(COALESCE("fx_rate_to_base", 1.0) AS DOUBLE) AS fx_rate_to_base')
        else:
            selected.append("CAST(1.0 AS DOUBLE) AS fx_rate_to_base")
    return f"SELECT {', '.join(selected)} FROM {source_name}"


def _sql_text(value: str) -> str:
    """Quote ``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
