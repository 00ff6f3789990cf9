"""Open a DuckDB connection with one typed view per canonical table.

Each view is named after its table in :data:`creditlimit.features.contract.TABLES`
and selects the contract columns by name, cast to the contract kinds
(``str`` → VARCHAR, ``date`` → DATE, ``float`` → DOUBLE, ``int`` → BIGINT,
``bool`` → BOOLEAN). An optional column the source lacks becomes an all-NULL
column, so SQL can name every contract column. Tables with amounts also get
``original_currency`` and ``fx_rate_to_base`` (written by validation); a source
without them is taken to be in the base currency already (rate 1.0). Extra
source columns are left out of the view.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.contract import TABLE_ORDER, TABLES
from creditlimit.i18n import register

__all__ = ["connect_tables", "clean_table_paths", "require_tables", "AMOUNT_TABLES"]

logger = logging.getLogger(__name__)

# Tables whose amounts validation converts to the base currency.
AMOUNT_TABLES = ("customers", "financial_statements", "invoices", "payments", "credit_events")

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
