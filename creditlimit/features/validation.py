"""Validate the canonical tables into typed clean tables, a quarantine and row counts.

Every input row ends in exactly one of three places: the clean table (accepted),
the drop count (an exact copy of a kept row) or the quarantine (rejected). A
quarantined row keeps one reason code, the column and value at fault and a message
in en and zh_CN. So ``rows_in == accepted + dropped + quarantined`` holds for every
table, and :class:`TableCounts` checks it on construction.

Rules run in a fixed order, and a row gets the reason of the first rule it fails:

1. field rules: missing key, missing required value, value formats (ISO dates
   only, plain decimal numbers, whole numbers, booleans), the table's own value
   rules, then dates after ``as_of_limit``;
2. duplicates among the rows still accepted: exact copies are dropped and counted,
   and rows that share a key with different content are all quarantined;
3. references: the customer must be accepted, because customers are validated
   before the tables that reference them. The currency must be the base currency
   or have a rate on or before the document date. Credit notes and payments must
   name an accepted invoice of the same customer, so invoices are validated before
   payments, and invoice rows before credit notes.

Values are first stripped of surrounding spaces, and the texts in
:data:`MISSING_TOKENS` count as missing. Formats are never guessed: ``3/1/2013``
is an invalid date and ``1,234.56`` an invalid number.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.contract import (
    CREDIT_EVENT_TYPES,
    DOCUMENT_TYPES,
    TABLE_ORDER,
    TABLES,
    TableSpec,
)
from creditlimit.features.fx import NO_FX_RATE, UNKNOWN_CURRENCY, convert_to_base
from creditlimit.features.loading import RawTable
from creditlimit.i18n import register, translate

__all__ = [
    "MISSING_TOKENS",
    "REASON_CODES",
    "DROP_REASON_CODES",
    "QUARANTINE_COLUMNS",
    "TableCounts",
    "ValidationResult",
    "ValidationParams",
    "validate_tables",
    "check_reject_shares",
    "clean_schema",
    "write_validation_outputs",
]

logger = logging.getLogger(__name__)

MISSING_TOKENS = frozenset({"", "NA", "NaN", "null", "NULL"})
"""Texts (after stripping surrounding spaces) that mean a value is missing."""

QUARANTINE_COLUMNS = (
    "source_file", "source_row", "reason_code", "column", "value", "reason_en", "reason_zh",
)
"""Columns added after the original row values in each quarantine table."""

_ROW = "{file} row {row}: "
_ROW_ZH = "{file} 第 {row} 行："
_REASON_TEXTS = {
    "missing_key": (
        _ROW + "key column '{column}' is empty. Fill in {column}, or remove the row.",
        _ROW_ZH + "主键列“{column}”为空。请填写 {column}，或删除该行。",
    ),
    "missing_value": (
        _ROW + "required column '{column}' is empty. Fill in a value for {column}.",
        _ROW_ZH + "必填列“{column}”为空。请为 {column} 填写值。",
    ),
    "invalid_date": (
        _ROW + "{column} '{value}' is not an ISO date. Write the date as YYYY-MM-DD "
        "(for example 2024-03-01), because other date formats are never guessed.",
        _ROW_ZH + "{column} 的值“{value}”不是 ISO 格式的日期。请按 YYYY-MM-DD 填写"
        "（例如 2024-03-01），系统不会猜测其他日期格式。",
    ),
    "invalid_number": (
        _ROW + "{column} '{value}' is not a valid number. Write a finite decimal number "
        "with a dot as decimal mark and no thousands separator (for example 1234.56).",
        _ROW_ZH + "{column} 的值“{value}”不是有效数字。请填写有限的十进制数，"
        "用点作小数点，不加千位分隔符（例如 1234.56）。",
    ),
    "invalid_integer": (
        _ROW + "{column} '{value}' is not a whole number. Write digits only (for example 30).",
        _ROW_ZH + "{column} 的值“{value}”不是整数。请只填写数字（例如 30）。",
    ),
    "invalid_bool": (
        _ROW + "{column} '{value}' is not a boolean. Write true or false "
        "(1/0 and yes/no are also accepted).",
        _ROW_ZH + "{column} 的值“{value}”不是布尔值。请填写 true 或 false（也接受 1/0、yes/no）。",
    ),
    "negative_value": (
        _ROW + "{column} {value} is negative. Enter 0 or a positive value.",
        _ROW_ZH + "{column} 的值 {value} 为负数。请填写 0 或正数。",
    ),
    "invalid_document_type": (
        _ROW + "document_type '{value}' is not allowed. Use one of: "
        + ", ".join(DOCUMENT_TYPES) + ".",
        _ROW_ZH + "document_type 的值“{value}”无效。请使用以下之一："
        + "、".join(DOCUMENT_TYPES) + "。",
    ),
    "negative_invoice_amount": (
        _ROW + "invoice amount {value} is negative. Correct the amount, or enter the "
        "reduction as a credit_note row with a reference_id.",
        _ROW_ZH + "发票金额 {value} 为负数。请更正金额，或将冲减录为带 reference_id 的 credit_note 行。",
    ),
    "credit_note_not_negative": (
        _ROW + "credit note amount {value} is not negative. Enter a credit note with a "
        "negative amount.",
        _ROW_ZH + "贷项通知单金额 {value} 不是负数。请以负数金额录入贷项通知单。",
    ),
    "credit_note_without_reference": (
        _ROW + "credit note has no reference_id. Fill in reference_id with the "
        "document_id of the invoice it reduces.",
        _ROW_ZH + "贷项通知单缺少 reference_id。请在 reference_id 中填写其冲减的发票的 document_id。",
    ),
    "due_before_issue": (
        _ROW + "due_on {value} is before issued_on {issued_on}. Correct one of the two dates.",
        _ROW_ZH + "到期日 due_on {value} 早于开票日 issued_on {issued_on}。请更正其中一个日期。",
    ),
    "published_before_period_end": (
        _ROW + "published_on {value} is before period_end {period_end}, but a statement "
        "is published after its period ends. Correct one of the two dates.",
        _ROW_ZH + "发布日 published_on {value} 早于报告期末 period_end {period_end}，"
        "而财务报表应在报告期结束后发布。请更正其中一个日期。",
    ),
    "invalid_event_type": (
        _ROW + "event_type '{value}' is not allowed. Use one of: "
        + ", ".join(CREDIT_EVENT_TYPES) + ".",
        _ROW_ZH + "event_type 的值“{value}”无效。请使用以下之一："
        + "、".join(CREDIT_EVENT_TYPES) + "。",
    ),
    "invalid_fx_rate": (
        _ROW + "rate_to_base {value} is not greater than 0. Enter the number of "
        "base-currency units per unit of the currency.",
        _ROW_ZH + "rate_to_base 的值 {value} 不大于 0。请填写每单位该币种折合的本位币金额。",
    ),
    "non_positive_payment": (
        _ROW + "payment amount {value} is not greater than 0. Correct the amount. "
        "A reduction of an invoice belongs in invoices as a credit_note.",
        _ROW_ZH + "付款金额 {value} 不大于 0。请更正金额；发票的冲减应在 invoices 中录为 credit_note。",
    ),
    "future_date": (
        _ROW + "{column} {value} is after the latest allowed date {limit}. Correct the "
        "date, or remove the row if the record is not final.",
        _ROW_ZH + "{column} 的日期 {value} 晚于允许的最晚日期 {limit}。请更正日期；"
        "如该记录尚未最终确定，请删除该行。",
    ),
    "exact_duplicate": (
        _ROW + "exact copy of another row with key {value}. One copy is kept and this "
        "row is dropped.",
        _ROW_ZH + "与键为 {value} 的另一行完全相同。保留一份，删除该行。",
    ),
    "duplicate_key_conflict": (
        _ROW + "key {column} = {value} appears in {count} rows with different content. "
        "Keep one correct row for this key.",
        _ROW_ZH + "键 {column} = {value} 出现在 {count} 行中且内容不同。请为该键只保留一行正确的数据。",
    ),
    "unknown_customer": (
        _ROW + "customer_id '{value}' is not an accepted customer. Add the customer to "
        "customers or correct the customer_id. A customer rejected by validation is "
        "listed in the customers quarantine file.",
        _ROW_ZH + "customer_id“{value}”不是已通过校验的客户。请在 customers 中添加该客户，"
        "或更正 customer_id。未通过校验的客户列在 customers 的隔离文件中。",
    ),
    UNKNOWN_CURRENCY: (
        _ROW + "currency '{value}' is neither the base currency {base_currency} nor "
        "listed in fx_rates. Correct the currency code, or add rates for {value} to fx_rates.",
        _ROW_ZH + "币种“{value}”既不是本位币 {base_currency}，也不在 fx_rates 中。"
        "请更正币种代码，或在 fx_rates 中添加 {value} 的汇率。",
    ),
    NO_FX_RATE: (
        _ROW + "{column} '{value}' cannot be converted to {base_currency}, because "
        "fx_rates has no {currency} rate dated on or before {date}. Add a {currency} "
        "rate dated on or before {date} to fx_rates.",
        _ROW_ZH + "{column}“{value}”无法折算为 {base_currency}，因为 fx_rates 中没有 "
        "{date} 当日或之前的 {currency} 汇率。请在 fx_rates 中添加 {date} 当日或之前的 "
        "{currency} 汇率。",
    ),
    "unknown_reference": (
        _ROW + "reference_id '{value}' is not an accepted invoice of customer "
        "{customer_id}. Set reference_id to the document_id of an invoice of the same customer.",
        _ROW_ZH + "reference_id“{value}”不是客户 {customer_id} 已通过校验的发票。"
        "请将 reference_id 设为同一客户某张发票的 document_id。",
    ),
    "unknown_document": (
        _ROW + "document_id '{value}' is not an accepted invoice of customer "
        "{customer_id}. Correct document_id, or leave it empty for a payment that "
        "settles no single invoice.",
        _ROW_ZH + "document_id“{value}”不是客户 {customer_id} 已通过校验的发票。"
        "请更正 document_id；如该付款不对应单张发票，请留空。",
    ),
}

REASON_CODES = tuple(_REASON_TEXTS)
"""Every reason code, in the order the rules are applied."""
DROP_REASON_CODES = ("exact_duplicate",)
"""Reason codes that drop a row (counted) instead of quarantining it."""

register({
    f"validation.reason.{code}": {"en": en, "zh_CN": zh}
    for code, (en, zh) in _REASON_TEXTS.items()
})
register({
    "validation.too_many_rejects": {
        "en": "Table {table}: {share:.1%} of rows were quarantined ({quarantined} of "
              "{rows_in}), more than the limit of {limit:.1%}. Top reasons: {reasons}. "
              "Correct the rows listed in {quarantine_file}, or raise "
              "validation.max_reject_share in params.yaml.",
        "zh_CN": "表 {table}：{share:.1%} 的行被隔离（{rows_in} 行中有 {quarantined} 行），"
                 "超过上限 {limit:.1%}。主要原因：{reasons}。请更正 {quarantine_file} "
                 "中列出的行，或提高 params.yaml 中的 validation.max_reject_share。",
    },
    "validation.too_many_rejects_several": {
        "en": "Table {table}: {share:.1%} of rows were quarantined ({quarantined} of "
              "{rows_in}), more than the limit of {limit:.1%}. Top reasons: {reasons}. "
              "Correct the rows listed in {quarantine_file}, or raise "
              "validation.max_reject_share in params.yaml. Other tables over the "
              "limit: {others}.",
        "zh_CN": "表 {table}：{share:.1%} 的行被隔离（{rows_in} 行中有 {quarantined} 行），"
                 "超过上限 {limit:.1%}。主要原因：{reasons}。请更正 {quarantine_file} "
                 "中列出的行，或提高 params.yaml 中的 validation.max_reject_share。"
                 "其他超过上限的表：{others}。",
    },
    "validation.invalid_share": {
        "en": "{name} must be a number in [0, 1]; got {value!r}. Correct {name} in params.yaml.",
        "zh_CN": "{name} 必须是 [0, 1] 区间内的数字，实际为 {value!r}。请在 params.yaml 中更正 {name}。",
    },
    "validation.missing_param": {
        "en": "{name} is missing. Add it to params.yaml.",
        "zh_CN": "缺少参数 {name}。请在 params.yaml 中添加该参数。",
    },
    "validation.unknown_param": {
        "en": "{name} is not a validation parameter (known: {known}). Remove it or "
              "correct its spelling in params.yaml.",
        "zh_CN": "{name} 不是校验参数（可用参数：{known}）。请在 params.yaml 中删除该参数或更正拼写。",
    },
    "validation.invalid_base_currency": {
        "en": "data.base_currency must be a currency code such as CNY; got {value!r}. "
              "Correct it in params.yaml.",
        "zh_CN": "data.base_currency 必须是币种代码（例如 CNY），实际为 {value!r}。"
                 "请在 params.yaml 中更正。",
    },
})

_NUMBER_PATTERN = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_INTEGER_PATTERN = r"[+-]?\d+(?:\.0*)?"
_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
_BOOL_VALUES = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
# Whole numbers beyond 2**53 lose digits in float64 on the way to int64.
_MAX_INTEGER = 2.0**53
_DATE_DTYPE = "datetime64[ms]"
_INVALID_CODES = {
    "date": "invalid_date", "float": "invalid_number", "int": "invalid_integer", "bool": "invalid_bool",
}
_PANDAS_DTYPES = {"str": "str", "float": "float64", "bool": "boolean", "date": _DATE_DTYPE}
_ARROW_TYPES = {
    "str": pa.string(), "date": pa.date32(), "float": pa.float64(),
    "int": pa.int64(), "bool": pa.bool_(),
}

# Amount columns converted to the base currency, and the date that picks the rate.
# None takes the latest rate, because a current credit limit has no document date.
_CONVERSIONS = {
    "customers": (("credit_limit",), None),
    "financial_statements": (
        tuple(c for c, k in TABLES["financial_statements"].columns.items() if k == "float"),
        "period_end",
    ),
    "invoices": (("amount",), "issued_on"),
    "payments": (("amount",), "paid_on"),
    "credit_events": (("amount",), "event_on"),
}


@dataclass(frozen=True)
class TableCounts:
    """Row counts of one table after validation.

    Attributes
    ----------
    rows_in : int
        Rows read.
    accepted : int
        Rows in the clean table.
    dropped : dict of str to int
        Rows dropped, by reason code (exact duplicates).
    quarantined : dict of str to int
        Rows quarantined, by reason code.

    Raises
    ------
    ValueError
        If ``rows_in != accepted + dropped + quarantined``.
    """

    rows_in: int
    accepted: int
    dropped: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = self.accepted + self.dropped_total + self.quarantined_total
        if total != self.rows_in:
            raise ValueError(
                f"row counts do not reconcile: rows_in={self.rows_in} but accepted + "
                f"dropped + quarantined = {total}."
            )

    @property
    def dropped_total(self) -> int:
        """Number of rows dropped for any reason."""
        return sum(self.dropped.values())

    @property
    def quarantined_total(self) -> int:
        """Number of rows quarantined for any reason."""
        return sum(self.quarantined.values())

    @property
    def quarantined_share(self) -> float:
        """Quarantined rows as a share of rows in (0.0 for an empty table)."""
        return self.quarantined_total / self.rows_in if self.rows_in else 0.0

    def to_dict(self) -> dict[str, object]:
        """Return the counts as plain JSON-ready values."""
        return {
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "dropped": dict(sorted(self.dropped.items())),
            "dropped_total": self.dropped_total,
            "quarantined": dict(sorted(self.quarantined.items())),
            "quarantined_total": self.quarantined_total,
            "quarantined_share": self.quarantined_share,
        }


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """Outcome of :func:`validate_tables`.

    Attributes
    ----------
    clean : dict of str to pandas.DataFrame
        Accepted rows per table, typed, amounts in the base currency, sorted by key.
    quarantine : dict of str to pandas.DataFrame
        Rejected rows per table: the original values as text plus
        :data:`QUARANTINE_COLUMNS`, sorted by source row.
    counts : dict of str to TableCounts
        Row counts per table.
    base_currency : str
        Currency of every converted amount.
    """

    clean: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    counts: dict[str, TableCounts]
    base_currency: str

    def to_report(self) -> dict[str, object]:
        """Return the content of ``validation_report.json``."""
        return {
            "base_currency": self.base_currency,
            "tables": {name: counts.to_dict() for name, counts in self.counts.items()},
        }


@dataclass(frozen=True)
class ValidationParams:
    """The ``validation`` section of ``params.yaml``.

    Attributes
    ----------
    max_reject_share : float
        Largest share of a table's rows, in [0, 1], that may be quarantined before
        validation fails.
    """

    max_reject_share: float

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> ValidationParams:
        """Build the parameters from the ``validation`` mapping, checking every value.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        known = ("max_reject_share",)
        for name in mapping:
            if name not in known:
                raise ParamsError(
                    "validation.unknown_param", name=f"validation.{name}", known=", ".join(known)
                )
        for name in known:
            if name not in mapping:
                raise ParamsError("validation.missing_param", name=f"validation.{name}")
        share = _check_share(mapping["max_reject_share"], "validation.max_reject_share")
        return cls(max_reject_share=share)


