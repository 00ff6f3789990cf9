"""Tests of reading the canonical tables from CSV, Parquet and SQL sources."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.contract import TABLE_ORDER, TABLES
from creditlimit.features.loading import RawTable, read_raw_folder, read_sql_tables, read_table_file
from creditlimit.i18n import use_locale

CUSTOMER_HEADER = "customer_id,industry,onboarded_on,payment_terms_days,currency"


def _write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_read_raw_folder_keeps_text_values(raw_tables, write_raw):
    """CSV values come back as the exact text written, in every contract column."""
    raw = read_raw_folder(write_raw(raw_tables))

    assert list(raw) == list(TABLE_ORDER)
    for name, table in raw.items():
        assert isinstance(table, RawTable)
        assert list(table.frame.columns) == list(TABLES[name].columns)
        expected = raw_tables[name].reset_index(drop=True)
        pd.testing.assert_frame_equal(table.frame.astype(object), expected.astype(object))
        assert table.source_rows.tolist() == list(range(2, len(expected) + 2))
        assert table.source_file.endswith(f"{name}.csv")


def test_read_raw_folder_parquet_same_as_csv(raw_tables, write_raw):
    """Parquet and CSV inputs give the same text frames; Parquet rows count from 1."""
    from_csv = read_raw_folder(write_raw(raw_tables, "csv"))
    from_parquet = read_raw_folder(write_raw(raw_tables, "parquet"))

    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(from_parquet[name].frame, from_csv[name].frame)
        assert from_parquet[name].source_rows.tolist() == list(range(1, len(raw_tables[name]) + 1))


def test_read_raw_folder_ignores_other_files(raw_tables, write_raw):
    """Files and folders that are not table files, such as _truth/, are ignored."""
    folder = write_raw(raw_tables)
    (folder / "_truth").mkdir()
    (folder / "_truth" / "true_pd.parquet").write_bytes(b"not parquet")
    (folder / "README.txt").write_text("notes")

    raw = read_raw_folder(folder)

    assert set(raw) == set(TABLE_ORDER)


def test_read_raw_folder_missing_table_file(raw_tables, write_raw):
    """A missing table file names the folder and the expected file names."""
    folder = write_raw(raw_tables)
    (folder / "payments.csv").unlink()
    (folder / "fx_rates.csv").unlink()

    with pytest.raises(InputDataError, match=r"input tables are missing: fx_rates, payments\. "
                       r"Add the files fx_rates\.csv / fx_rates\.parquet, payments\.csv"):
        read_raw_folder(folder)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"缺少输入表 fx_rates, payments.*payments\.parquet"):
        read_raw_folder(folder)
    with pytest.raises(InputDataError, match=str(folder)):
        read_raw_folder(folder)


def test_read_raw_folder_empty_table_with_header(raw_tables, write_raw):
    """A table file with only its header row is an empty table, not an error."""
    raw_tables["credit_events"] = raw_tables["credit_events"].iloc[0:0]
    folder = write_raw(raw_tables)

    raw = read_raw_folder(folder)

    assert raw["credit_events"].frame.empty
    assert list(raw["credit_events"].frame.columns) == list(TABLES["credit_events"].columns)
    assert raw["credit_events"].source_rows.shape == (0,)


def test_read_raw_folder_both_formats_rejected(raw_tables, write_raw):
    """A table present as both CSV and Parquet is rejected instead of picking one."""
    folder = write_raw(raw_tables)
    pq.write_table(pa.Table.from_pandas(raw_tables["invoices"], preserve_index=False),
                   folder / "invoices.parquet")

    with pytest.raises(InputDataError, match=r"table 'invoices' is present twice, as invoices\.csv / invoices\.parquet"):
        read_raw_folder(folder)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"表“invoices”同时存在两个文件"):
        read_raw_folder(folder)


def test_read_raw_folder_missing_folder(tmp_path):
    """A raw folder that does not exist names the folder and the parameter to set."""
    folder = tmp_path / "nowhere"

    with pytest.raises(InputDataError, match=r"nowhere: the raw data folder does not exist.*data\.raw_dir"):
        read_raw_folder(folder)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"原始数据文件夹不存在"):
        read_raw_folder(folder)


def test_read_table_file_missing_file(tmp_path):
    """A table file that does not exist names the folder and the file."""
    with pytest.raises(InputDataError, match=r"input tables are missing: payments\. Add the files payments\.csv"):
        read_table_file(tmp_path / "payments.csv", table="payments")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"缺少输入表 payments"):
        read_table_file(tmp_path / "payments.csv", table="payments")


def test_read_table_file_empty_file(tmp_path):
    """A 0-byte file is an error naming the file."""
    path = _write_text(tmp_path / "customers.csv", "")

    with pytest.raises(InputDataError, match=r"customers\.csv: the file is empty \(0 bytes\)"):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"customers\.csv：文件为空（0 字节）"):
        read_table_file(path, table="customers")


def test_read_table_file_gbk_detected(tmp_path):
    """A GBK-encoded CSV (Chinese Excel's export) is read as GB18030 with a warning."""
    text = f"{CUSTOMER_HEADER},name\r\nC001,retail,2023-01-01,30,CNY,Acme\r\nC002,retail,2023-01-01,30,CNY,华为\r\n"
    path = _write_text(tmp_path / "customers.csv", text, encoding="gbk")

    table = read_table_file(path, table="customers")

    assert table.frame["name"].tolist() == ["Acme", "华为"]
    assert table.encoding == "gb18030"


def test_read_table_file_gbk_rejected_when_utf8_forced(tmp_path):
    """With encoding utf-8 a GBK file raises an error naming the file, the line and both fixes."""
    text = f"{CUSTOMER_HEADER},name\nC001,retail,2023-01-01,30,CNY,Acme\nC002,retail,2023-01-01,30,CNY,华为\n"
    path = _write_text(tmp_path / "customers.csv", text, encoding="gbk")

    with pytest.raises(InputDataError, match=r"customers\.csv line 3: the text is not valid UTF-8 "
                       r"\(byte 0xBB .*GBK.*Save the file as UTF-8.*data\.encoding"):
        read_table_file(path, table="customers", encoding="utf-8")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"customers\.csv 第 3 行：文本不是有效的 UTF-8 编码.*GBK.*另存为 UTF-8.*data\.encoding"):
        read_table_file(path, table="customers", encoding="utf-8")


