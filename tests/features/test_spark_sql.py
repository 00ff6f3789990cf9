"""The DuckDB-to-Spark SQL rewrite: parameters, literals, stars, ASOF joins and rowid."""

import datetime as dt
import os
import sys

import duckdb
import pandas as pd
import pytest

sqlglot = pytest.importorskip("sqlglot")

from creditlimit.features import snapshots, tables  # noqa: E402
from creditlimit.features.spark_sql import _rowid_tables, _parse, spark_sql_text  # noqa: E402

ASOF_SQL = """
SELECT l.k, l.t, r.v
FROM lefts AS l
ASOF JOIN rights AS r ON r.k = l.k AND l.t <= r.t
"""


def test_parameters_become_typed_literals():
    sql = spark_sql_text("SELECT $day AS d, $rate AS r, $n AS n, $names AS a", {
        "day": dt.date(2025, 1, 31), "rate": 30.436875, "n": 12, "names": ["default", "write_off"],
    })
    assert "CAST('2025-01-31' AS DATE)" in sql
    assert "CAST('30.436875' AS DOUBLE)" in sql
    assert "12 AS n" in sql
    assert "ARRAY('default', 'write_off')" in sql


def test_missing_parameter_is_named():
    with pytest.raises(KeyError, match=r"\$as_of"):
        spark_sql_text("SELECT $as_of")


def test_decimal_literals_become_double_but_casts_keep_their_type():
    sql = spark_sql_text("SELECT avg(CASE WHEN x THEN 1.0 ELSE 0.0 END), CAST(a AS DECIMAL(38, 6)) FROM t")
    assert "CAST('1.0' AS DOUBLE)" in sql and "CAST('0.0' AS DOUBLE)" in sql
    assert "DECIMAL(38, 6)" in sql


def test_star_exclude_is_expanded_from_the_schema():
    sql = spark_sql_text("SELECT s.*, f.* EXCLUDE (customer_id) FROM a AS s JOIN b AS f USING (customer_id)",
                         schemas={"b": ["customer_id", "revenue", "equity", "rowid"]})
    assert "s.*" in sql
    assert "f.revenue, f.equity" in sql
    assert "EXCEPT" not in sql and "f.rowid" not in sql


def test_asof_join_keeps_the_nearest_right_row():
    sql = spark_sql_text(ASOF_SQL)
    assert "ASOF" not in sql
    assert "ROW_NUMBER() OVER (PARTITION BY l.k, l.t ORDER BY r.t ASC" in sql


def test_to_months_becomes_a_year_month_interval():
    assert "MAKE_YM_INTERVAL(0, 18)" in spark_sql_text("SELECT d - to_months($age) FROM t", {"age": 18}).upper()


def test_rowid_tables_are_found_through_aliases():
    assert _rowid_tables(_parse(tables._REDUCTIONS_SQL)) == {"_invoice_keys"}
    assert _rowid_tables(_parse(tables._BALANCES_SQL)) == {"_invoice_keys"}


@pytest.mark.parametrize("sql", [
    tables._INVOICES_SQL, tables._REDUCTIONS_SQL, tables._STEPS_SQL, tables._BALANCES_SQL,
    snapshots._WINDOW_STARTS_SQL, snapshots._SNAPSHOT_SQL, snapshots._FINANCIAL_SQL, snapshots._DOCUMENT_SQL,
    snapshots._BALANCE_SQL, snapshots._UNALLOCATED_SQL, snapshots._EVENT_SQL, snapshots._FEATURE_SELECT_SQL,
])
def test_every_feature_statement_transpiles(sql):
    params = {"first_day": dt.date(2025, 1, 1), "last_day": dt.date(2025, 1, 1), "tolerance": 0.005,
              "age": 18, "days_per_month": snapshots.DAYS_PER_MONTH, "event_types": ["default"]}
    text = spark_sql_text(sql, params)
    assert "$" not in text and "ASOF" not in text and "TO_MONTHS" not in text.upper()


@pytest.mark.slow
def test_asof_rewrite_matches_duckdb_on_spark(tmp_path):
    """Run the rewritten ASOF join on Spark local mode and compare with DuckDB's own result."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    lefts = pd.DataFrame({"k": [1, 1, 2, 3], "t": [1.0, 5.0, 2.0, 9.0]})
    rights = pd.DataFrame({"k": [1, 1, 1, 2, 2, 3], "t": [0.5, 2.0, 6.0, 2.0, 3.0, 4.0],
                           "v": ["a", "b", "c", "d", "e", "f"]})
    con = duckdb.connect()
    con.register("lefts", lefts)
    con.register("rights", rights)
    expected = con.execute(ASOF_SQL).df().sort_values(["k", "t"], ignore_index=True)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.shuffle.partitions", "1").getOrCreate())
    try:
        spark.createDataFrame(lefts).createOrReplaceTempView("lefts")
        spark.createDataFrame(rights).createOrReplaceTempView("rights")
        got = spark.sql(spark_sql_text(ASOF_SQL)).toPandas().sort_values(["k", "t"], ignore_index=True)
    finally:
        spark.stop()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["v"].tolist() == ["b", "c", "d"]