def validate_tables(
    raw: Mapping[str, RawTable],
    *,
    base_currency: str,
    max_reject_share: float,
    as_of_limit: dt.date | None = None,
    quarantine_dir: Path | None = None,
) -> ValidationResult:
    """Validate every canonical table, convert amounts and count rows by outcome.

    Parameters
    ----------
    raw : mapping of str to RawTable
        One entry per table in ``TABLES``, as returned by the loaders.
    base_currency : str
        Currency code that every amount is converted to.
    max_reject_share : float
        Largest quarantined share of a table's rows, in [0, 1].
    as_of_limit : datetime.date, optional
        Latest allowed date of each table's record date (``onboarded_on``,
        ``published_on``, ``issued_on``, ``paid_on``, ``event_on``, ``rate_on``).
        Later rows are quarantined as ``future_date``. ``None`` disables the rule.
    quarantine_dir : pathlib.Path, optional
        Folder the quarantine files will be written to, named in the error message
        only. Without it the message names ``quarantine/<table>.csv``.

    Returns
    -------
    ValidationResult

    Raises
    ------
    ParamsError
        If ``base_currency`` or ``max_reject_share`` is invalid.
    InputDataError
        If a table's quarantined share exceeds ``max_reject_share``. The error's
        ``result`` attribute contains the full :class:`ValidationResult`, so the caller
        can still write the quarantine with :func:`write_validation_outputs`.
    """
    _check_arguments(raw, base_currency, max_reject_share)
    context = _Context(
        base_currency=base_currency,
        as_of_limit=None if as_of_limit is None else pd.Timestamp(as_of_limit),
    )
    clean, quarantine, counts = {}, {}, {}
    for name in TABLE_ORDER:
        work = _TableWork(raw[name])
        _run_rules(work, context)
        clean[name] = _clean_frame(work)
        quarantine[name] = _quarantine_frame(work)
        counts[name] = _count(work, clean[name])
        context.remember(name, clean[name])
        _log_counts(name, counts[name])

    result = ValidationResult(
        clean=clean, quarantine=quarantine, counts=counts, base_currency=base_currency
    )
    check_reject_shares(result, max_reject_share=max_reject_share, quarantine_dir=quarantine_dir)
    return result


