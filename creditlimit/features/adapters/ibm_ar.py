"""Convert the IBM accounts-receivable sample ledger into the canonical input tables.

The IBM Watson Analytics sample ``WA_Fn-UseC_-Accounts-Receivable.csv`` has one
row per invoice with the columns ``countryCode, customerID, PaperlessDate,
invoiceNumber, InvoiceDate, DueDate, InvoiceAmount, Disputed, SettledDate,
PaperlessBill, DaysToSettle, DaysLate``. Dates are month-first ``M/D/YYYY``
(:data:`IBM_DATE_FORMAT`); nothing else is guessed. The ledger has no currency,
so the caller names it.

Mapping to the canonical tables:

- ``customers``: one row per ``customerID``; ``region`` = ``countryCode`` (of
  the customer's latest invoice), ``industry`` = ``"unknown"``, ``onboarded_on``
  = first ``InvoiceDate``, ``payment_terms_days`` = the most common
  ``DueDate - InvoiceDate`` (30 days on the whole sample); no credit limit.
- ``invoices``: ``document_id`` = ``invoiceNumber`` as text (leading zeros
  kept), ``issued_on``, ``due_on``, ``amount``, ``disputed`` (Yes/No).
- ``payments``: one per settled invoice: ``payment_id`` = ``"P"`` +
  invoiceNumber, ``paid_on`` = ``SettledDate``, ``amount`` = ``InvoiceAmount``,
  ``document_id`` = invoiceNumber. A blank ``SettledDate`` means not settled.
- ``financial_statements``, ``credit_events``, ``fx_rates``: empty, with the
  contract columns.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.contract import TABLE_ORDER, TABLES
from creditlimit.i18n import register

__all__ = ["IBM_DATE_FORMAT", "IBM_COLUMNS", "convert_ibm_ar", "write_canonical"]

logger = logging.getLogger(__name__)

IBM_DATE_FORMAT = "%m/%d/%Y"
# Columns the adapter reads. The ledger's other columns are not used.
IBM_COLUMNS = (
    "countryCode", "customerID", "invoiceNumber", "InvoiceDate", "DueDate", "InvoiceAmount", "Disputed", "SettledDate",
)
_REQUIRED_VALUES = ("customerID", "invoiceNumber", "InvoiceDate", "DueDate", "InvoiceAmount")
_DISPUTED_VALUES = {"yes": True, "no": False}
_PANDAS_DTYPES = {"str": object, "date": "datetime64[us]", "float": "float64", "int": "int64", "bool": "boolean"}

register({
    "features.ibm_ar_unreadable": {
        "en": "{file}: the file cannot be read as a UTF-8 CSV with a header row ({reason}). Save it as UTF-8 CSV.",
        "zh_CN": "{file}：无法按带表头的 UTF-8 CSV 读取该文件（{reason}）。请另存为 UTF-8 编码的 CSV。",
    },
    "features.ibm_ar_missing_column": {
        "en": "{file}: required column '{column}' is missing. Use the original IBM export, which has: {expected}.",
        "zh_CN": "{file}：缺少必需列“{column}”。请使用 IBM 原始导出文件，其列为：{expected}。",
    },
    "features.ibm_ar_missing_value": {
        "en": "{file}, row {row}, column '{column}': the value is missing ({count} row(s) in all). Fill it in or remove the row.",
        "zh_CN": "{file} 第 {row} 行“{column}”列：值缺失（共 {count} 行）。请补齐或删除该行。",
    },
    "features.ibm_ar_invalid_date": {
        "en": (
            "{file}, row {row}, column '{column}': '{value}' is not a date in the format M/D/YYYY "
            "(month first) ({count} row(s) in all). Correct the date or export the ledger again."
        ),
        "zh_CN": "{file} 第 {row} 行“{column}”列：“{value}”不是 M/D/YYYY（月在前）格式的日期（共 {count} 行）。请更正日期或重新导出台账。",
    },
    "features.ibm_ar_invalid_amount": {
        "en": (
            "{file}, row {row}, column '{column}': '{value}' is not a finite number ({count} row(s) in all). "
            "Write amounts with a dot as decimal mark and no thousands separator."
        ),
        "zh_CN": "{file} 第 {row} 行“{column}”列：“{value}”不是有限数值（共 {count} 行）。金额请用小数点且不要千位分隔符。",
    },
    "features.ibm_ar_invalid_flag": {
        "en": "{file}, row {row}, column '{column}': '{value}' is not Yes or No ({count} row(s) in all). Use Yes or No.",
        "zh_CN": "{file} 第 {row} 行“{column}”列：“{value}”不是 Yes 或 No（共 {count} 行）。请填写 Yes 或 No。",
    },
    "features.ibm_ar_invalid_currency": {
        "en": "currency must be a three-letter ISO 4217 code such as USD; got {value}.",
        "zh_CN": "currency 必须是三个字母的 ISO 4217 货币代码（例如 USD）；实际为 {value}。",
    },
    "features.canonical_table_missing": {
        "en": "Table '{table}' is missing from the tables to write. Pass all of: {expected}.",
        "zh_CN": "待写出的数据表中缺少“{table}”。请提供以下全部数据表：{expected}。",
    },
    "features.canonical_column_missing": {
        "en": "Table '{table}' lacks required column '{column}'. Add the column before writing.",
        "zh_CN": "数据表“{table}”缺少必需列“{column}”。请在写出前添加该列。",
    },
})


def convert_ibm_ar(csv_path: Path, *, currency: str) -> dict[str, pd.DataFrame]:
    """Read the IBM ledger and return the six canonical tables.

    Parameters
    ----------
    csv_path : Path
        The IBM ``WA_Fn-UseC_-Accounts-Receivable.csv`` file (UTF-8).
    currency : str
        ISO 4217 code of the ledger's amounts, e.g. ``"USD"``.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table in ``TABLE_ORDER`` with every contract column
        (optional columns that the ledger lacks are all missing). Dates are
        datetime64[us], ids text.

    Raises
    ------
    ParamsError
        If ``currency`` is not a three-letter code.
    InputDataError
        If the file cannot be read, lacks a column, or a row contains a missing
        required value, a date not in M/D/YYYY, an invalid amount or a
        ``Disputed`` value other than Yes/No. The message names file, row
        (line number, header = line 1), column and value.
    """
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ParamsError("features.ibm_ar_invalid_currency", value=repr(currency))
    path = Path(csv_path)
    ledger = _read_ledger(path)
    parsed = _parse_ledger(ledger, path)

    invoices = _invoices(parsed, currency)
    payments = _payments(parsed, currency)
    customers = _customers(parsed, currency)
    tables = {
        "customers": customers,
        "financial_statements": _empty_table("financial_statements"),
        "invoices": invoices,
        "payments": payments,
        "credit_events": _empty_table("credit_events"),
        "fx_rates": _empty_table("fx_rates"),
    }
    logger.info(
        "Converted %s: %d customers, %d invoices, %d payments (%d invoices not settled)",
        path, len(customers), len(invoices), len(payments), len(invoices) - len(payments),
    )
    return {name: tables[name] for name in TABLE_ORDER}


def write_canonical(tables: Mapping[str, pd.DataFrame], out_dir: Path) -> dict[str, Path]:
    """Write canonical tables as ``<table>.csv`` files (UTF-8, ISO dates).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Every table in ``TABLE_ORDER``.
    out_dir : Path
        Folder to write into; created when missing.

    Returns
    -------
    dict of str to Path
        Table name to written file.

    Raises
    ------
    InputDataError
        If a table or one of its required columns is missing.

    Notes
    -----
    Columns are written in contract order; an optional column a frame lacks is
    written empty. Booleans are ``true``/``false``, missing values are empty
    cells. Each file is written under a temporary name and then renamed, so a
    crash leaves no partial file.
    """
    for table in TABLE_ORDER:
        if table not in tables:
            raise InputDataError("features.canonical_table_missing", table=table, expected=", ".join(TABLE_ORDER))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for table in TABLE_ORDER:
        text = _as_text(table, tables[table])
        path = out_dir / f"{table}.csv"
        partial = out_dir / f".{table}.csv.partial"
        text.to_csv(partial, index=False, encoding="utf-8", lineterminator="\n")
        os.replace(partial, path)
        written[table] = path
    logger.info("Wrote %d canonical tables to %s", len(written), out_dir)
    return written


def _read_ledger(path: Path) -> pd.DataFrame:
    try:
        ledger = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise InputDataError("features.ibm_ar_unreadable", file=str(path), reason=type(error).__name__) from error
    ledger.columns = [str(column).strip() for column in ledger.columns]
    for column in IBM_COLUMNS:
        if column not in ledger.columns:
            raise InputDataError(
                "features.ibm_ar_missing_column", file=str(path), column=column, expected=", ".join(IBM_COLUMNS)
            )
    ledger = ledger.loc[:, list(IBM_COLUMNS)].apply(lambda column: column.str.strip())
    # Line numbers as a text editor shows them: the header is line 1.
    ledger.index = pd.RangeIndex(2, len(ledger) + 2, name="row")
    return ledger


def _parse_ledger(ledger: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check and type every column used; raise on the first bad row of each rule."""
    for column in _REQUIRED_VALUES:
        _raise_for_rows(ledger[column] == "", ledger, path, column, "features.ibm_ar_missing_value")

    parsed = pd.DataFrame(index=ledger.index)
    for column in ("InvoiceDate", "DueDate", "SettledDate"):
        dates = pd.to_datetime(ledger[column], format=IBM_DATE_FORMAT, errors="coerce")
        _raise_for_rows(dates.isna() & (ledger[column] != ""), ledger, path, column, "features.ibm_ar_invalid_date")
        parsed[column] = dates.astype("datetime64[us]")

    amounts = pd.to_numeric(ledger["InvoiceAmount"], errors="coerce")
    invalid = ~np.isfinite(amounts.to_numpy(dtype="float64", na_value=np.nan))
    _raise_for_rows(pd.Series(invalid, index=ledger.index), ledger, path, "InvoiceAmount", "features.ibm_ar_invalid_amount")
    parsed["InvoiceAmount"] = amounts.astype("float64")

    flags = ledger["Disputed"].str.lower()
    unknown = (flags != "") & ~flags.isin(list(_DISPUTED_VALUES))
    _raise_for_rows(unknown, ledger, path, "Disputed", "features.ibm_ar_invalid_flag")
    parsed["Disputed"] = flags.map(_DISPUTED_VALUES).astype("boolean")

    for column in ("countryCode", "customerID", "invoiceNumber"):
        parsed[column] = ledger[column].where(ledger[column] != "", None).astype(object)
    return parsed


