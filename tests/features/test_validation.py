"""Tests of table validation: reason codes, duplicates, references, counts and outputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.contract import TABLE_ORDER, TABLES
from creditlimit.features.loading import RawTable, read_raw_folder
from creditlimit.features.validation import (
    DROP_REASON_CODES,
    QUARANTINE_COLUMNS,
    REASON_CODES,
    TableCounts,
    ValidationParams,
    clean_schema,
    validate_tables,
    write_validation_outputs,
)
from creditlimit.i18n import use_locale

AS_OF_LIMIT = dt.date(2024, 4, 30)

VALID_ROWS = {
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

_CREDIT_NOTE = {"document_type": "credit_note", "customer_id": "C002", "amount": "-10",
                "currency": "USD", "reference_id": "INV2"}

# (table, changes to the valid row, reason code, column, value, en text, zh text)
BAD_ROWS = [
    pytest.param("customers", {"customer_id": ""}, "missing_key", "customer_id", "",
                 "key column 'customer_id' is empty. Fill in customer_id, or remove the row.",
                 "主键列“customer_id”为空。请填写 customer_id，或删除该行。", id="missing_key"),
    pytest.param("customers", {"customer_id": "NA"}, "missing_key", "customer_id", "NA",
                 "key column 'customer_id' is empty.", "主键列“customer_id”为空", id="missing_key-token"),
    pytest.param("financial_statements", {"period_end": "null"}, "missing_key", "period_end", "null",
                 "key column 'period_end' is empty.", "主键列“period_end”为空", id="missing_key-second"),
    pytest.param("invoices", {"amount": "  "}, "missing_value", "amount", "  ",
                 "required column 'amount' is empty. Fill in a value for amount.",
                 "必填列“amount”为空。请为 amount 填写值。", id="missing_value"),
    pytest.param("invoices", {"issued_on": "3/1/2013"}, "invalid_date", "issued_on", "3/1/2013",
                 "issued_on '3/1/2013' is not an ISO date. Write the date as YYYY-MM-DD "
                 "(for example 2024-03-01), because other date formats are never guessed.",
                 "issued_on 的值“3/1/2013”不是 ISO 格式的日期。请按 YYYY-MM-DD 填写",
                 id="invalid_date-us"),
    pytest.param("invoices", {"issued_on": "2013/03/01"}, "invalid_date", "issued_on", "2013/03/01",
                 "issued_on '2013/03/01' is not an ISO date.", "不是 ISO 格式的日期", id="invalid_date-slash"),
    pytest.param("invoices", {"due_on": "2024-02-30"}, "invalid_date", "due_on", "2024-02-30",
                 "due_on '2024-02-30' is not an ISO date.", "不是 ISO 格式的日期", id="invalid_date-no-day"),
    pytest.param("payments", {"paid_on": "2024-03-05T10:00:00"}, "invalid_date", "paid_on",
                 "2024-03-05T10:00:00", "is not an ISO date", "不是 ISO 格式的日期", id="invalid_date-time"),
    pytest.param("payments", {"paid_on": "20240305"}, "invalid_date", "paid_on", "20240305",
                 "is not an ISO date", "不是 ISO 格式的日期", id="invalid_date-compact"),
    pytest.param("invoices", {"amount": "1,234.56"}, "invalid_number", "amount", "1,234.56",
                 "amount '1,234.56' is not a valid number. Write a decimal number between -1e15 and "
                 "1e15 with a dot as decimal mark and no thousands separator (for example 1234.56).",
                 "amount 的值“1,234.56”不是有效数字。请填写介于 -1e15 与 1e15 之间的十进制数",
                 id="invalid_number-thousands"),
    pytest.param("invoices", {"amount": "abc"}, "invalid_number", "amount", "abc",
                 "amount 'abc' is not a valid number.", "不是有效数字", id="invalid_number-text"),
    pytest.param("invoices", {"amount": "inf"}, "invalid_number", "amount", "inf",
                 "amount 'inf' is not a valid number.", "不是有效数字", id="invalid_number-inf"),
    pytest.param("invoices", {"amount": "nan"}, "missing_value", "amount", "nan",
                 "required column 'amount' is empty.", "必填列“amount”为空", id="missing_value-nan"),
    pytest.param("invoices", {"amount": "１２，３４"}, "invalid_number", "amount", "１２，３４",
                 "amount '１２，３４' is not a valid number.", "不是有效数字", id="invalid_number-full-width-comma"),
    pytest.param("invoices", {"amount": "١٢٣"}, "invalid_number", "amount", "١٢٣",
                 "amount '١٢٣' is not a valid number.", "不是有效数字", id="invalid_number-arabic-digits"),
    pytest.param("invoices", {"amount": "0"}, "zero_invoice_amount", "amount", "0",
                 "invoice amount 0 is zero. Enter the invoiced amount, or remove the row if nothing "
                 "was invoiced", "发票金额 0 为零。请填写开票金额", id="zero_invoice_amount"),
    pytest.param("customers", {"onboarded_on": "1899-12-30"}, "implausible_date", "onboarded_on",
                 "1899-12-30", "onboarded_on 1899-12-30 is before 1900-01-01, which no record can be.",
                 "onboarded_on 的日期 1899-12-30 早于 1900-01-01", id="implausible_date"),
    pytest.param("customers", {"name": "x" * 1001}, "value_too_long", "name", "x" * 80 + "…",
                 "name is 1001 characters long, more than the 1000 any value of the contract may have",
                 "name 长 1001 个字符，超过数据约定允许的 1000 个字符", id="value_too_long"),
    pytest.param("customers", {"customer_id": "1.23457E+11"}, "scientific_notation_id", "customer_id",
                 "1.23457E+11", "customer_id '1.23457E+11' is an id written in scientific notation, as "
                 "Excel shows long numbers, so its last digits are lost.",
                 "customer_id 的值“1.23457E+11”是以科学计数法书写的编号", id="scientific_notation_id"),
    pytest.param("invoices", {"amount": "1e999"}, "invalid_number", "amount", "1e999",
                 "amount '1e999' is not a valid number.", "不是有效数字", id="invalid_number-overflow"),
    pytest.param("invoices", {"amount": "1e300"}, "invalid_number", "amount", "1e300",
                 "amount '1e300' is not a valid number.", "不是有效数字", id="invalid_number-implausible"),
    pytest.param("fx_rates", {"rate_to_base": "7,3"}, "invalid_number", "rate_to_base", "7,3",
                 "rate_to_base '7,3' is not a valid number.", "不是有效数字", id="invalid_number-comma"),
    pytest.param("customers", {"payment_terms_days": "30.5"}, "invalid_integer", "payment_terms_days",
                 "30.5", "payment_terms_days '30.5' is not a whole number. Write digits only (for example 30).",
                 "payment_terms_days 的值“30.5”不是整数", id="invalid_integer"),
    pytest.param("customers", {"limit_locked": "maybe"}, "invalid_bool", "limit_locked", "maybe",
                 "limit_locked 'maybe' is not a boolean. Write true or false (1/0 and yes/no are also accepted).",
                 "limit_locked 的值“maybe”不是布尔值。请填写 true 或 false", id="invalid_bool"),
    pytest.param("invoices", {"disputed": "Y"}, "invalid_bool", "disputed", "Y",
                 "disputed 'Y' is not a boolean.", "不是布尔值", id="invalid_bool-disputed"),
    pytest.param("customers", {"credit_limit": "-5"}, "negative_value", "credit_limit", "-5",
                 "credit_limit -5 is negative. Enter 0 or a positive value.",
                 "credit_limit 的值 -5 为负数", id="negative_value"),
    pytest.param("invoices", {"document_type": "bill"}, "invalid_document_type", "document_type", "bill",
                 "document_type 'bill' is not allowed. Use one of: invoice, credit_note.",
                 "document_type 的值“bill”无效。请使用以下之一：invoice、credit_note。",
                 id="invalid_document_type"),
    pytest.param("invoices", {"amount": "-50"}, "negative_invoice_amount", "amount", "-50",
                 "invoice amount -50 is negative. Correct the amount, or enter the reduction as a "
                 "credit_note row with a reference_id.", "发票金额 -50 为负数", id="negative_invoice_amount"),
    pytest.param("invoices", {**_CREDIT_NOTE, "amount": "50"}, "credit_note_not_negative", "amount", "50",
                 "credit note amount 50 is not negative. Enter a credit note with a negative amount.",
                 "贷项通知单金额 50 不是负数", id="credit_note_not_negative"),
    pytest.param("invoices", {**_CREDIT_NOTE, "reference_id": ""}, "credit_note_without_reference",
                 "reference_id", "", "credit note has no reference_id. Fill in reference_id with the "
                 "document_id of the invoice it reduces.", "贷项通知单缺少 reference_id",
                 id="credit_note_without_reference"),
    pytest.param("invoices", {"due_on": "2024-02-28"}, "due_before_issue", "due_on", "2024-02-28",
                 "due_on 2024-02-28 is before issued_on 2024-03-01. Correct one of the two dates.",
                 "到期日 due_on 2024-02-28 早于开票日 issued_on 2024-03-01", id="due_before_issue"),
    pytest.param("financial_statements", {"published_on": "2022-12-30"}, "published_before_period_end",
                 "published_on", "2022-12-30", "published_on 2022-12-30 is before period_end 2022-12-31",
                 "发布日 published_on 2022-12-30 早于报告期末 period_end 2022-12-31",
                 id="published_before_period_end"),
    pytest.param("credit_events", {"event_type": "fraud"}, "invalid_event_type", "event_type", "fraud",
                 "event_type 'fraud' is not allowed. Use one of: default, write_off, bankruptcy, "
                 "legal_action, restructuring.", "event_type 的值“fraud”无效", id="invalid_event_type"),
    pytest.param("fx_rates", {"rate_to_base": "0"}, "invalid_fx_rate", "rate_to_base", "0",
                 "rate_to_base 0 is not greater than 0.", "rate_to_base 的值 0 不大于 0", id="invalid_fx_rate"),
    pytest.param("fx_rates", {"rate_to_base": "-7.1"}, "invalid_fx_rate", "rate_to_base", "-7.1",
                 "rate_to_base -7.1 is not greater than 0.", "不大于 0", id="invalid_fx_rate-negative"),
    pytest.param("payments", {"amount": "0"}, "non_positive_payment", "amount", "0",
                 "payment amount 0 is not greater than 0.", "付款金额 0 不大于 0", id="non_positive_payment"),
    pytest.param("invoices", {"issued_on": "2024-05-01", "due_on": "2024-06-01"}, "future_date",
                 "issued_on", "2024-05-01", "issued_on 2024-05-01 is after the latest allowed date 2024-04-30.",
                 "issued_on 的日期 2024-05-01 晚于允许的最晚日期 2024-04-30", id="future_date"),
    pytest.param("credit_events", {"event_on": "2024-05-02"}, "future_date", "event_on", "2024-05-02",
                 "event_on 2024-05-02 is after the latest allowed date", "晚于允许的最晚日期",
                 id="future_date-event"),
    pytest.param("payments", {"customer_id": "C999"}, "unknown_customer", "customer_id", "C999",
                 "customer_id 'C999' is not an accepted customer. Add the customer to customers "
                 "or correct the customer_id.", "customer_id“C999”不是已通过校验的客户",
                 id="unknown_customer"),
    pytest.param("financial_statements", {"customer_id": "C999"}, "unknown_customer", "customer_id",
                 "C999", "is not an accepted customer", "不是已通过校验的客户", id="unknown_customer-statement"),
    pytest.param("credit_events", {"customer_id": "C999"}, "unknown_customer", "customer_id", "C999",
                 "is not an accepted customer", "不是已通过校验的客户", id="unknown_customer-event"),
    pytest.param("payments", {"currency": "EUR"}, "unknown_currency", "currency", "EUR",
                 "currency 'EUR' is neither the base currency CNY nor listed in fx_rates. Correct "
                 "the currency code, or add rates for EUR to fx_rates.",
                 "币种“EUR”既不是本位币 CNY，也不在 fx_rates 中", id="unknown_currency"),
    pytest.param("customers", {"currency": "usd"}, "unknown_currency", "currency", "usd",
                 "currency 'usd' is neither the base currency", "币种“usd”", id="unknown_currency-case"),
    pytest.param("invoices", {"customer_id": "C002", "currency": "USD", "issued_on": "2023-11-01",
                              "due_on": "2023-12-01"}, "no_fx_rate", "currency", "USD",
                 "currency 'USD' cannot be converted to CNY, because fx_rates has no USD rate dated "
                 "on or before 2023-11-01. Add a USD rate dated on or before 2023-11-01 to fx_rates.",
                 "currency“USD”无法折算为 CNY，因为 fx_rates 中没有 2023-11-01 当日或之前的 USD 汇率",
                 id="no_fx_rate"),
    pytest.param("financial_statements", {"customer_id": "C002", "currency": "USD"}, "no_fx_rate",
                 "currency", "USD", "no USD rate dated on or before 2022-12-31", "2022-12-31 当日或之前",
                 id="no_fx_rate-statement"),
    pytest.param("credit_events", {"customer_id": "C002", "event_on": "2023-11-15", "amount": "100"},
                 "no_fx_rate", "amount", "100", "amount '100' cannot be converted to CNY, because "
                 "fx_rates has no USD rate dated on or before 2023-11-15.", "amount“100”无法折算为 CNY",
                 id="no_fx_rate-event"),
    pytest.param("invoices", {**_CREDIT_NOTE, "reference_id": "INV1"}, "unknown_reference",
                 "reference_id", "INV1", "reference_id 'INV1' is not an accepted invoice of customer "
                 "C002. Set reference_id to the document_id of an invoice of the same customer.",
                 "reference_id“INV1”不是客户 C002 已通过校验的发票", id="unknown_reference"),
    pytest.param("invoices", {**_CREDIT_NOTE, "reference_id": "CN1"}, "unknown_reference",
                 "reference_id", "CN1", "is not an accepted invoice of customer C002", "不是客户 C002",
                 id="unknown_reference-credit-note"),
    pytest.param("payments", {"document_id": "INV2"}, "unknown_document", "document_id", "INV2",
                 "document_id 'INV2' is not an accepted invoice of customer C001. Correct "
                 "document_id, or leave it empty", "document_id“INV2”不是客户 C001 已通过校验的发票",
                 id="unknown_document"),
    pytest.param("payments", {"customer_id": "C002", "currency": "USD", "document_id": "CN1"},
                 "unknown_document", "document_id", "CN1", "is not an accepted invoice of customer C002",
                 "不是客户 C002", id="unknown_document-credit-note"),
]


def _with_rows(tables: dict[str, pd.DataFrame], table: str, *rows: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Return a copy of ``tables`` with ``rows`` appended to ``table`` (other columns empty)."""
    columns = list(TABLES[table].columns)
    extra = pd.DataFrame([{column: row.get(column, "") for column in columns} for row in rows])
    return {**tables, table: pd.concat([tables[table], extra], ignore_index=True)}