def check_reject_shares(
    result: ValidationResult, *, max_reject_share: float, quarantine_dir: Path | None = None
) -> None:
    """Raise when a table's quarantined share exceeds ``max_reject_share``.

    Raises
    ------
    InputDataError
        ``validation.too_many_rejects`` naming the first table over the limit (in
        load order), its share, the limit, its top reasons with counts and its
        quarantine file, plus any other tables over the limit. The error's
        ``result`` attribute is ``result``.
    """
    over = [
        (name, counts) for name, counts in result.counts.items()
        if counts.quarantined_share > max_reject_share
    ]
    if not over:
        return
    for name, counts in over:
        logger.error(
            "%s: %d of %d rows quarantined (%.1f%%), above the limit of %.1f%%",
            name, counts.quarantined_total, counts.rows_in,
            100 * counts.quarantined_share, 100 * max_reject_share,
        )

    name, counts = over[0]
    folder = Path("quarantine") if quarantine_dir is None else Path(quarantine_dir)
    reasons = sorted(counts.quarantined.items(), key=lambda item: (-item[1], item[0]))
    params = {
        "table": name,
        "share": counts.quarantined_share,
        "quarantined": counts.quarantined_total,
        "rows_in": counts.rows_in,
        "limit": max_reject_share,
        "reasons": ", ".join(f"{code} {number}" for code, number in reasons[:5]),
        "quarantine_file": str(folder / f"{name}.csv"),
    }
    key = "validation.too_many_rejects"
    if len(over) > 1:
        key = "validation.too_many_rejects_several"
        params["others"] = ", ".join(
            f"{other} ({other_counts.quarantined_share:.1%})" for other, other_counts in over[1:]
        )
    error = InputDataError(key, **params)
    error.result = result
    raise error