def test_read_table_file_gbk_header_rejected_when_utf8_forced(tmp_path):
    """A GBK byte in the header row is reported on line 1."""
    path = _write_text(tmp_path / "customers.csv", f"{CUSTOMER_HEADER},名称\n", encoding="gbk")

    with pytest.raises(InputDataError, match=r"customers\.csv line 1: the text is not valid UTF-8"):
        read_table_file(path, table="customers", encoding="UTF8")


def test_read_table_file_utf8_bom_accepted(tmp_path):
    """A UTF-8 byte order mark does not become part of the first column name."""
    text = f"{CUSTOMER_HEADER},name\nC001,retail,2023-01-01,30,CNY,华为\n"
    path = _write_text(tmp_path / "customers.csv", text, encoding="utf-8-sig")

    table = read_table_file(path, table="customers")

    assert table.frame.loc[0, "customer_id"] == "C001"
    assert table.frame.loc[0, "name"] == "华为"


def test_read_table_file_missing_required_column(tmp_path):
    """A missing required column names the file, the column and the required columns."""
    path = _write_text(
        tmp_path / "customers.csv",
        "customer_id,industry,onboarded_on,currency\nC001,retail,2023-01-01,CNY\n",
    )

    with pytest.raises(InputDataError, match=r"customers\.csv: required column 'payment_terms_days' "
                       r"is missing\. Add the column to the file\. Table customers requires customer_id"):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"customers\.csv：缺少必需列“payment_terms_days”"):
        read_table_file(path, table="customers")


def test_read_table_file_missing_several_columns(tmp_path):
    """Several missing required columns are all named in one error."""
    path = _write_text(tmp_path / "customers.csv", "customer_id,industry\nC001,retail\n")

    with pytest.raises(InputDataError, match=r"required columns are missing: onboarded_on, payment_terms_days, currency\."):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"缺少必需列 onboarded_on, payment_terms_days, currency"):
        read_table_file(path, table="customers")


def test_read_table_file_extra_columns_logged_and_dropped(tmp_path, caplog):
    """Unknown columns are reported in one warning and dropped from the frame."""
    path = _write_text(
        tmp_path / "customers.csv",
        f"{CUSTOMER_HEADER},score,notes\nC001,retail,2023-01-01,30,CNY,5,x\nC002,retail,2023-01-01,30,CNY,6,y\n",
    )

    with caplog.at_level(logging.WARNING, logger="creditlimit.features.loading"):
        table = read_table_file(path, table="customers")

    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "ignoring 2 columns that are not in the customers contract: score, notes" in warnings[0]
    assert table.extra_columns == ("score", "notes")
    assert "score" not in table.frame.columns