def _validate(write_raw, tables, file_format: str = "csv", **options):
    arguments = {"base_currency": "CNY", "max_reject_share": 1.0, "as_of_limit": AS_OF_LIMIT} | options
    return validate_tables(read_raw_folder(write_raw(tables, file_format)), **arguments)


def _assert_reconciled(result) -> None:
    for name, counts in result.counts.items():
        assert counts.rows_in == counts.accepted + counts.dropped_total + counts.quarantined_total, name
        assert counts.accepted == len(result.clean[name]), name
        assert counts.quarantined_total == len(result.quarantine[name]), name


def test_validate_tables_accepts_valid_portfolio(raw_tables, write_raw):
    """Every row of a valid portfolio is accepted and nothing is quarantined."""
    result = _validate(write_raw, raw_tables)

    for name in TABLE_ORDER:
        assert result.counts[name] == TableCounts(rows_in=len(raw_tables[name]), accepted=len(raw_tables[name]))
        assert result.quarantine[name].empty
        assert list(result.quarantine[name].columns) == [*TABLES[name].columns, *QUARANTINE_COLUMNS]
    _assert_reconciled(result)


def test_validate_tables_every_code_has_a_case():
    """Every reason code that quarantines a row is exercised by the bad-row table below."""
    covered = {case.values[2] for case in BAD_ROWS} | {"exact_duplicate", "duplicate_key_conflict"}

    assert covered == set(REASON_CODES)