def clean_schema(table: str) -> pa.Schema:
    """Return the Arrow schema of a clean table: contract columns, then fx columns.

    Dates are ``date32``, whole numbers ``int64``, booleans ``bool`` and text
    ``string``. Tables with amounts add ``original_currency`` and ``fx_rate_to_base``.
    """
    spec = TABLES[table]
    fields = [pa.field(name, _ARROW_TYPES[kind]) for name, kind in spec.columns.items()]
    if table in _CONVERSIONS:
        fields += [pa.field("original_currency", pa.string()), pa.field("fx_rate_to_base", pa.float64())]
    return pa.schema(fields)


def write_validation_outputs(result: ValidationResult, out_dir: Path) -> list[Path]:
    """Write clean tables, quarantine files and the validation report.

    Writes ``out_dir/clean/<table>.parquet`` (schema of :func:`clean_schema`, rows
    sorted by key), ``out_dir/quarantine/<table>.csv`` (plain UTF-8, always written,
    only the header when nothing was quarantined) and
    ``out_dir/validation_report.json`` (counts per table, keys sorted). The same
    result always gives the same bytes. Each file is written under a temporary name
    and then renamed, so a crash never leaves a partial file.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out_dir = Path(out_dir)
    (out_dir / "clean").mkdir(parents=True, exist_ok=True)
    (out_dir / "quarantine").mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLE_ORDER:
        clean_path = out_dir / "clean" / f"{name}.parquet"
        arrow_table = pa.Table.from_pandas(
            result.clean[name], schema=clean_schema(name), preserve_index=False
        )
        _write_atomically(clean_path, lambda path: pq.write_table(arrow_table, path))
        quarantine_path = out_dir / "quarantine" / f"{name}.csv"
        frame = result.quarantine[name]
        _write_atomically(
            quarantine_path,
            lambda path: frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n"),
        )
        written += [clean_path, quarantine_path]

    report_path = out_dir / "validation_report.json"
    text = json.dumps(result.to_report(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    _write_atomically(report_path, lambda path: path.write_text(text, encoding="utf-8"))
    written.append(report_path)
    logger.info("wrote validation outputs for %d tables to %s", len(TABLE_ORDER), out_dir)
    return written


# --- Working state -------------------------------------------------------------


@dataclass
class _Context:
    """Accepted values of earlier tables that the rules of later tables check against."""

    base_currency: str
    as_of_limit: pd.Timestamp | None
    rates: pd.DataFrame | None = None
    customer_currency: pd.Series | None = None
    invoice_keys: pd.MultiIndex | None = None

    def remember(self, name: str, clean: pd.DataFrame) -> None:
        if name == "fx_rates":
            self.rates = clean[["currency", "rate_on", "rate_to_base"]]
        elif name == "customers":
            self.customer_currency = clean.set_index("customer_id")["original_currency"]
        elif name == "invoices":
            invoices = clean[clean["document_type"] == "invoice"]
            self.invoice_keys = pd.MultiIndex.from_arrays(
                [invoices["document_id"], invoices["customer_id"]]
            )


class _TableWork:
    """One table under validation: source text, normalised text, typed values, outcomes.

    Rows are addressed by position (the frame gets a fresh RangeIndex), which is
    also the position in ``raw.source_rows``.
    """

    def __init__(self, raw: RawTable) -> None:
        self.name = raw.name
        self.spec: TableSpec = TABLES[raw.name]
        self.raw = raw
        self.frame = raw.frame.reset_index(drop=True)
        self.index = self.frame.index
        self.text = _normalise_text(self.frame)
        self.typed = pd.DataFrame(index=self.index)
        self.converted: pd.DataFrame | None = None
        self.code = np.full(len(self.frame), None, dtype=object)
        self.is_open = np.ones(len(self.frame), dtype=bool)
        self.records: list[pd.DataFrame] = []

    def open_rows(self) -> pd.Series:
        """Rows that no rule has rejected or dropped yet."""
        return pd.Series(self.is_open.copy(), index=self.index)

    def source_text(self, column: str) -> pd.Series:
        return self.frame[column].fillna("").astype(object)

    def reject(self, mask: pd.Series, code: str, column: str, value=None, **extra) -> None:
        """Record ``code`` for the rows in ``mask`` that are still open.

        ``value`` defaults to the source text of ``column``. ``extra`` contains the
        other values the reason message names, as Series or one value for all rows.
        """
        hit = mask.to_numpy(dtype=bool, na_value=False) & self.is_open
        if not hit.any():
            return
        self.is_open &= ~hit
        self.code[hit] = code
        positions = np.flatnonzero(hit)
        if value is None:
            value = self.source_text(column)
        record = {"reason_code": code, "column": column}
        for name, values in {"value": value, **extra}.items():
            record[name] = _texts_at(values, positions)
        self.records.append(pd.DataFrame(record, index=positions))


def _texts_at(values: object, positions: np.ndarray) -> list[str] | str:
    """Return the values at ``positions`` as message text (missing as empty text)."""
    if not isinstance(values, pd.Series):
        return str(values)
    selected = values.to_numpy(dtype=object)[positions]
    return ["" if pd.isna(item) else str(item) for item in selected]


def _check_arguments(raw: Mapping[str, RawTable], base_currency: object, max_reject_share: object) -> None:
    missing = [name for name in TABLE_ORDER if name not in raw]
    if missing:
        raise ValueError(f"raw is missing the tables {missing}. Pass one RawTable per table.")
    if not isinstance(base_currency, str) or not base_currency.strip():
        raise ParamsError("validation.invalid_base_currency", value=base_currency)
    _check_share(max_reject_share, "validation.max_reject_share")


def _check_share(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ParamsError("validation.invalid_share", name=name, value=value)
    return float(value)


# --- Parsing -------------------------------------------------------------------


def _normalise_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip surrounding spaces and turn the missing tokens into missing values."""
    text = {}
    for column in frame.columns:
        stripped = frame[column].str.strip()
        text[column] = stripped.mask(stripped.isin(MISSING_TOKENS))
    return pd.DataFrame(text, index=frame.index)