def test_read_table_file_column_order_irrelevant(tmp_path):
    """Columns are selected by name, so their order in the file does not matter."""
    first = _write_text(tmp_path / "a.csv", f"{CUSTOMER_HEADER}\nC001,retail,2023-01-01,30,CNY\n")
    second = _write_text(
        tmp_path / "b.csv",
        "currency,payment_terms_days,onboarded_on,industry,customer_id\nCNY,30,2023-01-01,retail,C001\n",
    )

    pd.testing.assert_frame_equal(
        read_table_file(first, table="customers").frame,
        read_table_file(second, table="customers").frame,
    )


def test_read_table_file_optional_columns_added_missing(tmp_path):
    """Absent optional columns are added with every value missing."""
    path = _write_text(tmp_path / "customers.csv", f"{CUSTOMER_HEADER}\nC001,retail,2023-01-01,30,CNY\n")

    frame = read_table_file(path, table="customers").frame

    assert frame["credit_limit"].isna().all()
    assert frame["limit_locked"].isna().all()


def test_read_table_file_keeps_leading_zeros_and_spaces(tmp_path):
    """Identifiers stay text with leading zeros, and values are not stripped at load."""
    path = _write_text(tmp_path / "customers.csv", f"{CUSTOMER_HEADER}\n00123, retail ,2023-01-01,030,CNY\n")

    frame = read_table_file(path, table="customers").frame

    assert frame.loc[0, "customer_id"] == "00123"
    assert frame.loc[0, "industry"] == " retail "
    assert frame.loc[0, "payment_terms_days"] == "030"


@pytest.mark.parametrize(
    ("header", "message_en", "message_zh"),
    [
        pytest.param("\n\n", r"the header row cannot be parsed \(the first line is blank\)",
                     r"无法解析表头行", id="blank"),
        pytest.param(f"{CUSTOMER_HEADER},currency\n", r"column 'currency' appears more than once",
                     r"列“currency”出现了不止一次", id="duplicate"),
        pytest.param(f"{CUSTOMER_HEADER},,name\n", r"column 6 has no name in the header",
                     r"第 6 列没有列名", id="unnamed"),
        pytest.param('customer_id,"industry\n', r"the header row cannot be parsed \(unexpected end of data\)",
                     r"无法解析表头行（unexpected end of data）", id="unclosed-quote"),
        pytest.param('customer_id,"industry"x,onboarded_on\n', r"the header row cannot be parsed",
                     r"无法解析表头行", id="stray-quote"),
    ],
)
def test_read_table_file_bad_header(tmp_path, header, message_en, message_zh):
    """A header that cannot be parsed names the file and the problem."""
    path = _write_text(tmp_path / "customers.csv", header)

    with pytest.raises(InputDataError, match=r"customers\.csv: " + message_en):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=message_zh):
        read_table_file(path, table="customers")


@pytest.mark.parametrize("bad_line", [2, 3])
def test_read_table_file_too_many_fields(tmp_path, bad_line):
    """A row with more fields than the header is an error naming its line, never truncated."""
    rows = ["C001,retail,2023-01-01,30,CNY", "C002,retail,2023-01-01,30,CNY"]
    rows[bad_line - 2] = "C00X,retail,2023-01-01,1,234,CNY"
    path = _write_text(tmp_path / "customers.csv", "\n".join([CUSTOMER_HEADER, *rows]) + "\n")

    with pytest.raises(InputDataError, match=rf"customers\.csv line {bad_line}: the row has 6 fields "
                       r"but the header has 5\. Put values that contain commas in double quotes"):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=rf"第 {bad_line} 行：该行有 6 个字段，而表头有 5 个"):
        read_table_file(path, table="customers")


def test_read_table_file_unclosed_quote(tmp_path):
    """A quote that is never closed is a CSV parse error naming the file."""
    path = _write_text(tmp_path / "customers.csv", f'{CUSTOMER_HEADER}\nC001,"retail,2023-01-01,30,CNY\n')

    with pytest.raises(InputDataError, match=r"customers\.csv: the file cannot be parsed as CSV"):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"无法按 CSV 解析该文件"):
        read_table_file(path, table="customers")


def test_read_table_file_line_numbers_after_quoted_newlines(tmp_path):
    """Row numbers are file line numbers, also after a quoted value spanning two lines."""
    text = (
        f"{CUSTOMER_HEADER},name\n"
        'C001,retail,2023-01-01,30,CNY,"two\nlines"\n'
        "C002,retail,2023-01-01,30,CNY,plain\n"
    )
    path = _write_text(tmp_path / "customers.csv", text)

    table = read_table_file(path, table="customers")

    assert table.source_rows.tolist() == [2, 4]
    assert table.frame.loc[0, "name"] == "two\nlines"