@pytest.mark.parametrize(("table", "changes", "code", "column", "value", "text_en", "text_zh"), BAD_ROWS)
def test_validate_tables_quarantines_bad_row(raw_tables, write_raw, table, changes, code, column, value,
                                             text_en, text_zh):
    """A bad row is quarantined with its reason code, column, value and text in en and zh_CN."""
    tables = _with_rows(raw_tables, table, {**VALID_ROWS[table], **changes})
    line = len(raw_tables[table]) + 2  # header on line 1

    result = _validate(write_raw, tables)

    quarantine = result.quarantine[table]
    assert len(quarantine) == 1
    row = quarantine.iloc[0]
    assert row["reason_code"] == code
    assert row["column"] == column
    assert row["value"] == value
    assert row["source_row"] == line
    assert row["source_file"].endswith(f"{table}.csv")
    assert row["reason_en"].startswith(f"{row['source_file']} row {line}: ")
    assert text_en in row["reason_en"]
    assert row["reason_zh"].startswith(f"{row['source_file']} 第 {line} 行：")
    assert text_zh in row["reason_zh"]
    assert result.counts[table].quarantined == {code: 1}
    assert result.counts[table].accepted == len(raw_tables[table])
    for other in set(TABLE_ORDER) - {table}:
        assert result.quarantine[other].empty, other
    _assert_reconciled(result)