def _parse(text: pd.Series, kind: str) -> tuple[pd.Series, pd.Series | None]:
    """Parse one text column into ``kind``, returning the values and the invalid mask.

    Missing text gives a missing value and is never invalid. Text is always valid,
    so its mask is None.
    """
    if kind == "str":
        return text, None
    present = text.notna()
    if kind == "bool":
        values = text.str.lower().map(_BOOL_VALUES).astype("boolean")
        return values, present & values.isna()
    if kind == "date":
        well_formed = text.str.fullmatch(_DATE_PATTERN).astype(bool)
        values = pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")
        values = values.astype(_DATE_DTYPE)
        return values, present & values.isna()

    pattern = _INTEGER_PATTERN if kind == "int" else _NUMBER_PATTERN
    well_formed = text.str.fullmatch(pattern).astype(bool)
    values = pd.to_numeric(text.where(well_formed), errors="coerce").astype("float64")
    valid = np.isfinite(values)
    if kind == "int":
        valid &= values.abs() <= _MAX_INTEGER
        values = values.where(valid).astype("Int64")
    return values, present & ~valid


# --- Rules ---------------------------------------------------------------------


def _run_rules(work: _TableWork, context: _Context) -> None:
    _apply_field_rules(work)
    _TABLE_RULES.get(work.name, lambda work: None)(work)
    _apply_future_rule(work, context.as_of_limit)
    _apply_duplicate_rules(work)
    if "customer_id" in work.spec.columns and work.name != "customers":
        known = work.typed["customer_id"].isin(context.customer_currency.index)
        work.reject(~known, "unknown_customer", "customer_id")
    if work.name in _CONVERSIONS:
        _apply_currency_rules(work, context)
    if work.name == "invoices":
        _apply_credit_note_references(work)
    if work.name == "payments":
        _apply_payment_references(work, context.invoice_keys)


