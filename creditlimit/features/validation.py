"""Validate the canonical tables into typed clean tables, a quarantine and row counts.

Every input row ends in exactly one of three places: the clean table (accepted),
the drop count (an exact copy of a kept row) or the quarantine (rejected). A
quarantined row keeps one reason code, the column and value at fault and a message
in en and zh_CN. So ``rows_in == accepted + dropped + quarantined`` holds for every
table, and :class:`TableCounts` checks it on construction.

Rules run in a fixed order, and a row gets the reason of the first rule it fails:

1. field rules: missing key, missing required value, text longer than 1,000
   characters, ids in scientific notation, value formats (ISO dates only, plain
   decimal numbers, whole numbers, booleans), dates before 1900, the table's own
   value rules, then dates after ``as_of_limit``;
2. duplicates among the rows still accepted: exact copies are dropped and counted,
   and rows that share a key with different content are all quarantined;
3. references: the customer must be accepted, because customers are validated
   before the tables that reference them. The currency must be the base currency
   or have a rate on or before the document date. Credit notes and payments must
   name an accepted invoice of the same customer, so invoices are validated before
   payments, and invoice rows before credit notes.

Values are first stripped of surrounding spaces, and the texts in
:data:`MISSING_TOKENS` count as missing. Full-width digits and signs (``１２３``)
in numbers, dates and booleans are read as their ASCII forms. Formats are never
guessed: ``3/1/2013`` is an invalid date and ``1,234.56`` an invalid number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from creditlimit.features.contract import TABLE_ORDER, TABLES, TableSpec
from creditlimit.features.loading import RawTable
from creditlimit.features.validation_messages import DROP_REASON_CODES, REASON_CODES
from creditlimit.features.validation_rules import _CONVERSIONS, _DATE_DTYPE, _run_rules
from creditlimit.i18n import translate

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

MISSING_TOKENS = frozenset({"", "NA", "NaN", "nan", "null", "NULL"})
"""Texts (after stripping surrounding spaces) that mean a value is missing."""

QUARANTINE_COLUMNS = (
    "source_file", "source_row", "reason_code", "column", "value", "reason_en", "reason_zh",
)
"""Columns added after the original row values in each quarantine table."""

_PANDAS_DTYPES = {"str": "str", "float": "float64", "bool": "boolean", "date": _DATE_DTYPE}
_ARROW_TYPES = {
    "str": pa.string(), "date": pa.date32(), "float": pa.float64(),
    "int": pa.int64(), "bool": pa.bool_(),
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
    inputs : dict of str to dict
        Per table, how its source was read: ``encoding`` (CSV only, else None),
        ``ignored_columns`` (the unknown columns left out), ``source`` (the file
        name, or the database and table) and ``sha256`` (of the file; None for a
        database table).
    """

    clean: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    counts: dict[str, TableCounts]
    base_currency: str
    inputs: dict[str, dict[str, object]] = field(default_factory=dict)

    def to_report(self) -> dict[str, object]:
        """Return the content of ``validation_report.json``."""
        return {
            "base_currency": self.base_currency,
            "tables": {
                name: {**counts.to_dict(), **self.inputs.get(name, {})}
                for name, counts in self.counts.items()
            },
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

    inputs = {
        name: {"encoding": raw[name].encoding, "ignored_columns": list(raw[name].extra_columns),
               **_source_record(raw[name].source_file)}
        for name in TABLE_ORDER
    }
    result = ValidationResult(
        clean=clean, quarantine=quarantine, counts=counts, base_currency=base_currency, inputs=inputs
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


def _source_record(source_file: str) -> dict[str, object]:
    """Name a table's source and hash it when it is a file, so lineage reaches the raw inputs."""
    path = Path(source_file)
    if not path.is_file():
        return {"source": source_file, "sha256": None}
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"source": path.name, "sha256": digest.hexdigest()}


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


# Values longer than this are cut in reason messages, but the quarantine row keeps the full text.
_MAX_MESSAGE_VALUE = 80


def _texts_at(values: object, positions: np.ndarray) -> list[str] | str:
    """Return the values at ``positions`` as message text (missing as empty text)."""
    if not isinstance(values, pd.Series):
        return _shorten(str(values))
    selected = values.to_numpy(dtype=object)[positions]
    return ["" if pd.isna(item) else _shorten(str(item)) for item in selected]


def _shorten(text: str) -> str:
    if len(text) <= _MAX_MESSAGE_VALUE:
        return text
    return text[:_MAX_MESSAGE_VALUE] + "…"


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