def test_validate_tables_quarantine_keeps_source_text(raw_tables, write_raw):
    """The quarantine contains the row's original text, including surrounding spaces."""
    tables = _with_rows(raw_tables, "invoices", {**VALID_ROWS["invoices"], "amount": " 1,5 ", "currency": " CNY"})

    row = _validate(write_raw, tables).quarantine["invoices"].iloc[0]

    assert row["amount"] == " 1,5 "
    assert row["currency"] == " CNY"
    assert row["value"] == " 1,5 "
    assert row["document_id"] == "INV9"


def test_validate_tables_first_failing_rule_wins(raw_tables, write_raw):
    """A row that breaks several rules gets the reason of the first rule in the order."""
    bad = {**VALID_ROWS["invoices"], "document_id": "", "issued_on": "3/1/2013", "customer_id": "C999"}
    tables = _with_rows(raw_tables, "invoices", bad)

    result = _validate(write_raw, tables)

    assert result.quarantine["invoices"]["reason_code"].tolist() == ["missing_key"]


def test_validate_tables_exact_duplicate_dropped(raw_tables, write_raw):
    """An exact copy of a row is dropped and counted, and one copy is kept."""
    copy = raw_tables["payments"].iloc[[0]].to_dict("records")[0]
    tables = _with_rows(raw_tables, "payments", copy, copy)

    result = _validate(write_raw, tables)

    counts = result.counts["payments"]
    assert counts.dropped == {"exact_duplicate": 2}
    assert counts.quarantined == {}
    assert counts.accepted == 3
    assert result.clean["payments"]["payment_id"].tolist() == ["P1", "P2", "P3"]
    _assert_reconciled(result)


def test_validate_tables_duplicate_compares_parsed_values(raw_tables, write_raw):
    """Rows equal after parsing (spaces, 1000 and 1000.00) are exact duplicates."""
    copy = {**raw_tables["payments"].iloc[0].to_dict(), "amount": "1000.00", "currency": " CNY "}
    tables = _with_rows(raw_tables, "payments", copy)

    result = _validate(write_raw, tables)

    assert result.counts["payments"].dropped == {"exact_duplicate": 1}


def test_validate_tables_key_conflict_quarantines_all(raw_tables, write_raw):
    """Rows sharing a key with different content are all quarantined, none is kept."""
    conflicting = {**raw_tables["payments"].iloc[0].to_dict(), "amount": "999"}
    tables = _with_rows(raw_tables, "payments", conflicting)

    result = _validate(write_raw, tables)

    quarantine = result.quarantine["payments"]
    assert quarantine["reason_code"].tolist() == ["duplicate_key_conflict"] * 2
    assert quarantine["source_row"].tolist() == [2, 5]
    assert quarantine["column"].tolist() == ["payment_id", "payment_id"]
    assert quarantine["value"].tolist() == ["P1", "P1"]
    assert "P1" not in result.clean["payments"]["payment_id"].tolist()
    reason_en = quarantine["reason_en"].iloc[0]
    assert "row 2: key payment_id = P1 appears in 2 rows with different content. Keep one correct row" in reason_en
    assert "第 2 行：键 payment_id = P1 出现在 2 行中且内容不同" in quarantine["reason_zh"].iloc[0]
    _assert_reconciled(result)


def test_validate_tables_key_conflict_compound_key(raw_tables, write_raw):
    """A compound key conflict names all key columns and values."""
    conflicting = {**raw_tables["fx_rates"].iloc[1].to_dict(), "rate_to_base": "7.15"}
    tables = _with_rows(raw_tables, "fx_rates", conflicting)

    result = _validate(write_raw, tables)

    quarantine = result.quarantine["fx_rates"]
    assert quarantine["column"].tolist() == ["currency, rate_on"] * 2
    assert quarantine["value"].tolist() == ["USD / 2024-01-01"] * 2


def test_validate_tables_conflict_with_copy_and_variant(raw_tables, write_raw):
    """With a copy and a variant of one key, the copy is dropped and the other two quarantined."""
    original = raw_tables["payments"].iloc[0].to_dict()
    tables = _with_rows(raw_tables, "payments", original, {**original, "amount": "999"})

    counts = _validate(write_raw, tables).counts["payments"]

    assert counts.dropped == {"exact_duplicate": 1}
    assert counts.quarantined == {"duplicate_key_conflict": 2}
    assert counts.accepted == 2


