"""Run the feature builder's DuckDB SQL on Spark: transpile, rewrite what does not carry over, materialise.

The local engine builds features with the SQL texts of
:mod:`creditlimit.features.tables`, :mod:`creditlimit.features.snapshots` and
:mod:`creditlimit.features.recent_behaviour`. The Spark engine runs those same
texts: sqlglot transpiles them (``read="duckdb"``, ``write="spark"``) after a
small rewrite step for the DuckDB constructs that have no Spark counterpart:

- ``$name`` parameters become typed literals (dates as ``DATE '...'``, floats as
  ``CAST('...' AS DOUBLE)``, lists as arrays);
- decimal literals such as ``0.0`` become DOUBLE: DuckDB averages a DECIMAL to a
  DOUBLE, while Spark would keep a DECIMAL rounded to a few digits;
- ``to_months(n)`` becomes ``make_ym_interval(0, n)``;
- ``alias.* EXCLUDE (...)`` over a known table is expanded to its columns;
- ``ASOF JOIN ... ON <equalities> AND <left> <= <right column>`` becomes an
  inner join that keeps, per left row, the nearest right row (``QUALIFY
  row_number() ... = 1``); the left row is identified by the left columns the
  query selects;
- ``alias.rowid`` reads a ``rowid`` column that is added to that temp table when
  it is materialised.

``CREATE TEMP TABLE name AS ...`` is run as a query whose result is checkpointed
and registered as the temp view ``name``, so every later statement reads a fixed
result, as DuckDB's temp tables are.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["SparkSQL", "spark_sql_text"]

logger = logging.getLogger(__name__)

ROWID = "rowid"


def spark_sql_text(sql: str, params: Mapping[str, Any] | None = None,
                   schemas: Mapping[str, Sequence[str]] | None = None) -> str:
    """Transpile one DuckDB statement (its query part) to Spark SQL with the rewrites above.

    Parameters
    ----------
    sql : str
        A DuckDB ``SELECT`` or ``CREATE [OR REPLACE] TEMP TABLE ... AS SELECT``.
    params : mapping, optional
        Values of the ``$name`` parameters.
    schemas : mapping of str to sequence of str, optional
        Column names of the tables the statement reads, for star expansion.
    """
    return _query(_parse(sql), params or {}, schemas or {}).sql(dialect="spark")


class SparkSQL:
    """A Spark session that runs DuckDB statements the way a DuckDB connection does.

    It offers the part of the DuckDB connection API the feature code uses
    (``execute(sql, params)`` with ``fetchone``/``fetchall``), plus
    :meth:`frame` for a statement's result as a Spark DataFrame.
    """

    def __init__(self, spark) -> None:
        self.spark = spark
        self._schemas: dict[str, list[str]] = {}
        self._rowid_tables: set[str] = set()

    def register(self, name: str, frame) -> None:
        """Register a Spark DataFrame as the view ``name``."""
        frame.createOrReplaceTempView(name)
        self._schemas[name] = [field.name for field in frame.schema.fields]

    def frame(self, sql: str, params: Mapping[str, Any] | None = None):
        """Run one DuckDB statement; a temp table is materialised and registered, a query returned."""
        statement = _parse(sql)
        if _reads_catalog(statement):
            return self.spark.createDataFrame([(name,) for name in self._schemas], "table_name string")
        query = _query(statement, params or {}, self._schemas)
        frame = self.spark.sql(query.sql(dialect="spark"))
        if isinstance(statement, exp.Create):
            name = statement.this.name
            if name in self._rowid_tables:
                from pyspark.sql import functions as F

                frame = frame.withColumn(ROWID, F.monotonically_increasing_id())
            # Eager checkpoint: later statements read this result, not a recomputation.
            frame = frame.localCheckpoint(eager=True)
            self.register(name, frame)
            logger.debug("materialised %s", name)
        return frame

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> _Result:
        """Run a statement like ``duckdb.DuckDBPyConnection.execute``."""
        return _Result(self.frame(sql, params))

    def declare_rowid_tables(self, statements: Sequence[str]) -> None:
        """Note which temp tables the ``statements`` read by ``alias.rowid``."""
        self._rowid_tables |= {name for sql in statements for name in _rowid_tables(_parse(sql))}


class _Result:
    """Result rows of a statement, as DuckDB returns them."""

    def __init__(self, frame) -> None:
        self._frame = frame

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self._frame.collect()]

    def fetchone(self) -> tuple | None:
        rows = self._frame.limit(1).collect()
        return tuple(rows[0]) if rows else None


def _reads_catalog(statement: exp.Expression) -> bool:
    """Whether the statement lists tables from DuckDB's ``information_schema.tables``."""
    return any(table.db == "information_schema" and table.name == "tables"
               for table in statement.find_all(exp.Table))


