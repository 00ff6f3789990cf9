"""Bad-input campaign: malformed raw folders through the real loaders and validation.

Each case starts from the tiny valid portfolio of ``conftest.py``, breaks one
thing and states the outcome. The outcome is one of: an error naming the file
(and line, column and value where there is one) with the fix, in en and zh_CN;
rows quarantined with their reason code, row, column and value; rows dropped as
exact copies; or a valid variant that is read correctly. No case may end in
another exception. In every case that validates, the rows read from each file
equal accepted + dropped + quarantined in the validation report.

Most cases run through the Python API (``read_raw_folder`` + ``validate_tables``);
a few run the ``creditlimit validate`` command in a subprocess.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from creditlimit.errors import CreditLimitError, InputDataError, ParamsError
from creditlimit.features.contract import TABLE_ORDER
from creditlimit.features.loading import read_raw_folder
from creditlimit.features.validation import ValidationResult, validate_tables
from creditlimit.i18n import use_locale

AS_OF_LIMIT = dt.date(2024, 4, 30)

# New rows that no other row references, so quarantining one changes nothing else.
NEW_ROWS = {
    "fx_rates": {"currency": "USD", "rate_on": "2024-03-01", "rate_to_base": "7.3"},
    "customers": {"customer_id": "C009", "industry": "services", "onboarded_on": "2024-01-15",
                  "payment_terms_days": "45", "currency": "CNY"},
    "financial_statements": {
        "customer_id": "C001", "period_end": "2022-12-31", "published_on": "2023-04-30",
        "currency": "CNY", "revenue": "900000", "net_profit": "40000", "total_assets": "700000",
        "current_assets": "250000", "total_liabilities": "450000", "current_liabilities": "180000",
        "equity": "250000", "operating_cash_flow": "50000",
    },
    "invoices": {"document_id": "INV9", "document_type": "invoice", "customer_id": "C001",
                 "issued_on": "2024-03-01", "due_on": "2024-03-31", "amount": "250", "currency": "CNY"},
    "payments": {"payment_id": "P9", "customer_id": "C001", "paid_on": "2024-03-05",
                 "amount": "250", "currency": "CNY"},
    "credit_events": {"customer_id": "C001", "event_on": "2024-04-01", "event_type": "write_off",
                      "amount": "900"},
}


# --- Outcomes ----------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """The run stops with ``error`` whose message matches ``en`` and ``zh`` (regular expressions)."""

    key: str
    en: str
    zh: str
    error: type[CreditLimitError] = InputDataError


@dataclass(frozen=True)
class Quarantined:
    """The row on source line ``row`` of ``table`` is quarantined with ``code``."""

    table: str
    row: int
    code: str
    column: str
    value: str


@dataclass(frozen=True)
class Dropped:
    """``count`` rows of ``table`` are dropped with ``code``."""

    table: str
    code: str
    count: int


@dataclass(frozen=True)
class Accepted:
    """The run succeeds and ``check`` holds on the result."""

    description: str
    check: Callable[[ValidationResult], None]


# --- Building a broken raw folder ----------------------------------------------


@dataclass
class Portfolio:
    """The tables of one case: text frames written as UTF-8 CSV unless a file replaces them."""

    tables: dict[str, pd.DataFrame]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    rows_in: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, **changes: str) -> int:
        """Append a new row (``NEW_ROWS`` plus ``changes``); return its CSV line number."""
        row = {**NEW_ROWS[table], **changes}
        frame = self.tables[table]
        new = pd.DataFrame([{column: row.get(column, "") for column in frame.columns}])
        self.tables[table] = pd.concat([frame, new], ignore_index=True)
        return len(self.tables[table]) + 1

    def set(self, table: str, position: int, **changes: str) -> None:
        for column, value in changes.items():
            self.tables[table].loc[position, column] = value

    def csv_text(self, table: str, **options) -> str:
        return self.tables[table].to_csv(index=False, lineterminator="\n", **options)

    def write_file(self, table: str, content: bytes, *, suffix: str = "csv", rows: int | None = None) -> None:
        """Replace ``table`` by a file of raw bytes that contains ``rows`` records."""
        self.files[table] = (suffix, content)
        if rows is not None:
            self.rows_in[table] = rows

    def write_parquet(self, table: str, arrow_table: pa.Table) -> None:
        sink = io.BytesIO()
        pq.write_table(arrow_table, sink)
        self.write_file(table, sink.getvalue(), suffix="parquet", rows=arrow_table.num_rows)

    def remove(self, table: str) -> None:
        self.files[table] = ("", b"")

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name in TABLE_ORDER:
            suffix, content = self.files.get(name, ("csv", None))
            if content is None:
                (folder / f"{name}.csv").write_text(self.csv_text(name), encoding="utf-8", newline="")
            elif suffix:
                (folder / f"{name}.{suffix}").write_bytes(content)
        return folder

    def expected_rows_in(self, name: str) -> int:
        return self.rows_in.get(name, len(self.tables[name]))


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Portfolio], object]
    outcomes: tuple
    encoding: str = "auto"
    max_reject_share: float = 1.0


# --- Builders ----------------------------------------------------------------


def _empty_file(portfolio: Portfolio) -> None:
    portfolio.write_file("customers", b"")


def _blank_first_line(portfolio: Portfolio) -> None:
    portfolio.write_file("customers", b"\n\nC001,retail,2023-06-01,30,CNY\n")


def _delimited(delimiter: str) -> Callable[[Portfolio], None]:
    def build(portfolio: Portfolio) -> None:
        portfolio.write_file("customers", portfolio.csv_text("customers", sep=delimiter).encode("utf-8"))
    return build


def _utf8_bom(portfolio: Portfolio) -> None:
    portfolio.write_file("customers", portfolio.csv_text("customers").encode("utf-8-sig"), rows=2)


def _gbk_excel_export(portfolio: Portfolio) -> None:
    # Chinese Excel's "CSV (comma delimited)": GBK text, CRLF line endings, no BOM.
    portfolio.set("customers", 0, name="华为技术有限公司", region="广东")
    text = portfolio.csv_text("customers").replace("\n", "\r\n")
    portfolio.write_file("customers", text.encode("gbk"), rows=2)


def _cp1252_export(portfolio: Portfolio) -> None:
    portfolio.set("customers", 1, name="Café Müller")
    portfolio.write_file("customers", portfolio.csv_text("customers").encode("cp1252"), rows=2)


def _utf16_export(portfolio: Portfolio) -> None:
    portfolio.write_file("customers", portfolio.csv_text("customers", sep="\t").encode("utf-16"))


def _png_as_csv(portfolio: Portfolio) -> None:
    portfolio.write_file("customers", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def _xlsx_as_csv(portfolio: Portfolio) -> None:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    portfolio.write_file("customers", sink.getvalue())


def _parquet_as_csv(portfolio: Portfolio) -> None:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(portfolio.tables["customers"], preserve_index=False), sink)
    portfolio.write_file("customers", sink.getvalue())


def _corrupt_parquet(portfolio: Portfolio) -> None:
    portfolio.write_file("customers", b"PAR1 this is not a complete parquet file", suffix="parquet")


def _missing_table(portfolio: Portfolio) -> None:
    portfolio.remove("credit_events")


def _drop_columns(*columns: str) -> Callable[[Portfolio], None]:
    def build(portfolio: Portfolio) -> None:
        portfolio.tables["customers"] = portfolio.tables["customers"].drop(columns=list(columns))
    return build


def _duplicate_header(portfolio: Portfolio) -> None:
    text = portfolio.csv_text("customers").replace("customer_id,", "customer_id,currency,", 1)
    lines = text.splitlines()
    lines[1:] = [line.replace(",", ",CNY,", 1) for line in lines[1:]]
    portfolio.write_file("customers", ("\n".join(lines) + "\n").encode("utf-8"))


def _unnamed_column(portfolio: Portfolio) -> None:
    portfolio.tables["customers"].insert(2, "", "x")
    portfolio.tables["customers"].columns = [*portfolio.tables["customers"].columns[:2], "", *portfolio.tables["customers"].columns[3:]]


def _unclosed_quote(portfolio: Portfolio) -> None:
    text = portfolio.csv_text("invoices") + 'INV9,invoice,C001,"2024-03-01,2024-03-31,250,CNY,,\n'
    portfolio.write_file("invoices", text.encode("utf-8"))


def _unquoted_thousands(portfolio: Portfolio) -> None:
    # A thousands separator in an unquoted amount splits it into two fields.
    line = "INV9,invoice,C001,2024-03-01,2024-03-31,1,234.56,CNY,,\n"
    portfolio.write_file("invoices", (portfolio.csv_text("invoices") + line).encode("utf-8"))


def _too_many_rejects(portfolio: Portfolio) -> None:
    portfolio.add("invoices", issued_on="3/1/2024")


def _header_only(portfolio: Portfolio) -> None:
    portfolio.tables["invoices"] = portfolio.tables["invoices"].iloc[0:0]


def _extra_column(portfolio: Portfolio) -> None:
    portfolio.tables["customers"]["notes"] = ["vip", ""]


def _reordered_columns(portfolio: Portfolio) -> None:
    portfolio.tables["customers"] = portfolio.tables["customers"][portfolio.tables["customers"].columns[::-1]]


def _trailing_whitespace(portfolio: Portfolio) -> None:
    portfolio.add("invoices", customer_id=" C001 ", currency="CNY ", amount=" 250.00\t", document_type="invoice ")


def _leading_zero_ids(portfolio: Portfolio) -> None:
    portfolio.add("customers", customer_id="00123")
    portfolio.add("invoices", customer_id="00123")
    portfolio.add("invoices", document_id="INV10", customer_id="123")


def _full_width_amount(portfolio: Portfolio) -> None:
    portfolio.add("invoices", amount="１２３４．５", issued_on="２０２４－０３－０１")


def _mixed_line_endings(portfolio: Portfolio) -> None:
    portfolio.add("invoices", document_id="INV10", issued_on="01/03/2024")
    lines = portfolio.csv_text("invoices").split("\n")
    text = "\r\n".join(lines[:3]) + "\r\n" + "\n".join(lines[3:])
    portfolio.write_file("invoices", text.encode("utf-8"), rows=5)


def _quoted_newline(portfolio: Portfolio) -> None:
    portfolio.set("customers", 0, name="Acme\nTrading Ltd")
    portfolio.add("customers", currency="ZZZ")


def _blank_lines(portfolio: Portfolio) -> None:
    portfolio.add("invoices", amount="abc")
    lines = portfolio.csv_text("invoices").split("\n")
    text = "\n".join([lines[0], "", *lines[1:3], "", "", *lines[3:]])
    portfolio.write_file("invoices", text.encode("utf-8"), rows=5)


def _prepayment(portfolio: Portfolio) -> None:
    portfolio.add("payments", document_id="INV1", paid_on="2023-12-20", amount="100")


def _parquet_typed_columns(portfolio: Portfolio) -> None:
    frame = portfolio.tables["customers"]
    arrow_table = pa.table({
        "customer_id": frame["customer_id"].tolist(),
        "industry": frame["industry"].tolist(),
        "onboarded_on": pa.array([dt.datetime(2023, 6, 1), dt.datetime(2023, 7, 1)], pa.timestamp("ms")),
        "payment_terms_days": pa.array([30.0, 60.0], pa.float64()),
        "currency": frame["currency"].tolist(),
        "credit_limit": pa.array([100000, 20000], pa.int64()),
        "limit_locked": pa.array([None, True], pa.bool_()),
    })
    portfolio.write_parquet("customers", arrow_table)


def _parquet_dates_as_integers(portfolio: Portfolio) -> None:
    frame = portfolio.tables["credit_events"]
    arrow_table = pa.table({
        "customer_id": frame["customer_id"].tolist(),
        "event_on": pa.array([20240315, 20240320], pa.int64()),
        "event_type": frame["event_type"].tolist(),
    })
    portfolio.write_parquet("credit_events", arrow_table)


def _parquet_nan_inf(portfolio: Portfolio) -> None:
    frame = portfolio.tables["credit_events"]
    arrow_table = pa.table({
        "customer_id": [*frame["customer_id"], "C001"],
        "event_on": [*frame["event_on"], "2024-04-01"],
        "event_type": ["legal_action", "default", "write_off"],
        "amount": pa.array([np.nan, np.inf, 900.0], pa.float64()),
    })
    portfolio.write_parquet("credit_events", arrow_table)


def _adds(table: str, *rows: dict[str, str]) -> Callable[[Portfolio], None]:
    def build(portfolio: Portfolio) -> None:
        for number, row in enumerate(rows):
            key = {"invoices": "document_id", "payments": "payment_id", "customers": "customer_id"}.get(table)
            defaults = {key: f"{NEW_ROWS[table][key]}{number}"} if key and number else {}
            portfolio.add(table, **{**defaults, **row})
    return build


def _duplicate_key(portfolio: Portfolio) -> None:
    portfolio.add("invoices", document_id="INV1", amount="1500")


def _exact_copy(portfolio: Portfolio) -> None:
    portfolio.tables["invoices"] = pd.concat([portfolio.tables["invoices"], portfolio.tables["invoices"].iloc[[1]]], ignore_index=True)


# --- Checks of accepted variants -------------------------------------------------


def _customer_ids(expected: list[str]) -> Callable[[ValidationResult], None]:
    def check(result: ValidationResult) -> None:
        assert result.clean["customers"]["customer_id"].tolist() == expected
    return check


def _gbk_read(result: ValidationResult) -> None:
    customers = result.clean["customers"].set_index("customer_id")
    assert customers.loc["C001", "name"] == "华为技术有限公司"
    assert customers.loc["C001", "region"] == "广东"
    assert result.to_report()["tables"]["customers"]["encoding"] == "gb18030"


def _invoice_amount(document_id: str, amount: float) -> Callable[[ValidationResult], None]:
    def check(result: ValidationResult) -> None:
        invoices = result.clean["invoices"].set_index("document_id")
        assert invoices.loc[document_id, "amount"] == pytest.approx(amount)
        assert invoices.loc[document_id, "customer_id"] in ("C001", "00123")
    return check


def _trimmed(result: ValidationResult) -> None:
    row = result.clean["invoices"].set_index("document_id").loc["INV9"]
    assert (row["customer_id"], row["original_currency"], row["amount"]) == ("C001", "CNY", 250.0)


def _full_width(result: ValidationResult) -> None:
    row = result.clean["invoices"].set_index("document_id").loc["INV9"]
    assert row["amount"] == 1234.5
    assert row["issued_on"] == pd.Timestamp("2024-03-01")


def _ignored_notes(result: ValidationResult) -> None:
    assert result.to_report()["tables"]["customers"]["ignored_columns"] == ["notes"]
    assert "notes" not in result.clean["customers"].columns


def _prepayment_kept(result: ValidationResult) -> None:
    payments = result.clean["payments"].set_index("payment_id")
    assert payments.loc["P9", "document_id"] == "INV1"
    assert payments.loc["P9", "paid_on"] == pd.Timestamp("2023-12-20")


def _parquet_typed(result: ValidationResult) -> None:
    customers = result.clean["customers"].set_index("customer_id")
    assert customers["payment_terms_days"].tolist() == [30, 60]
    assert customers.loc["C001", "onboarded_on"] == pd.Timestamp("2023-06-01")
    assert customers.loc["C001", "credit_limit"] == 100000.0
    assert customers["limit_locked"].tolist() == [False, True]


def _nan_optional_stays_missing(result: ValidationResult) -> None:
    customers = result.clean["customers"].set_index("customer_id")
    assert np.isnan(customers.loc["C009", "credit_limit"])


def _event_amount_missing(result: ValidationResult) -> None:
    events = result.clean["credit_events"].set_index("event_type")
    assert np.isnan(events.loc["legal_action", "amount"])
    assert events.loc["write_off", "amount"] == 900.0


def _no_invoices(result: ValidationResult) -> None:
    assert result.counts["invoices"].rows_in == 0
    assert result.clean["invoices"].empty


def _quoted_newline_kept(result: ValidationResult) -> None:
    customers = result.clean["customers"].set_index("customer_id")
    assert customers.loc["C001", "name"] == "Acme\nTrading Ltd"


# --- The case table --------------------------------------------------------------

_LONG_NAME = "长" * 100_000

CASES = [
    # Whole-file problems: the run stops with an error naming the file and the fix.
    Case("empty_file", _empty_file, (Rejected(
        "validation.empty_file", r"customers\.csv: the file is empty \(0 bytes\)\. Export the table again",
        r"customers\.csv：文件为空（0 字节）。请重新导出该表"),)),
    Case("blank_first_line", _blank_first_line, (Rejected(
        "validation.bad_header", r"customers\.csv: the header row cannot be parsed \(the first line is blank\)",
        r"customers\.csv：无法解析表头行（the first line is blank）"),)),
    Case("semicolon_delimiter", _delimited(";"), (Rejected(
        "validation.wrong_delimiter", r"customers\.csv: the header 'customer_id;industry.*' looks separated "
        r"by ';', but files must be comma-separated\. Save the file as CSV with commas",
        r"customers\.csv：表头“customer_id;industry.*”似乎以“;”分隔"),)),
    Case("tab_delimiter", _delimited("\t"), (Rejected(
        "validation.wrong_delimiter", r"customers\.csv: .*looks separated by '\\t'",
        r"customers\.csv：.*似乎以“\\t”分隔"),)),
    Case("cp1252_not_gbk", _cp1252_export, (Rejected(
        "validation.undecodable", r"customers\.csv line 3: the text is neither UTF-8 nor GB18030/GBK "
        r"\(byte 0xE9 cannot be decoded\)\. Save the file as UTF-8",
        r"customers\.csv 第 3 行：文本既不是 UTF-8 也不是 GB18030/GBK 编码（无法解码字节 0xE9）"),)),
    Case("gbk_with_utf8_forced", _gbk_excel_export, (Rejected(
        "validation.not_utf8", r"customers\.csv line 2: the text is not valid UTF-8 \(byte 0xBB .*"
        r"set data\.encoding in params\.yaml",
        r"customers\.csv 第 2 行：文本不是有效的 UTF-8 编码.*data\.encoding"),), encoding="utf-8"),
    Case("unknown_encoding_option", _utf8_bom, (Rejected(
        "validation.invalid_encoding", r"data\.encoding must be one of auto, utf-8, gb18030; got 'latin-1'",
        r"data\.encoding 必须是 auto, utf-8, gb18030 之一，实际为 'latin-1'", error=ParamsError),),
        encoding="latin-1"),
    Case("utf16_export", _utf16_export, (Rejected(
        "validation.utf16_file", r"customers\.csv: the file is encoded as UTF-16 .*CSV UTF-8",
        r"customers\.csv：该文件为 UTF-16 编码"),)),
    Case("binary_file", _png_as_csv, (Rejected(
        "validation.binary_file", r"customers\.csv: the file is not text but binary data \(it contains "
        r"NUL bytes at byte 9\), so it is not a CSV file\. Export the table again",
        r"customers\.csv：该文件不是文本而是二进制数据（第 9 字节处含 NUL 字节）"),)),
    Case("excel_workbook_named_csv", _xlsx_as_csv, (Rejected(
        "validation.excel_workbook", r"customers\.csv: the file is an Excel workbook, not a CSV file\. "
        r"Open it in Excel and save it as 'CSV UTF-8",
        r"customers\.csv：该文件是 Excel 工作簿，不是 CSV 文件"),)),
    Case("parquet_named_csv", _parquet_as_csv, (Rejected(
        "validation.parquet_named_csv", r"customers\.csv: the file is a Parquet file with a \.csv name\. "
        r"Rename it to customers\.parquet",
        r"customers\.csv：该文件是 Parquet 文件，却以 \.csv 命名。请将其重命名为 customers\.parquet"),)),
    Case("corrupt_parquet", _corrupt_parquet, (Rejected(
        "validation.unreadable_parquet", r"customers\.parquet: the file cannot be read as Parquet",
        r"customers\.parquet：无法按 Parquet 读取该文件"),)),
    Case("missing_table_file", _missing_table, (Rejected(
        "validation.missing_table_file", r"input tables are missing: credit_events\. Add the files "
        r"credit_events\.csv / credit_events\.parquet",
        r"缺少输入表 credit_events"),)),
    Case("missing_required_column", _drop_columns("industry"), (Rejected(
        "validation.missing_column", r"customers\.csv: required column 'industry' is missing\. Add the "
        r"column to the file\. Table customers requires customer_id, industry",
        r"customers\.csv：缺少必需列“industry”。请在文件中添加该列"),)),
    Case("missing_required_columns", _drop_columns("industry", "currency"), (Rejected(
        "validation.missing_columns", r"customers\.csv: required columns are missing: industry, currency",
        r"customers\.csv：缺少必需列 industry, currency"),)),
    Case("duplicate_header_name", _duplicate_header, (Rejected(
        "validation.duplicate_column", r"customers\.csv: column 'currency' appears more than once in "
        r"the header\. Keep one column of that name",
        r"customers\.csv：表头中列“currency”出现了不止一次"),)),
    Case("unnamed_header_column", _unnamed_column, (Rejected(
        "validation.empty_column_name", r"customers\.csv: column 3 has no name in the header",
        r"customers\.csv：表头中第 3 列没有列名"),)),
    Case("unclosed_quote", _unclosed_quote, (Rejected(
        "validation.csv_parse_error", r"invoices\.csv: the file cannot be parsed as CSV .*Check the quoting",
        r"invoices\.csv：无法按 CSV 解析该文件"),)),
    Case("unquoted_thousands_separator", _unquoted_thousands, (Rejected(
        "validation.csv_field_count", r"invoices\.csv line 6: the row has 10 fields but the header has "
        r"9\. Put values that contain commas in double quotes",
        r"invoices\.csv 第 6 行：该行有 10 个字段，而表头有 9 个"),)),
    Case("too_many_rejects", _too_many_rejects, (Rejected(
        "validation.too_many_rejects", r"Table invoices: 20\.0% of rows were quarantined \(1 of 5\), more "
        r"than the limit of 5\.0%\. Top reasons: invalid_date 1\. Correct the rows listed in "
        r"quarantine/invoices\.csv, or raise validation\.max_reject_share",
        r"表 invoices：20\.0% 的行被隔离（5 行中有 1 行），超过上限 5\.0%"),), max_reject_share=0.05),

    # Variants that are valid input and must be read correctly.
    Case("utf8_bom", _utf8_bom, (Accepted("ids without BOM", _customer_ids(["C001", "C002"])),)),
    Case("gbk_excel_export", _gbk_excel_export, (Accepted("Chinese text decoded", _gbk_read),)),
    Case("header_only", _header_only, (
        Accepted("no invoices", _no_invoices),
        Quarantined("payments", 2, "unknown_document", "document_id", "INV1"),
        Quarantined("payments", 3, "unknown_document", "document_id", "INV2"),
    )),
    Case("extra_column", _extra_column, (Accepted("reported and left out", _ignored_notes),)),
    Case("columns_reordered", _reordered_columns, (Accepted("by name", _customer_ids(["C001", "C002"])),)),
    Case("trailing_whitespace", _trailing_whitespace, (Accepted("values stripped", _trimmed),)),
    Case("full_width_digits", _full_width_amount, (Accepted("read as ASCII", _full_width),)),
    Case("leading_zero_ids", _leading_zero_ids, (
        Accepted("zeros kept", _customer_ids(["00123", "C001", "C002"])),
        Quarantined("invoices", 7, "unknown_customer", "customer_id", "123"),
    )),
    Case("payment_before_invoice", _prepayment, (Accepted("prepayment kept", _prepayment_kept),)),
    Case("parquet_typed_columns", _parquet_typed_columns, (Accepted("typed values as text", _parquet_typed),)),
    Case("nan_token_in_optional_amount", _adds("customers", {"credit_limit": "nan"}),
         (Accepted("missing stays missing", _nan_optional_stays_missing),)),
    Case("quoted_newline", _quoted_newline, (
        Accepted("newline kept", _quoted_newline_kept),
        Quarantined("customers", 5, "unknown_currency", "currency", "ZZZ"),
    )),
    Case("mixed_line_endings", _mixed_line_endings, (
        Quarantined("invoices", 6, "invalid_date", "issued_on", "01/03/2024"),
    )),
    Case("blank_lines", _blank_lines, (Quarantined("invoices", 9, "invalid_number", "amount", "abc"),)),

    # Row problems: the row is quarantined with its reason, the rest is accepted.
    Case("mixed_date_formats", _adds(
        "invoices", {"issued_on": "2024/03/01"}, {"issued_on": "01.03.2024"}, {"issued_on": "03/01/2024"},
        {"issued_on": "2024-3-1"}, {"issued_on": "20240301"}, {"issued_on": "2024-02-30"},
        {"issued_on": "2024-03-01"}), (
        Quarantined("invoices", 6, "invalid_date", "issued_on", "2024/03/01"),
        Quarantined("invoices", 7, "invalid_date", "issued_on", "01.03.2024"),
        Quarantined("invoices", 8, "invalid_date", "issued_on", "03/01/2024"),
        Quarantined("invoices", 9, "invalid_date", "issued_on", "2024-3-1"),
        Quarantined("invoices", 10, "invalid_date", "issued_on", "20240301"),
        Quarantined("invoices", 11, "invalid_date", "issued_on", "2024-02-30"),
        Accepted("ISO row kept", _invoice_amount("INV96", 250.0)),
    )),
    Case("quoted_thousands_separator", _adds("invoices", {"amount": "1,234.56"}),
         (Quarantined("invoices", 6, "invalid_number", "amount", "1,234.56"),)),
    Case("text_in_amount", _adds("invoices", {"amount": "¥1000"}, {"amount": "1000元"}, {"amount": "12 345"}), (
        Quarantined("invoices", 6, "invalid_number", "amount", "¥1000"),
        Quarantined("invoices", 7, "invalid_number", "amount", "1000元"),
        Quarantined("invoices", 8, "invalid_number", "amount", "12 345"),
    )),
    Case("nan_and_inf_amounts", _adds(
        "invoices", {"amount": "NaN"}, {"amount": "inf"}, {"amount": "-Infinity"}), (
        Quarantined("invoices", 6, "missing_value", "amount", "NaN"),
        Quarantined("invoices", 7, "invalid_number", "amount", "inf"),
        Quarantined("invoices", 8, "invalid_number", "amount", "-Infinity"),
    )),
    Case("parquet_nan_and_inf", _parquet_nan_inf, (
        Quarantined("credit_events", 2, "invalid_number", "amount", "inf"),
        Accepted("NaN in an optional float is missing", _event_amount_missing),
    )),
    Case("parquet_dates_as_integers", _parquet_dates_as_integers, (
        Quarantined("credit_events", 1, "invalid_date", "event_on", "20240315"),
        Quarantined("credit_events", 2, "invalid_date", "event_on", "20240320"),
    )),
    Case("negative_invoice_amount", _adds("invoices", {"amount": "-250"}),
         (Quarantined("invoices", 6, "negative_invoice_amount", "amount", "-250"),)),
    Case("zero_invoice_amount", _adds("invoices", {"amount": "0.00"}),
         (Quarantined("invoices", 6, "zero_invoice_amount", "amount", "0.00"),)),
    Case("zero_and_negative_payment", _adds("payments", {"amount": "0"}, {"amount": "-20"}), (
        Quarantined("payments", 5, "non_positive_payment", "amount", "0"),
        Quarantined("payments", 6, "non_positive_payment", "amount", "-20"),
    )),
    Case("negative_credit_limit", _adds("customers", {"credit_limit": "-1000"}),
         (Quarantined("customers", 4, "negative_value", "credit_limit", "-1000"),)),
    Case("duplicate_key_different_content", _duplicate_key, (
        Quarantined("invoices", 2, "duplicate_key_conflict", "document_id", "INV1"),
        Quarantined("invoices", 6, "duplicate_key_conflict", "document_id", "INV1"),
        Quarantined("payments", 2, "unknown_document", "document_id", "INV1"),
    )),
    Case("exact_duplicate_row", _exact_copy, (Dropped("invoices", "exact_duplicate", 1),)),
    Case("unknown_currency", _adds("invoices", {"currency": "XYZ"}, {"currency": "rmb"}), (
        Quarantined("invoices", 6, "unknown_currency", "currency", "XYZ"),
        Quarantined("invoices", 7, "unknown_currency", "currency", "rmb"),
    )),
    Case("no_fx_rate_on_date", _adds("payments", {"currency": "USD", "paid_on": "2023-11-01"}),
         (Quarantined("payments", 5, "no_fx_rate", "currency", "USD"),)),
    Case("future_date", _adds("invoices", {"issued_on": "2030-01-01", "due_on": "2030-01-31"}),
         (Quarantined("invoices", 6, "future_date", "issued_on", "2030-01-01"),)),
    Case("statement_period_end_after_as_of", _adds(
        "financial_statements", {"period_end": "2024-06-30", "published_on": "2024-08-15"}),
         (Quarantined("financial_statements", 4, "future_date", "published_on", "2024-08-15"),)),
    Case("statement_published_before_period_end", _adds(
        "financial_statements", {"period_end": "2023-06-30", "published_on": "2023-05-01"}),
         (Quarantined("financial_statements", 4, "published_before_period_end", "published_on", "2023-05-01"),)),
    Case("implausible_amount", _adds("invoices", {"amount": "1e16"}, {"amount": "99999999999999999999"}), (
        Quarantined("invoices", 6, "invalid_number", "amount", "1e16"),
        Quarantined("invoices", 7, "invalid_number", "amount", "99999999999999999999"),
    )),
    Case("implausible_date", _adds("customers", {"onboarded_on": "1899-12-30"}),
         (Quarantined("customers", 4, "implausible_date", "onboarded_on", "1899-12-30"),)),
    Case("very_long_name", _adds("customers", {"name": _LONG_NAME}),
         (Quarantined("customers", 4, "value_too_long", "name", "长" * 80 + "…"),)),
    Case("very_long_key", _adds("invoices", {"document_id": "D" * 5000}),
         (Quarantined("invoices", 6, "value_too_long", "document_id", "D" * 80 + "…"),)),
    Case("excel_scientific_id", _adds("customers", {"customer_id": "1.23457E+11"}),
         (Quarantined("customers", 4, "scientific_notation_id", "customer_id", "1.23457E+11"),)),
    Case("customer_absent_from_customers", _adds("invoices", {"customer_id": "C404"}),
         (Quarantined("invoices", 6, "unknown_customer", "customer_id", "C404"),)),
    Case("due_before_issue", _adds("invoices", {"due_on": "2024-02-01"}),
         (Quarantined("invoices", 6, "due_before_issue", "due_on", "2024-02-01"),)),
    Case("credit_note_without_reference", _adds(
        "invoices", {"document_type": "credit_note", "amount": "-10"}),
         (Quarantined("invoices", 6, "credit_note_without_reference", "reference_id", ""),)),
    Case("document_type_spelling", _adds("invoices", {"document_type": "Invoice"}),
         (Quarantined("invoices", 6, "invalid_document_type", "document_type", "Invoice"),)),
    Case("invalid_boolean", _adds("invoices", {"disputed": "maybe"}),
         (Quarantined("invoices", 6, "invalid_bool", "disputed", "maybe"),)),
    Case("missing_key", _adds("payments", {"payment_id": "  "}),
         (Quarantined("payments", 5, "missing_key", "payment_id", "  "),)),
]


# --- Running a case ----------------------------------------------------------------


def _run_case(case: Case, raw_tables: dict[str, pd.DataFrame], folder: Path):
    """Build the folder and validate it; return the result or the CreditLimitError raised."""
    portfolio = Portfolio(tables={name: frame.copy() for name, frame in raw_tables.items()})
    case.build(portfolio)
    portfolio.write(folder)
    try:
        raw = read_raw_folder(folder, encoding=case.encoding)
        result = validate_tables(
            raw, base_currency="CNY", max_reject_share=case.max_reject_share, as_of_limit=AS_OF_LIMIT,
        )
    except CreditLimitError as error:
        return portfolio, error
    return portfolio, result


def _assert_reconciled(portfolio: Portfolio, result: ValidationResult) -> None:
    report = result.to_report()["tables"]
    for name in TABLE_ORDER:
        counts = report[name]
        assert counts["rows_in"] == portfolio.expected_rows_in(name), name
        assert counts["rows_in"] == counts["accepted"] + counts["dropped_total"] + counts["quarantined_total"], name
        assert counts["accepted"] == len(result.clean[name]), name
        assert counts["quarantined_total"] == len(result.quarantine[name]), name


def _expected_quarantine(case: Case) -> dict[str, int]:
    expected: dict[str, int] = {}
    for outcome in case.outcomes:
        if isinstance(outcome, Quarantined):
            expected[outcome.table] = expected.get(outcome.table, 0) + 1
    return expected


def _assert_quarantined(result: ValidationResult, outcome: Quarantined, folder: Path) -> None:
    quarantine = result.quarantine[outcome.table]
    rows = quarantine[quarantine["source_row"] == outcome.row]
    assert len(rows) == 1, f"{outcome.table} line {outcome.row} not quarantined"
    row = rows.iloc[0]
    assert row["reason_code"] == outcome.code
    assert row["column"] == outcome.column
    assert row["value"] == outcome.value
    source = row["source_file"]
    assert Path(source).parent == folder
    assert row["reason_en"].startswith(f"{source} row {outcome.row}: ")
    assert row["reason_zh"].startswith(f"{source} 第 {outcome.row} 行：")
    # An empty value (missing key or value) is named by its column instead.
    if outcome.code not in ("missing_key", "missing_value"):
        assert outcome.value in row["reason_en"]
        assert outcome.value in row["reason_zh"]


def _assert_rejected(error: CreditLimitError, outcome: Rejected) -> None:
    assert type(error) is outcome.error
    assert error.key == outcome.key
    with use_locale("en"):
        assert re.search(outcome.en, str(error)), str(error)
    with use_locale("zh_CN"):
        assert re.search(outcome.zh, str(error)), str(error)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_case(case, raw_tables, tmp_path):
    """Each malformed input ends in its stated outcome, with row counts reconciled."""
    folder = tmp_path / "raw"
    portfolio, outcome = _run_case(case, raw_tables, folder)

    rejected = [expected for expected in case.outcomes if isinstance(expected, Rejected)]
    if rejected:
        assert isinstance(outcome, CreditLimitError), "validation passed but an error was expected"
        _assert_rejected(outcome, rejected[0])
        return

    assert isinstance(outcome, ValidationResult), f"unexpected error: {outcome}"
    _assert_reconciled(portfolio, outcome)
    expected_quarantine = _expected_quarantine(case)
    expected_drops = {o.table: o.count for o in case.outcomes if isinstance(o, Dropped)}
    for name in TABLE_ORDER:
        assert outcome.counts[name].quarantined_total == expected_quarantine.get(name, 0), name
        assert outcome.counts[name].dropped_total == expected_drops.get(name, 0), name
    for expected in case.outcomes:
        if isinstance(expected, Quarantined):
            _assert_quarantined(outcome, expected, folder)
        elif isinstance(expected, Dropped):
            assert outcome.counts[expected.table].dropped == {expected.code: expected.count}
        elif isinstance(expected, Accepted):
            expected.check(outcome)


def test_campaign_size_and_coverage():
    """The campaign has at least 30 cases and each outcome kind appears."""
    kinds = {type(outcome) for case in CASES for outcome in case.outcomes}
    assert len(CASES) >= 30
    assert kinds == {Rejected, Quarantined, Dropped, Accepted}
    assert len({case.id for case in CASES}) == len(CASES)


# --- The same campaign through the command line ------------------------------------

_CLI = Path(sys.executable).parent / "creditlimit"


def _cli_validate(root: Path, raw: Path, *, locale: str, max_reject_share: float = 1.0,
                  wrapper: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump({
        "data": {"raw_dir": str(raw), "base_currency": "CNY", "encoding": "auto"},
        "validation": {"max_reject_share": max_reject_share},
    }), encoding="utf-8")
    environment = {**os.environ, "CREDITLIMIT_LANG": locale, "CREDITLIMIT_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [*wrapper, str(_CLI), "validate", "--raw", str(raw), "--out", str(root / "interim"),
         "--params", str(params)],
        capture_output=True, text=True, env=environment, timeout=120, check=False,
    )


def _case(case_id: str) -> Case:
    return next(case for case in CASES if case.id == case_id)


@pytest.mark.parametrize(
    ("case_id", "locale", "message"),
    [
        ("semicolon_delimiter", "en", r"customers\.csv: the header .* looks separated by ';'"),
        ("semicolon_delimiter", "zh_CN", r"customers\.csv：表头“.*”似乎以“;”分隔"),
        ("binary_file", "zh_CN", r"customers\.csv：该文件不是文本而是二进制数据"),
        ("empty_file", "en", r"customers\.csv: the file is empty \(0 bytes\)"),
        ("too_many_rejects", "zh_CN", r"表 invoices：20\.0% 的行被隔离"),
    ],
)
def test_cli_rejects_bad_input(case_id, locale, message, raw_tables, tmp_path):
    """The validate command exits 3 with the localised message and no traceback."""
    case = _case(case_id)
    portfolio = Portfolio(tables={name: frame.copy() for name, frame in raw_tables.items()})
    case.build(portfolio)
    raw = portfolio.write(tmp_path / "raw")

    completed = _cli_validate(tmp_path, raw, locale=locale, max_reject_share=case.max_reject_share)

    assert completed.returncode == 3, completed.stderr
    assert "Traceback" not in completed.stderr
    assert re.search(message, completed.stderr), completed.stderr


@pytest.mark.parametrize("case_id", ["gbk_excel_export", "mixed_date_formats", "exact_duplicate_row"])
def test_cli_report_reconciles(case_id, raw_tables, tmp_path):
    """The validate command writes a report whose counts match the files and the quarantine."""
    case = _case(case_id)
    portfolio = Portfolio(tables={name: frame.copy() for name, frame in raw_tables.items()})
    case.build(portfolio)
    raw = portfolio.write(tmp_path / "raw")

    completed = _cli_validate(tmp_path, raw, locale="zh_CN")

    assert completed.returncode == 0, completed.stderr
    assert "已校验" in completed.stdout
    report = json.loads((tmp_path / "interim" / "validation_report.json").read_text(encoding="utf-8"))
    expected_quarantine = _expected_quarantine(case)
    for name in TABLE_ORDER:
        counts = report["tables"][name]
        assert counts["rows_in"] == portfolio.expected_rows_in(name), name
        assert counts["rows_in"] == counts["accepted"] + counts["dropped_total"] + counts["quarantined_total"]
        quarantine = pd.read_csv(tmp_path / "interim" / "quarantine" / f"{name}.csv", dtype=str)
        assert len(quarantine) == counts["quarantined_total"] == expected_quarantine.get(name, 0), name
        clean = pq.read_table(tmp_path / "interim" / "clean" / f"{name}.parquet")
        assert clean.num_rows == counts["accepted"], name


def test_cli_unreadable_file(raw_tables, tmp_path):
    """A file the user may not read is an error naming the file and the permission, in zh_CN and en."""
    wrapper: tuple[str, ...] = ()
    if os.geteuid() == 0:
        # Root reads any file, so the command runs without the capabilities that allow it.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv, so no file can be made unreadable")
        wrapper = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    portfolio = Portfolio(tables={name: frame.copy() for name, frame in raw_tables.items()})
    raw = portfolio.write(tmp_path / "raw")
    (raw / "invoices.csv").chmod(0)

    english = _cli_validate(tmp_path, raw, locale="en", wrapper=wrapper)
    chinese = _cli_validate(tmp_path, raw, locale="zh_CN", wrapper=wrapper)

    assert english.returncode == 3, english.stderr
    assert "Traceback" not in english.stderr
    assert "invoices.csv: the file cannot be opened (Permission denied). Check that the file" in english.stderr
    assert "invoices.csv：无法打开该文件（Permission denied）" in chinese.stderr


def test_cli_sample_portfolio_in_gbk(tmp_path):
    """A `creditlimit sample` portfolio re-saved as GBK with CRLF validates like the UTF-8 original."""
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"sample": {"customers": 12, "months": 14, "seed": 7, "start": "2023-01-01",
                                                 "base_currency": "CNY", "dirty_share": 0.02}}), encoding="utf-8")
    utf8_raw = tmp_path / "utf8"
    subprocess.run([str(_CLI), "sample", "--out", str(utf8_raw), "--format", "csv", "--params", str(params)],
                   check=True, capture_output=True, timeout=120)
    gbk_raw = tmp_path / "gbk"
    shutil.copytree(utf8_raw, gbk_raw)
    customers = pd.read_csv(gbk_raw / "customers.csv", dtype=str, keep_default_na=False)
    customers["name"] = [f"测试客户{number}号有限公司" for number in range(len(customers))]
    customers.to_csv(gbk_raw / "customers.csv", index=False, encoding="gbk", lineterminator="\r\n")
    for name in ("invoices", "payments"):
        text = (gbk_raw / f"{name}.csv").read_text(encoding="utf-8")
        (gbk_raw / f"{name}.csv").write_bytes(text.replace("\n", "\r\n").encode("gbk"))

    reports = {}
    for label, raw in (("utf8", utf8_raw), ("gbk", gbk_raw)):
        run_dir = tmp_path / f"run_{label}"
        run_dir.mkdir()
        completed = _cli_validate(run_dir, raw, locale="en")
        assert completed.returncode == 0, completed.stderr
        reports[label] = json.loads((run_dir / "interim" / "validation_report.json").read_text("utf-8"))

    for name in TABLE_ORDER:
        utf8_counts, gbk_counts = reports["utf8"]["tables"][name], reports["gbk"]["tables"][name]
        with (utf8_raw / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            records = sum(1 for _ in csv.reader(handle)) - 1
        assert utf8_counts["rows_in"] == gbk_counts["rows_in"] == records, name
        for key in ("accepted", "dropped", "quarantined"):
            assert utf8_counts[key] == gbk_counts[key], (name, key)
    assert reports["gbk"]["tables"]["customers"]["encoding"] == "gb18030"
    assert reports["utf8"]["tables"]["customers"]["encoding"] == "utf-8"
    assert sum(t["quarantined_total"] for t in reports["gbk"]["tables"].values()) > 0
    clean = pq.read_table(tmp_path / "run_gbk" / "interim" / "clean" / "customers.parquet").to_pandas()
    assert clean["name"].str.startswith("测试客户").all()