def test_validate_tables_duplicates_after_field_rules(raw_tables, write_raw):
    """An invalid row does not conflict with a valid row of the same key."""
    invalid = {**raw_tables["payments"].iloc[0].to_dict(), "paid_on": "01/02/2024"}
    tables = _with_rows(raw_tables, "payments", invalid)

    result = _validate(write_raw, tables)

    assert result.quarantine["payments"]["reason_code"].tolist() == ["invalid_date"]
    assert "P1" in result.clean["payments"]["payment_id"].tolist()


def test_validate_tables_rejected_customer_cascades(raw_tables, write_raw):
    """The documents of a rejected customer are quarantined as unknown_customer."""
    tables = {**raw_tables, "customers": raw_tables["customers"].copy()}
    tables["customers"].loc[0, "onboarded_on"] = "2023/06/01"  # C001

    result = _validate(write_raw, tables)

    assert result.quarantine["customers"]["reason_code"].tolist() == ["invalid_date"]
    for table, rows in {"invoices": 1, "payments": 2, "financial_statements": 1, "credit_events": 1}.items():
        assert result.quarantine[table]["reason_code"].tolist() == ["unknown_customer"] * rows, table
    _assert_reconciled(result)


def test_validate_tables_rejected_invoice_cascades(raw_tables, write_raw):
    """Credit notes and payments that name a rejected invoice are quarantined after it."""
    tables = {**raw_tables, "invoices": raw_tables["invoices"].copy()}
    tables["invoices"].loc[1, "currency"] = "EUR"  # INV2, named by CN1 and P2

    result = _validate(write_raw, tables)

    invoices = result.quarantine["invoices"].set_index("document_id")["reason_code"]
    assert invoices.to_dict() == {"INV2": "unknown_currency", "CN1": "unknown_reference"}
    payments = result.quarantine["payments"].set_index("payment_id")["reason_code"]
    assert payments.to_dict() == {"P2": "unknown_document"}


def test_validate_tables_converts_amounts(raw_tables, write_raw):
    """Amounts are in the base currency with the original currency and the rate kept."""
    clean = _validate(write_raw, raw_tables).clean

    invoices = clean["invoices"].set_index("document_id")
    assert invoices.loc["INV2", "amount"] == pytest.approx(3550.0)  # 500 USD at 7.1 (2024-01-01)
    assert invoices.loc["INV3", "amount"] == pytest.approx(2160.0)  # 300 USD at 7.2 (2024-02-01)
    assert invoices.loc["CN1", "amount"] == pytest.approx(-720.0)  # credit note stays negative
    assert invoices.loc["INV1", "fx_rate_to_base"] == 1.0
    assert set(invoices["currency"]) == {"CNY"}
    assert invoices.loc["INV2", "original_currency"] == "USD"
    customers = clean["customers"].set_index("customer_id")
    assert customers.loc["C002", "credit_limit"] == pytest.approx(144000.0)  # latest rate 7.2
    statements = clean["financial_statements"].set_index("customer_id")
    assert statements.loc["C002", "revenue"] == pytest.approx(1_400_000.0)  # rate of 2023-12-01
    assert statements.loc["C002", "net_profit"] == pytest.approx(-7000.0)
    events = clean["credit_events"].set_index("customer_id")
    assert events.loc["C002", "amount"] == pytest.approx(36000.0)
    assert events.loc["C002", "original_currency"] == "USD"


def test_validate_tables_event_without_amount_needs_no_rate(raw_tables, write_raw):
    """A credit event without an amount is kept even when no rate covers its date."""
    event = {"customer_id": "C002", "event_on": "2023-11-15", "event_type": "default", "amount": ""}
    tables = _with_rows(raw_tables, "credit_events", event)

    result = _validate(write_raw, tables)

    events = result.clean["credit_events"].set_index("event_on")
    assert result.counts["credit_events"].accepted == 3
    assert np.isnan(events.loc[pd.Timestamp("2023-11-15"), "amount"])
    assert np.isnan(events.loc[pd.Timestamp("2023-11-15"), "fx_rate_to_base"])
    assert events.loc[pd.Timestamp("2023-11-15"), "original_currency"] == "USD"


def test_validate_tables_missing_stays_missing(raw_tables, write_raw):
    """Blank optional amounts and flags stay missing; only limit_locked defaults to False."""
    tables = {**raw_tables, "customers": raw_tables["customers"].copy()}
    tables["customers"].loc[1, "credit_limit"] = "NaN"

    clean = _validate(write_raw, tables).clean

    customers = clean["customers"].set_index("customer_id")
    assert np.isnan(customers.loc["C002", "credit_limit"])
    assert customers["limit_locked"].tolist() == [False, True]
    assert customers["limit_valid_to"].isna().tolist() == [True, False]
    events = clean["credit_events"].set_index("customer_id")
    assert np.isnan(events.loc["C001", "amount"])
    statements = clean["financial_statements"].set_index("customer_id")
    assert np.isnan(statements.loc["C001", "interest_expense"])
    assert statements["audited"].isna().tolist() == [False, True]
    invoices = clean["invoices"].set_index("document_id")
    assert invoices["disputed"].isna().sum() == 3