def test_read_table_file_blank_lines_skipped(tmp_path, caplog):
    """Blank lines are skipped with a warning and the line numbers still match the file."""
    text = f"{CUSTOMER_HEADER}\nC001,retail,2023-01-01,30,CNY\n\nC002,retail,2023-01-01,30,CNY\n\n"
    path = _write_text(tmp_path / "customers.csv", text)

    with caplog.at_level(logging.WARNING, logger="creditlimit.features.loading"):
        table = read_table_file(path, table="customers")

    assert table.frame["customer_id"].tolist() == ["C001", "C002"]
    assert table.source_rows.tolist() == [2, 4]
    assert "skipped 2 blank lines" in caplog.text


def test_read_table_file_crlf_line_endings(tmp_path):
    """Windows line endings leave no carriage return in the values."""
    path = _write_text(tmp_path / "customers.csv", f"{CUSTOMER_HEADER}\r\nC001,retail,2023-01-01,30,CNY\r\n")

    frame = read_table_file(path, table="customers").frame

    assert frame.loc[0, "currency"] == "CNY"


def test_read_table_file_unreadable_parquet(tmp_path):
    """A file that is not Parquet names the file and the fix."""
    path = tmp_path / "customers.parquet"
    path.write_bytes(b"this is not a parquet file")

    with pytest.raises(InputDataError, match=r"customers\.parquet: the file cannot be read as Parquet"):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"无法按 Parquet 读取该文件"):
        read_table_file(path, table="customers")


def test_read_table_file_parquet_typed_columns_as_text(tmp_path):
    """Typed Parquet columns become the text a CSV export would hold."""
    arrow_table = pa.table({
        "customer_id": pa.array(["C001", "C002", "C003"]),
        "industry": pa.array(["retail", "retail", None]).dictionary_encode(),
        "onboarded_on": pa.array([dt.date(2023, 1, 2), None, dt.date(2023, 3, 4)], pa.date32()),
        "payment_terms_days": pa.array([30, 60, None], pa.int64()),
        "currency": pa.array(["CNY", "USD", "CNY"]),
        "credit_limit": pa.array([1500.5, np.nan, None], pa.float64()),
        "limit_locked": pa.array([True, False, None]),
        "limit_valid_to": pa.array(
            [dt.datetime(2024, 12, 31), dt.datetime(2024, 12, 31, 15, 30), None], pa.timestamp("us")
        ),
        "extra_list": pa.array([[1], [2], []]),
    })
    path = tmp_path / "customers.parquet"
    pq.write_table(arrow_table, path)

    table = read_table_file(path, table="customers")
    frame = table.frame.astype(object).where(table.frame.notna(), None)

    assert frame["industry"].tolist() == ["retail", "retail", None]
    assert frame["onboarded_on"].tolist() == ["2023-01-02", None, "2023-03-04"]
    assert frame["payment_terms_days"].tolist() == ["30", "60", None]
    assert frame["credit_limit"].tolist() == ["1500.5", None, None]
    assert frame["limit_locked"].tolist() == ["true", "false", None]
    assert frame["limit_valid_to"].tolist() == ["2024-12-31", "2024-12-31T15:30:00", None]
    assert table.extra_columns == ("extra_list",)


def test_read_table_file_parquet_nested_contract_column(tmp_path):
    """A contract column of a nested Parquet type is an error naming the column."""
    arrow_table = pa.table({
        "customer_id": pa.array([["C001"]]), "industry": ["retail"], "onboarded_on": ["2023-01-01"],
        "payment_terms_days": ["30"], "currency": ["CNY"],
    })
    path = tmp_path / "customers.parquet"
    pq.write_table(arrow_table, path)

    with pytest.raises(InputDataError, match=r"column 'customer_id' has the type list<element: string>"):
        read_table_file(path, table="customers")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"列“customer_id”的类型为 list"):
        read_table_file(path, table="customers")


def _write_sqlite(tables: dict[str, pd.DataFrame], path: Path, skip: tuple[str, ...] = ()) -> str:
    """Write the text tables into SQLite, with typed columns where SQL would have them."""
    typed_columns = {"amount": "REAL", "credit_limit": "REAL", "payment_terms_days": "INTEGER",
                     "rate_to_base": "REAL"}
    with sqlite3.connect(path) as connection:
        for name, frame in tables.items():
            if name in skip:
                continue
            columns = ", ".join(f'"{c}" {typed_columns.get(c, "TEXT")}' for c in frame.columns)
            connection.execute(f'CREATE TABLE "{name}" ({columns})')
            marks = ", ".join("?" for _ in frame.columns)
            rows = [
                [None if value == "" else _sql_value(column, value, typed_columns)
                 for column, value in zip(frame.columns, row)]
                for row in frame.itertuples(index=False)
            ]
            connection.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
    return f"sqlite:///{path}"