def _raise_for_rows(bad: pd.Series, ledger: pd.DataFrame, path: Path, column: str, key: str) -> None:
    if bad.any():
        row = int(bad.idxmax())
        raise InputDataError(
            key, file=str(path), row=row, column=column, value=ledger.at[row, column], count=int(bad.sum())
        )


def _invoices(parsed: pd.DataFrame, currency: str) -> pd.DataFrame:
    invoices = pd.DataFrame({
        "document_id": parsed["invoiceNumber"],
        "document_type": "invoice",
        "customer_id": parsed["customerID"],
        "issued_on": parsed["InvoiceDate"],
        "due_on": parsed["DueDate"],
        "amount": parsed["InvoiceAmount"],
        "currency": currency,
        "reference_id": None,
        "disputed": parsed["Disputed"],
    })
    return _with_contract_dtypes("invoices", invoices.sort_values(["issued_on", "document_id"]))


def _payments(parsed: pd.DataFrame, currency: str) -> pd.DataFrame:
    settled = parsed[parsed["SettledDate"].notna()]
    payments = pd.DataFrame({
        "payment_id": "P" + settled["invoiceNumber"],
        "customer_id": settled["customerID"],
        "paid_on": settled["SettledDate"],
        "amount": settled["InvoiceAmount"],
        "currency": currency,
        "document_id": settled["invoiceNumber"],
    })
    return _with_contract_dtypes("payments", payments.sort_values(["paid_on", "payment_id"]))