@pytest.mark.parametrize("token", ["", "NA", "NaN", "null", "NULL", "  NA  "])
def test_validate_tables_missing_tokens(raw_tables, write_raw, token):
    """Empty text and the NA/NaN/null tokens are missing values."""
    tables = _with_rows(raw_tables, "credit_events", {**VALID_ROWS["credit_events"], "amount": token})

    clean = _validate(write_raw, tables).clean["credit_events"]

    assert clean["amount"].isna().sum() == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("FALSE", False), ("Yes", True), ("no", False), ("1", True), ("0", False),
])
def test_validate_tables_bool_spellings(raw_tables, write_raw, text, expected):
    """Booleans accept true/false, 1/0 and yes/no in any case."""
    tables = _with_rows(raw_tables, "invoices", {**VALID_ROWS["invoices"], "disputed": text})

    clean = _validate(write_raw, tables).clean["invoices"].set_index("document_id")

    assert clean.loc["INV9", "disputed"] == expected


def test_validate_tables_number_spellings(raw_tables, write_raw):
    """Plain decimals with sign, exponent or spaces around them are valid numbers."""
    rows = [
        {**VALID_ROWS["payments"], "payment_id": f"P{i}", "amount": text}
        for i, text in enumerate(["+12.5", "1e3", " 7 ", ".5", "3."], start=10)
    ]
    tables = _with_rows(raw_tables, "payments", *rows)

    clean = _validate(write_raw, tables).clean["payments"].set_index("payment_id")

    assert clean.loc[["P10", "P11", "P12", "P13", "P14"], "amount"].tolist() == [12.5, 1000.0, 7.0, 0.5, 3.0]


def test_validate_tables_clean_dtypes(raw_tables, write_raw):
    """Clean tables follow the contract kinds and are sorted by key."""
    clean = _validate(write_raw, raw_tables).clean

    invoices = clean["invoices"]
    assert str(invoices["issued_on"].dtype).startswith("datetime64")
    assert invoices["amount"].dtype == "float64"
    assert invoices["disputed"].dtype == "boolean"
    assert clean["customers"]["payment_terms_days"].dtype == "int64"
    assert pd.api.types.is_string_dtype(invoices["document_id"])
    assert invoices["document_id"].tolist() == sorted(invoices["document_id"])
    assert list(clean["fx_rates"].columns) == ["currency", "rate_on", "rate_to_base"]
    assert list(invoices.columns) == [*TABLES["invoices"].columns, "original_currency", "fx_rate_to_base"]


def test_validate_tables_parquet_and_csv_agree(raw_tables, write_raw):
    """CSV and Parquet inputs give the same clean tables and counts."""
    bad = _with_rows(raw_tables, "invoices", {**VALID_ROWS["invoices"], "issued_on": "3/1/2013"})

    from_csv = _validate(write_raw, bad, "csv")
    from_parquet = _validate(write_raw, bad, "parquet")

    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(from_csv.clean[name], from_parquet.clean[name])
        assert from_csv.counts[name] == from_parquet.counts[name]
    assert from_parquet.quarantine["invoices"]["source_row"].tolist() == [5]  # Parquet counts from 1


def test_validate_tables_does_not_modify_input(raw_tables, write_raw):
    """Validation leaves the raw frames unchanged."""
    raw = read_raw_folder(write_raw(raw_tables))
    before = {name: table.frame.copy() for name, table in raw.items()}

    validate_tables(raw, base_currency="CNY", max_reject_share=1.0)

    for name, table in raw.items():
        pd.testing.assert_frame_equal(table.frame, before[name])


def test_validate_tables_without_date_limit(raw_tables, write_raw):
    """Without as_of_limit no date counts as a future date."""
    tables = _with_rows(raw_tables, "payments", {**VALID_ROWS["payments"], "paid_on": "2030-01-01"})

    result = _validate(write_raw, tables, as_of_limit=None)

    assert result.counts["payments"].quarantined == {}


def test_validate_tables_logs_counts(raw_tables, write_raw, caplog):
    """Each table logs rows in, accepted, dropped and quarantined by reason at INFO."""
    copy = raw_tables["payments"].iloc[0].to_dict()
    tables = _with_rows(raw_tables, "payments", copy, {**VALID_ROWS["payments"], "amount": "x"})

    with caplog.at_level(logging.INFO, logger="creditlimit.features.validation"):
        _validate(write_raw, tables)

    messages = [record.getMessage() for record in caplog.records]
    assert ("payments: 5 rows in, 3 accepted, 1 dropped (exact_duplicate 1), "
            "1 quarantined (invalid_number 1)") in messages
    assert "fx_rates: 3 rows in, 3 accepted, 0 dropped, 0 quarantined" in messages


def _too_many_rejects_tables(raw_tables):
    bad_payments = [
        {**VALID_ROWS["payments"], "payment_id": f"P{i}", "paid_on": "3/5/2024"} for i in range(10, 13)
    ]
    tables = _with_rows(raw_tables, "payments", *bad_payments)
    return _with_rows(tables, "payments", {**VALID_ROWS["payments"], "currency": "EUR"})


def test_validate_tables_too_many_rejects_en(raw_tables, write_raw):
    """A table over the reject limit fails naming share, limit, reasons, file and fix."""
    tables = _too_many_rejects_tables(raw_tables)

    with pytest.raises(InputDataError, match=(
        r"^Table payments: 57\.1% of rows were quarantined \(4 of 7\), more than the limit of 5\.0%\. "
        r"Top reasons: invalid_date 3, unknown_currency 1\. Correct the rows listed in "
        r"out/quarantine/payments\.csv, or raise validation\.max_reject_share in params\.yaml\.$"
    )) as caught:
        _validate(write_raw, tables, max_reject_share=0.05, quarantine_dir=Path("out/quarantine"))

    assert caught.value.result.counts["payments"].quarantined == {"invalid_date": 3, "unknown_currency": 1}
    assert len(caught.value.result.quarantine["payments"]) == 4