def _apply_field_rules(work: _TableWork) -> None:
    spec = work.spec
    for column in spec.key:
        work.reject(work.text[column].isna(), "missing_key", column)
    for column in spec.required:
        work.reject(work.text[column].isna(), "missing_value", column)
    typed = {}
    for column, kind in spec.columns.items():
        typed[column], invalid = _parse(work.text[column], kind)
        if invalid is not None:
            work.reject(invalid, _INVALID_CODES[kind], column)
    work.typed = pd.DataFrame(typed, index=work.index)


def _customer_rules(work: _TableWork) -> None:
    for column in ("payment_terms_days", "credit_limit"):
        work.reject(work.typed[column] < 0, "negative_value", column)


def _statement_rules(work: _TableWork) -> None:
    typed = work.typed
    work.reject(
        typed["published_on"] < typed["period_end"], "published_before_period_end",
        "published_on", period_end=work.text["period_end"],
    )


def _invoice_rules(work: _TableWork) -> None:
    typed = work.typed
    document_type = typed["document_type"]
    work.reject(
        document_type.notna() & ~document_type.isin(DOCUMENT_TYPES), "invalid_document_type",
        "document_type",
    )
    is_invoice = document_type.eq("invoice")
    is_credit_note = document_type.eq("credit_note")
    work.reject(is_invoice & (typed["amount"] < 0), "negative_invoice_amount", "amount")
    work.reject(is_credit_note & (typed["amount"] >= 0), "credit_note_not_negative", "amount")
    work.reject(
        is_credit_note & typed["reference_id"].isna(), "credit_note_without_reference", "reference_id"
    )
    work.reject(
        typed["due_on"] < typed["issued_on"], "due_before_issue", "due_on",
        issued_on=work.text["issued_on"],
    )