def _customers(parsed: pd.DataFrame, currency: str) -> pd.DataFrame:
    ordered = parsed.sort_values(["InvoiceDate", "invoiceNumber"])
    summary = ordered.groupby("customerID", sort=True).agg(
        onboarded_on=("InvoiceDate", "min"),
        region=("countryCode", "last"),
        country_count=("countryCode", "nunique"),
    )
    # Payment terms are the most common DueDate - InvoiceDate, the shorter one on a tie.
    terms_days = (parsed["DueDate"] - parsed["InvoiceDate"]).dt.days
    summary["payment_terms_days"] = terms_days.groupby(parsed["customerID"]).agg(
        lambda days: days.value_counts().sort_index().idxmax()
    )
    several = int((summary["country_count"] > 1).sum())
    if several:
        logger.warning("%d customers have invoices from several country codes; region is the latest invoice's", several)
    customers = pd.DataFrame({
        "customer_id": summary.index.astype(object),
        "industry": "unknown",
        "onboarded_on": summary["onboarded_on"].to_numpy(),
        "payment_terms_days": summary["payment_terms_days"].to_numpy(),
        "currency": currency,
        "region": summary["region"].to_numpy(),
    })
    return _with_contract_dtypes("customers", customers)


def _with_contract_dtypes(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every contract column of ``table``, in contract order and dtype."""
    columns = {}
    for column, kind in TABLES[table].columns.items():
        values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        if kind == "str":
            columns[column] = values.astype(object).where(values.notna(), None)
        else:
            columns[column] = values.astype(_PANDAS_DTYPES[kind])
    return pd.DataFrame(columns).reset_index(drop=True)


def _empty_table(table: str) -> pd.DataFrame:
    return _with_contract_dtypes(table, pd.DataFrame(index=pd.RangeIndex(0)))


def _as_text(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Format every contract column of ``frame`` as CSV text (missing → empty)."""
    spec = TABLES[table]
    text = {}
    for column, kind in spec.columns.items():
        if column not in frame.columns:
            if column in spec.required:
                raise InputDataError("features.canonical_column_missing", table=table, column=column)
            text[column] = pd.Series("", index=frame.index, dtype=object)
            continue
        values = frame[column]
        if kind == "date":
            formatted = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        elif kind == "bool":
            formatted = values.astype("boolean").map({True: "true", False: "false"}, na_action="ignore")
        elif kind == "int":
            formatted = values.astype("Int64").astype(object)
        else:
            formatted = values.astype(object)
        text[column] = formatted.astype(object).where(values.notna(), "")
    return pd.DataFrame(text, index=frame.index)