def test_validate_tables_too_many_rejects_zh(raw_tables, write_raw):
    """The reject-limit error renders in zh_CN with the same facts."""
    tables = _too_many_rejects_tables(raw_tables)

    with use_locale("zh_CN"), pytest.raises(InputDataError, match=(
        r"^表 payments：57\.1% 的行被隔离（7 行中有 4 行），超过上限 5\.0%。"
        r"主要原因：invalid_date 3, unknown_currency 1。请更正 quarantine/payments\.csv "
        r"中列出的行，或提高 params\.yaml 中的 validation\.max_reject_share。$"
    )):
        _validate(write_raw, tables, max_reject_share=0.05)


def test_validate_tables_too_many_rejects_several_tables(raw_tables, write_raw):
    """When several tables are over the limit, the message lists the others too."""
    tables = _too_many_rejects_tables(raw_tables)
    tables = _with_rows(tables, "credit_events", {**VALID_ROWS["credit_events"], "event_type": "x"})

    with pytest.raises(InputDataError, match=r"Other tables over the limit: credit_events \(33\.3%\)\.$"):
        _validate(write_raw, tables, max_reject_share=0.05)
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"其他超过上限的表：credit_events \(33\.3%\)。$"):
        _validate(write_raw, tables, max_reject_share=0.05)


def test_validate_tables_share_at_limit_passes(raw_tables, write_raw):
    """A quarantined share equal to the limit passes; only a larger share fails."""
    tables = _with_rows(raw_tables, "payments", {**VALID_ROWS["payments"], "amount": "x"})

    result = _validate(write_raw, tables, max_reject_share=0.25)  # 1 of 4 payments

    assert result.counts["payments"].quarantined_share == 0.25


@pytest.mark.parametrize("share", [-0.1, 1.5, "5%", True, None])
def test_validate_tables_rejects_invalid_share(raw_tables, write_raw, share):
    """An invalid max_reject_share is a parameter error in both locales."""
    raw = read_raw_folder(write_raw(raw_tables))

    with pytest.raises(ParamsError, match=r"validation\.max_reject_share must be a number in \[0, 1\]; got"):
        validate_tables(raw, base_currency="CNY", max_reject_share=share)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"validation\.max_reject_share 必须是 \[0, 1\] 区间内的数字"):
        validate_tables(raw, base_currency="CNY", max_reject_share=share)


def test_validate_tables_rejects_empty_base_currency(raw_tables, write_raw):
    """An empty base currency is a parameter error in both locales."""
    raw = read_raw_folder(write_raw(raw_tables))

    with pytest.raises(ParamsError, match=r"data\.base_currency must be a currency code such as CNY; got ''"):
        validate_tables(raw, base_currency="", max_reject_share=0.05)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"data\.base_currency 必须是币种代码"):
        validate_tables(raw, base_currency="", max_reject_share=0.05)


def test_validation_params_from_mapping():
    """The validation section builds frozen parameters."""
    params = ValidationParams.from_mapping({"max_reject_share": 0.05})

    assert params.max_reject_share == 0.05
    with pytest.raises(AttributeError):
        params.max_reject_share = 0.5


@pytest.mark.parametrize(("mapping", "message_en", "message_zh"), [
    pytest.param({}, r"validation\.max_reject_share is missing\. Add it to params\.yaml\.",
                 r"缺少参数 validation\.max_reject_share", id="missing"),
    pytest.param({"max_reject_share": 0.05, "max_rejects": 1},
                 r"validation\.max_rejects is not a validation parameter \(known: max_reject_share\)",
                 r"validation\.max_rejects 不是校验参数", id="unknown"),
    pytest.param({"max_reject_share": 2},
                 r"validation\.max_reject_share must be a number in \[0, 1\]; got 2\.",
                 r"必须是 \[0, 1\] 区间内的数字，实际为 2", id="share"),
    pytest.param({"max_reject_share": "5%"},
                 r"validation\.max_reject_share must be a number in \[0, 1\]; got '5%'\.",
                 r"实际为 '5%'", id="share-text"),
])
def test_validation_params_rejects_bad_values(mapping, message_en, message_zh):
    """Bad validation parameters raise ParamsError naming the key, the rule and the value."""
    with pytest.raises(ParamsError, match=message_en):
        ValidationParams.from_mapping(mapping)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=message_zh):
        ValidationParams.from_mapping(mapping)


def test_table_counts_must_reconcile():
    """TableCounts rejects counts that do not add up to rows_in."""
    with pytest.raises(ValueError, match=r"rows_in=5 but accepted \+ dropped \+ quarantined = 4"):
        TableCounts(rows_in=5, accepted=2, dropped={"exact_duplicate": 1}, quarantined={"invalid_date": 1})