def _payment_rules(work: _TableWork) -> None:
    work.reject(work.typed["amount"] <= 0, "non_positive_payment", "amount")


def _credit_event_rules(work: _TableWork) -> None:
    event_type = work.typed["event_type"]
    work.reject(
        event_type.notna() & ~event_type.isin(CREDIT_EVENT_TYPES), "invalid_event_type", "event_type"
    )


def _fx_rate_rules(work: _TableWork) -> None:
    work.reject(work.typed["rate_to_base"] <= 0, "invalid_fx_rate", "rate_to_base")


_TABLE_RULES = {
    "customers": _customer_rules,
    "financial_statements": _statement_rules,
    "invoices": _invoice_rules,
    "payments": _payment_rules,
    "credit_events": _credit_event_rules,
    "fx_rates": _fx_rate_rules,
}


def _apply_future_rule(work: _TableWork, as_of_limit: pd.Timestamp | None) -> None:
    if as_of_limit is None:
        return
    column = work.spec.date_column
    work.reject(
        work.typed[column] > as_of_limit, "future_date", column,
        limit=as_of_limit.date().isoformat(),
    )


def _apply_duplicate_rules(work: _TableWork) -> None:
    """Drop exact copies, then quarantine every row of a key with differing content."""
    key = list(work.spec.key)
    key_column = ", ".join(key)
    key_text = work.text[key[0]].astype(object)
    for column in key[1:]:
        key_text = key_text + " / " + work.text[column].astype(object)

    open_rows = work.open_rows()
    candidates = work.typed.loc[open_rows, list(work.spec.columns)]
    copies = candidates.duplicated(keep="first").reindex(work.typed.index, fill_value=False)
    work.reject(copies, "exact_duplicate", key_column, value=key_text)

    remaining = work.typed.loc[work.open_rows(), key]
    conflict = remaining.duplicated(keep=False)
    sizes = remaining.assign(rows=1).groupby(key)["rows"].transform("size")
    work.reject(
        conflict.reindex(work.typed.index, fill_value=False), "duplicate_key_conflict",
        key_column, value=key_text, count=sizes.reindex(work.typed.index).astype("Int64"),
    )


def _apply_currency_rules(work: _TableWork, context: _Context) -> None:
    """Convert the open rows to the base currency and reject those without a rate."""
    amount_columns, date_column = _CONVERSIONS[work.name]
    open_rows = work.open_rows()
    frame = work.typed.loc[open_rows]
    if work.name == "credit_events":
        # Credit events have no currency column, so their amounts are in the customer's currency.
        currency_column = "customer_currency"
        frame = frame.assign(customer_currency=frame["customer_id"].map(context.customer_currency))
    else:
        currency_column = "currency"

    converted, problems = convert_to_base(
        frame, amount_columns=amount_columns, date_column=date_column,
        currency_column=currency_column, rates=context.rates, base_currency=context.base_currency,
    )
    dates = "" if date_column is None else work.text[date_column]
    currency = frame[currency_column].reindex(work.typed.index)
    # Credit events name the amount they cannot convert, other tables their currency.
    column = "amount" if work.name == "credit_events" else "currency"
    for code in (UNKNOWN_CURRENCY, NO_FX_RATE):
        failed = pd.Series(False, index=work.typed.index)
        failed[problems.index[problems["reason_code"] == code]] = True
        work.reject(
            failed, code, column, currency=currency, date=dates,
            base_currency=context.base_currency,
        )
    work.converted = converted.drop(columns=["customer_currency"], errors="ignore")