def _sql_value(column: str, value: str, typed_columns: dict[str, str]) -> object:
    kind = typed_columns.get(column)
    if kind == "REAL":
        return float(value)
    if kind == "INTEGER":
        return int(value)
    return value


def test_read_sql_tables_sqlite(raw_tables, tmp_path):
    """SQL tables are read by name; numbers and NULLs come back as text and missing."""
    url = _write_sqlite(raw_tables, tmp_path / "ledger.db")

    raw = read_sql_tables(url)

    assert list(raw) == list(TABLE_ORDER)
    customers = raw["customers"]
    assert customers.source_file == f"{url}#customers"
    assert customers.frame["payment_terms_days"].tolist() == ["30", "60"]
    assert customers.frame["credit_limit"].tolist() == ["100000.0", "20000.0"]
    assert customers.frame["limit_locked"].isna().tolist() == [True, False]
    assert raw["invoices"].frame["amount"].tolist() == ["1000.0", "500.0", "300.0", "-100.0"]
    assert raw["invoices"].source_rows.tolist() == [1, 2, 3, 4]


def test_read_sql_tables_missing_table(raw_tables, tmp_path):
    """A missing SQL table names the database and the table."""
    url = _write_sqlite(raw_tables, tmp_path / "ledger.db", skip=("credit_events",))

    with pytest.raises(InputDataError, match=r"ledger\.db: tables are missing: credit_events\. Create them"):
        read_sql_tables(url)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"ledger\.db：缺少数据表 credit_events"):
        read_sql_tables(url)


def test_read_sql_tables_missing_column(raw_tables, tmp_path):
    """A SQL table without a required column names the table and the column."""
    raw_tables["payments"] = raw_tables["payments"].drop(columns=["paid_on"])
    url = _write_sqlite(raw_tables, tmp_path / "ledger.db")

    with pytest.raises(InputDataError, match=r"ledger\.db#payments: required column 'paid_on' is missing"):
        read_sql_tables(url)


def test_read_sql_tables_invalid_url():
    """A URL SQLAlchemy cannot parse is a parameter error in both locales."""
    with pytest.raises(ParamsError, match=r"'not a url' is not a valid SQLAlchemy database URL"):
        read_sql_tables("not a url")
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"“not a url”不是有效的 SQLAlchemy 数据库 URL"):
        read_sql_tables("not a url")


def test_raw_table_checks_row_numbers():
    """A RawTable with a row number count unlike its row count is rejected."""
    frame = pd.DataFrame({"currency": ["USD"]}, dtype="str")

    with pytest.raises(ValueError, match="source_rows has 2 entries for 1 rows"):
        RawTable(name="fx_rates", frame=frame, source_file="x.csv", source_rows=np.array([1, 2]))


def test_read_table_file_parquet_zoned_timestamp_local_date(tmp_path):
    """A zoned timestamp at local midnight becomes its local calendar date."""
    utc = pa.array([dt.datetime(2023, 12, 31, 16, 0)], pa.timestamp("us", tz="UTC"))
    arrow_table = pa.table({
        "customer_id": ["C001"], "industry": ["retail"],
        "onboarded_on": utc.cast(pa.timestamp("us", tz="Asia/Shanghai")),
        "payment_terms_days": [30], "currency": ["CNY"],
    })
    path = tmp_path / "customers.parquet"
    pq.write_table(arrow_table, path)

    frame = read_table_file(path, table="customers").frame

    assert frame.loc[0, "onboarded_on"] == "2024-01-01"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_read_table_file_wrong_delimiter(tmp_path, delimiter):
    """A semicolon- or tab-separated file gets a delimiter message, not missing columns."""
    path = tmp_path / "fx_rates.csv"
    path.write_text(delimiter.join(["currency", "rate_on", "rate_to_base"]) + "\nUSD" + delimiter
                    + "2024-01-01" + delimiter + "7.1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="looks separated by .* but files must be comma-separated"):
        read_table_file(path, table="fx_rates")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="必须以逗号分隔"):
        read_table_file(path, table="fx_rates")


def test_wrong_delimiter_commas_in_values(tmp_path):
    """A semicolon file whose values contain commas still gets the delimiter message."""
    path = tmp_path / "customers.csv"
    path.write_text("customer_id;name;industry\nC1;Acme Co., Ltd.;retail\nC2;Beta;182,145.95\n",
                    encoding="utf-8")
    with pytest.raises(InputDataError, match="looks separated by ';'"):
        read_table_file(path, table="customers")