def _file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def test_write_validation_outputs_files(raw_tables, write_raw, tmp_path):
    """Outputs are clean Parquet with date32 dates, quarantine CSVs and a sorted JSON report."""
    tables = _with_rows(raw_tables, "invoices", {**VALID_ROWS["invoices"], "issued_on": "3/1/2013"})
    result = _validate(write_raw, tables)

    written = write_validation_outputs(result, tmp_path / "out")

    assert len(written) == 2 * len(TABLE_ORDER) + 1
    for name in TABLE_ORDER:
        stored = pq.read_table(tmp_path / "out" / "clean" / f"{name}.parquet")
        assert stored.schema.remove_metadata() == clean_schema(name)
        read_back = stored.to_pandas(date_as_object=False)
        pd.testing.assert_frame_equal(read_back, result.clean[name], check_dtype=False)
    assert str(clean_schema("invoices").field("issued_on").type) == "date32[day]"

    empty = (tmp_path / "out" / "quarantine" / "payments.csv").read_text(encoding="utf-8")
    assert empty == ",".join([*TABLES["payments"].columns, *QUARANTINE_COLUMNS]) + "\n"
    raw_bytes = (tmp_path / "out" / "quarantine" / "invoices.csv").read_bytes()
    assert not raw_bytes.startswith(b"\xef\xbb\xbf")
    quarantine = pd.read_csv(tmp_path / "out" / "quarantine" / "invoices.csv", dtype=str, keep_default_na=False)
    assert quarantine["reason_code"].tolist() == ["invalid_date"]
    assert quarantine["issued_on"].tolist() == ["3/1/2013"]
    assert "不是 ISO 格式的日期" in quarantine["reason_zh"].iloc[0]

    report_text = (tmp_path / "out" / "validation_report.json").read_text(encoding="utf-8")
    report = json.loads(report_text)
    assert report["tables"]["invoices"]["quarantined"] == {"invalid_date": 1}
    assert report["tables"]["invoices"]["rows_in"] == 5
    assert report_text == json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_write_validation_outputs_deterministic(raw_tables, write_raw, tmp_path):
    """The same input gives byte-identical files, and the clean tables ignore input row order."""
    tables = _with_rows(raw_tables, "payments", {**VALID_ROWS["payments"], "amount": "x"})
    folder = write_raw(tables)
    options = {"base_currency": "CNY", "max_reject_share": 1.0}
    shuffled = write_raw({name: frame.iloc[::-1] for name, frame in tables.items()})

    write_validation_outputs(validate_tables(read_raw_folder(folder), **options), tmp_path / "first")
    write_validation_outputs(validate_tables(read_raw_folder(folder), **options), tmp_path / "second")
    write_validation_outputs(validate_tables(read_raw_folder(shuffled), **options), tmp_path / "shuffled")

    first = _file_hashes(tmp_path / "first")
    assert first == _file_hashes(tmp_path / "second")
    shuffled_hashes = _file_hashes(tmp_path / "shuffled")
    for name in TABLE_ORDER:
        assert shuffled_hashes[f"clean/{name}.parquet"] == first[f"clean/{name}.parquet"], name
    # The reports differ only in the raw files' hashes, which name the reordered inputs.
    first_report = json.loads((tmp_path / "first" / "validation_report.json").read_text())
    shuffled_report = json.loads((tmp_path / "shuffled" / "validation_report.json").read_text())
    for name in TABLE_ORDER:
        assert first_report["tables"][name].pop("sha256") != shuffled_report["tables"][name].pop("sha256")
    assert first_report == shuffled_report


def test_validation_report_hashes_raw_files(raw_tables, write_raw, tmp_path):
    """Each table's entry names its raw file and carries the file's SHA-256."""
    import hashlib

    folder = write_raw(raw_tables)
    result = validate_tables(read_raw_folder(folder), base_currency="CNY", max_reject_share=1.0)
    write_validation_outputs(result, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "validation_report.json").read_text())
    for name in TABLE_ORDER:
        entry = report["tables"][name]
        raw_file = folder / entry["source"]
        assert raw_file.is_file(), entry
        assert entry["sha256"] == hashlib.sha256(raw_file.read_bytes()).hexdigest()


def test_write_validation_outputs_after_rejects_error(raw_tables, write_raw, tmp_path):
    """The result attached to the reject-limit error can still be written."""
    tables = _too_many_rejects_tables(raw_tables)
    with pytest.raises(InputDataError) as caught:
        _validate(write_raw, tables, max_reject_share=0.05)

    write_validation_outputs(caught.value.result, tmp_path / "out")

    quarantine = pd.read_csv(tmp_path / "out" / "quarantine" / "payments.csv", dtype=str)
    assert len(quarantine) == 4


# Cell values that break one rule or another, mixed with valid ones.
_CELL_TEXT = st.sampled_from([
    "", "NA", "x", "3/1/2013", "2024-02-30", "2024-01-15", "-5", "0", "12.5", "1,234", "true",
    "C001", "C002", "C999", "USD", "CNY", "EUR", "INV1", "INV2", "invoice", "credit_note", "default",
])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validate_tables_counts_always_reconcile(raw_tables, data):
    """Whatever cells are corrupted, every row is accepted, dropped or quarantined exactly once."""
    raw = {}
    for name in TABLE_ORDER:
        frame = pd.concat([raw_tables[name]] * 3, ignore_index=True)
        cells = data.draw(st.lists(
            st.tuples(st.integers(0, len(frame) - 1), st.sampled_from(list(frame.columns)), _CELL_TEXT),
            max_size=6,
        ))
        for row, column, text in cells:
            frame.loc[row, column] = text
        raw[name] = RawTable(
            name=name, frame=frame.astype("str"), source_file=f"{name}.csv",
            source_rows=np.arange(2, len(frame) + 2),
        )

    try:
        result = validate_tables(raw, base_currency="CNY", max_reject_share=0.0, as_of_limit=AS_OF_LIMIT)
    except InputDataError as error:
        result = error.result

    _assert_reconciled(result)
    for name in TABLE_ORDER:
        assert len(result.clean[name]) + len(result.quarantine[name]) <= len(raw[name].frame)
        assert not result.clean[name].duplicated(subset=list(TABLES[name].key)).any(), name
        quarantine = result.quarantine[name]
        assert quarantine["source_row"].is_unique, name
        assert set(quarantine["reason_code"]) <= set(REASON_CODES) - set(DROP_REASON_CODES), name