def _apply_credit_note_references(work: _TableWork) -> None:
    typed = work.typed
    open_rows = work.open_rows()
    invoices = typed[open_rows & typed["document_type"].eq("invoice")]
    invoice_keys = pd.MultiIndex.from_arrays([invoices["document_id"], invoices["customer_id"]])
    references = pd.MultiIndex.from_arrays([typed["reference_id"], typed["customer_id"]])
    found = pd.Series(references.isin(invoice_keys), index=typed.index)
    work.reject(
        typed["document_type"].eq("credit_note") & ~found, "unknown_reference", "reference_id",
        customer_id=work.text["customer_id"],
    )


def _apply_payment_references(work: _TableWork, invoice_keys: pd.MultiIndex) -> None:
    typed = work.typed
    documents = pd.MultiIndex.from_arrays([typed["document_id"], typed["customer_id"]])
    found = pd.Series(documents.isin(invoice_keys), index=typed.index)
    work.reject(
        typed["document_id"].notna() & ~found, "unknown_document", "document_id",
        customer_id=work.text["customer_id"],
    )


# --- Outputs -------------------------------------------------------------------


def _clean_frame(work: _TableWork) -> pd.DataFrame:
    """Return the accepted rows with contract dtypes, sorted by key."""
    open_rows = work.open_rows()
    source = work.typed if work.converted is None else work.converted
    frame = source.loc[open_rows[open_rows].index]

    columns = {}
    for name, kind in work.spec.columns.items():
        dtype = _PANDAS_DTYPES.get(kind)
        if kind == "int":
            dtype = "int64" if name in work.spec.required else "Int64"
        columns[name] = frame[name].astype(dtype)
    if work.name == "customers":
        # A missing lock flag means the limit is not locked.
        columns["limit_locked"] = columns["limit_locked"].fillna(False)
    if work.converted is not None:
        columns["original_currency"] = frame["original_currency"].astype("str")
        columns["fx_rate_to_base"] = frame["fx_rate_to_base"].astype("float64")

    clean = pd.DataFrame(columns, index=frame.index)
    return clean.sort_values(list(work.spec.key), kind="stable").reset_index(drop=True)


def _quarantine_frame(work: _TableWork) -> pd.DataFrame:
    """Return the rejected rows: source text, source position and reason."""
    records = _rejection_records(work)
    records = records[~records["reason_code"].isin(DROP_REASON_CODES)]
    rows = work.frame.loc[records.index]

    quarantine = rows.copy()
    quarantine["source_file"] = work.raw.source_file
    quarantine["source_row"] = pd.Series(
        work.raw.source_rows[records.index.to_numpy(dtype=np.int64)], index=records.index, dtype="int64"
    )
    quarantine["reason_code"] = records["reason_code"].astype("str")
    quarantine["column"] = records["column"].astype("str")
    quarantine["value"] = records["value"].astype("str")

    messages = records.assign(file=work.raw.source_file, row=quarantine["source_row"])
    rendered = messages.to_dict("records")
    quarantine["reason_en"] = pd.Series(
        [_render(record, "en") for record in rendered], index=records.index, dtype="str"
    )
    quarantine["reason_zh"] = pd.Series(
        [_render(record, "zh_CN") for record in rendered], index=records.index, dtype="str"
    )
    quarantine = quarantine.sort_values("source_row", kind="stable").reset_index(drop=True)
    return quarantine[[*work.spec.columns, *QUARANTINE_COLUMNS]]


def _rejection_records(work: _TableWork) -> pd.DataFrame:
    if not work.records:
        return pd.DataFrame(
            {"reason_code": pd.Series(dtype="str"), "column": pd.Series(dtype="str"),
             "value": pd.Series(dtype="str")},
            index=pd.Index([], dtype="int64"),
        )
    return pd.concat(work.records).sort_index(kind="stable")


def _render(record: dict[str, object], locale: str) -> str:
    return translate(f"validation.reason.{record['reason_code']}", locale, **record)


def _count(work: _TableWork, clean: pd.DataFrame) -> TableCounts:
    codes = pd.Series(work.code[~work.is_open], dtype=object).value_counts()
    dropped = {code: int(n) for code, n in codes.items() if code in DROP_REASON_CODES}
    quarantined = {code: int(n) for code, n in codes.items() if code not in DROP_REASON_CODES}
    return TableCounts(
        rows_in=len(work.frame), accepted=len(clean), dropped=dropped, quarantined=quarantined
    )


def _log_counts(name: str, counts: TableCounts) -> None:
    logger.info(
        "%s: %d rows in, %d accepted, %d dropped%s, %d quarantined%s",
        name, counts.rows_in, counts.accepted,
        counts.dropped_total, _reasons_text(counts.dropped),
        counts.quarantined_total, _reasons_text(counts.quarantined),
    )


def _reasons_text(by_reason: Mapping[str, int]) -> str:
    if not by_reason:
        return ""
    return " (" + ", ".join(f"{code} {n}" for code, n in sorted(by_reason.items())) + ")"


def _write_atomically(path: Path, write) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