def _parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def _query(statement: exp.Expression, params: Mapping[str, Any], schemas: Mapping[str, Sequence[str]]):
    """Return the statement's query with the rewrites applied (a copy)."""
    query = statement.expression if isinstance(statement, exp.Create) else statement
    query = query.copy()
    query = query.transform(lambda node: _bind(node, params))
    query = query.transform(_double_literal)
    query = query.transform(_to_months)
    for select in list(query.find_all(exp.Select)):
        _expand_stars(select, schemas)
        _rewrite_asof(select)
    return query


def _bind(node: exp.Expression, params: Mapping[str, Any]) -> exp.Expression:
    if not isinstance(node, (exp.Placeholder, exp.Parameter)):
        return node
    name = node.name
    if name not in params:
        raise KeyError(f"SQL parameter ${name} is missing: pass its value in params")
    return _literal(params[name])


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.datetime):
        raise TypeError(f"SQL parameter value {value!r} must be a date, not a datetime")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        # A plain 30.43 literal would be DECIMAL in Spark; repr round-trips the double.
        return exp.cast(exp.Literal.string(repr(value)), "DOUBLE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(item) for item in value])
    raise TypeError(f"SQL parameter value {value!r} has an unsupported type {type(value).__name__}")


def _double_literal(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and not node.is_string and any(c in node.this for c in ".eE"):
        if isinstance(node.parent, exp.DataType) or isinstance(node.parent, exp.DataTypeParam):
            return node
        return exp.cast(exp.Literal.string(node.this), "DOUBLE")
    return node


def _to_months(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_months":
        return exp.Anonymous(this="make_ym_interval", expressions=[exp.Literal.number(0), *node.expressions])
    return node


def _aliases(select: exp.Select) -> dict[str, str]:
    """Map each table alias of the select's FROM and JOINs to the table name."""
    sources = []
    if select.args.get("from_") is not None:
        sources.append(select.args["from_"].this)
    sources += [join.this for join in select.args.get("joins") or []]
    return {table.alias_or_name: table.name for table in sources if isinstance(table, exp.Table)}


def _expand_stars(select: exp.Select, schemas: Mapping[str, Sequence[str]]) -> None:
    aliases = _aliases(select)
    projections = []
    changed = False
    for projection in select.expressions:
        star = projection.this if isinstance(projection, exp.Column) else None
        table = aliases.get(projection.table) if isinstance(star, exp.Star) else None
        if table is None or table not in schemas:
            projections.append(projection)
            continue
        excluded = {column.name for column in star.args.get("except_") or star.args.get("except") or []}
        projections += [exp.column(name, table=projection.table) for name in schemas[table]
                        if name not in excluded and name != ROWID]
        changed = True
    if changed:
        select.set("expressions", projections)


def _rewrite_asof(select: exp.Select) -> None:
    """Turn an ASOF join into an inner join that keeps the nearest right row per left row."""
    for join in select.args.get("joins") or []:
        if (join.args.get("method") or "").upper() != "ASOF":
            continue
        right = join.this.alias_or_name
        left = select.args["from_"].this.alias_or_name
        order = _asof_order(join.args["on"], right)
        join.set("method", None)
        keys = [exp.column(p.name, table=left) for p in select.expressions
                if isinstance(p.unalias(), exp.Column) and p.unalias().table == left]
        window = exp.Window(this=exp.RowNumber(), partition_by=keys, order=exp.Order(expressions=[order]))
        select.set("qualify", exp.Qualify(this=exp.EQ(this=window, expression=exp.Literal.number(1))))


def _asof_order(on: exp.Expression, right: str) -> exp.Ordered:
    """Order of the right rows so that the first one is the ASOF match of the inequality in ``on``."""
    for node in on.find_all(exp.LTE, exp.LT, exp.GTE, exp.GT):
        left_side, right_side = node.this, node.expression
        if isinstance(right_side, exp.Column) and right_side.table == right:
            column, nearest_above = right_side, isinstance(node, (exp.LTE, exp.LT))
        elif isinstance(left_side, exp.Column) and left_side.table == right:
            column, nearest_above = left_side, isinstance(node, (exp.GTE, exp.GT))
        else:
            continue
        # left <= right.col: the smallest right value at or above; left >= right.col: the largest below.
        return exp.Ordered(this=column.copy(), desc=not nearest_above)
    raise ValueError(f"ASOF join condition has no inequality on {right}: {on.sql()}")


def _rowid_tables(statement: exp.Expression) -> set[str]:
    names = set()
    for select in statement.find_all(exp.Select):
        aliases = _aliases(select)
        for column in select.find_all(exp.Column):
            if column.name == ROWID and column.table in aliases:
                names.add(aliases[column.table])
    return names
