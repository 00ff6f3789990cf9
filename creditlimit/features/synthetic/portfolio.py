"""Parameters, generation and summary of the synthetic sample portfolio."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from creditlimit.errors import ParamsError
from creditlimit.features.contract import TABLE_ORDER
from creditlimit.features.synthetic.documents import _draw_invoices, _settle_invoices
from creditlimit.features.synthetic.faults import (
    CSV_ONLY_FAULT_KINDS,
    FAULT_KINDS,
    _empty_ledger,
    _inject_faults,
)
from creditlimit.features.synthetic.frames import (
    _customers_frame,
    _document_width,
    _events_frame,
    _format_ids,
    _fx_frame,
    _invoices_frame,
    _payments_frame,
    _true_pd_frame,
)
from creditlimit.features.synthetic.latent import (
    _draw_customers,
    _draw_money,
    _draw_outcomes,
    _make_calendar,
    _to_date,
)
from creditlimit.features.synthetic.limits import _review_limits
from creditlimit.features.synthetic.statements import _statements_frame
from creditlimit.i18n import register

__all__ = ["SampleParams", "SamplePortfolio", "generate_portfolio", "sample_summary"]

logger = logging.getLogger(__name__)

register({
    "sample.not_a_mapping": {
        "en": "The 'sample' section of params.yaml must be a mapping of keys to values; "
              "got {value!r}. Write it as 'sample:' followed by indented 'key: value' lines.",
        "zh_CN": "params.yaml 中的“sample”部分必须是键值映射，实际为 {value!r}。"
                 "请写成“sample:”加缩进的“键: 值”行。",
    },
    "sample.missing_key": {
        "en": "The 'sample' section of params.yaml has no '{name}'. Add it; the section "
              "needs {required}.",
        "zh_CN": "params.yaml 的“sample”部分缺少“{name}”。请添加该项；此部分需要 {required}。",
    },
    "sample.unknown_key": {
        "en": "The 'sample' section of params.yaml has unknown keys {keys}. Remove them or "
              "correct their spelling; the known keys are {known}.",
        "zh_CN": "params.yaml 的“sample”部分含有未知的键 {keys}。请删除或改正拼写；"
                 "可用的键为 {known}。",
    },
    "sample.invalid_integer": {
        "en": "{name} must be a whole number from {minimum} to {maximum}; got {value!r}. "
              "Set {name} to a value in that range.",
        "zh_CN": "{name} 必须是 {minimum} 到 {maximum} 之间的整数，实际为 {value!r}。"
                 "请将 {name} 设为此范围内的值。",
    },
    "sample.invalid_start": {
        "en": "sample.start must be the first day of a month written as YYYY-MM-DD "
              "(for example 2022-01-01); got {value!r}. Correct sample.start.",
        "zh_CN": "sample.start 必须是某月的第一天，格式为 YYYY-MM-DD（例如 2022-01-01），"
                 "实际为 {value!r}。请改正 sample.start。",
    },
    "sample.invalid_base_currency": {
        "en": "data.base_currency must be a three-letter ISO 4217 code in capitals, "
              "such as CNY; got {value!r}. Correct data.base_currency.",
        "zh_CN": "data.base_currency 必须是三个大写字母的 ISO 4217 货币代码（如 CNY），"
                 "实际为 {value!r}。请改正 data.base_currency。",
    },
    "sample.invalid_dirty_share": {
        "en": "sample.dirty_share must be a number from 0 to {maximum}; got {value!r}. "
              "Set sample.dirty_share to 0 for a clean portfolio, or to a small share "
              "such as 0.002.",
        "zh_CN": "sample.dirty_share 必须是 0 到 {maximum} 之间的数字，实际为 {value!r}。"
                 "如需无错误的样本请设为 0，否则设为较小的比例，例如 0.002。",
    },
    "sample.invalid_file_format": {
        "en": "The sample file format must be 'parquet' or 'csv'; got {value!r}. "
              "Choose one of these formats.",
        "zh_CN": "样本文件格式必须为“parquet”或“csv”，实际为 {value!r}。请选择其中一种格式。",
    },
})

_MIN_CUSTOMERS, _MAX_CUSTOMERS = 10, 1_000_000
_MIN_MONTHS, _MAX_MONTHS = 12, 240
_MAX_SEED = 2**63 - 1
_MAX_DIRTY_SHARE = 0.05
# Parameters that from_mapping accepts but does not require.
_OPTIONAL_PARAMS = ("base_currency", "dirty_share")
# Random streams: one per part of the clean portfolio, then one for the faults.
_STREAM_COUNT = 9
_FAULT_STREAM = 8


@dataclass(frozen=True)
class SampleParams:
    """Validated parameters of the sample portfolio.

    Attributes
    ----------
    customers : int
        Number of customers, from 10 to 1,000,000.
    months : int
        Length of the history in months, from 12 to 240.
    seed : int
        Seed of the random generator, from 0 to 2**63 - 1.
    start : datetime.date
        First day of the history; must be the first day of a month.
    base_currency : str
        ISO 4217 code of the base currency (most customers use it).
    dirty_share : float
        Share of faulty rows added to the tables, from 0 to 0.05; see the package notes.
    """

    customers: int
    months: int
    seed: int
    start: datetime.date
    base_currency: str = "CNY"
    dirty_share: float = 0.0

    def __post_init__(self) -> None:
        _check_integer("sample.customers", self.customers, _MIN_CUSTOMERS, _MAX_CUSTOMERS)
        _check_integer("sample.months", self.months, _MIN_MONTHS, _MAX_MONTHS)
        _check_integer("sample.seed", self.seed, 0, _MAX_SEED)
        if (
            type(self.start) is not datetime.date
            or self.start.day != 1
            or not 1900 <= self.start.year <= 2200
        ):
            # The message shows a date as ISO text, as written in params.yaml.
            value = self.start
            if isinstance(value, datetime.date):
                value = value.isoformat()
            raise ParamsError("sample.invalid_start", value=value)
        currency = self.base_currency
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii()
                and currency.isalpha() and currency.isupper()):
            raise ParamsError("sample.invalid_base_currency", value=currency)
        share = self.dirty_share
        if (
            not isinstance(share, (int, float, np.integer, np.floating))
            or isinstance(share, (bool, np.bool_))
            or not 0.0 <= share <= _MAX_DIRTY_SHARE
        ):
            raise ParamsError("sample.invalid_dirty_share", maximum=_MAX_DIRTY_SHARE, value=share)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> SampleParams:
        """Validate the ``sample`` section of ``params.yaml`` into parameters.

        Parameters
        ----------
        mapping : mapping
            Keys ``customers``, ``months``, ``seed``, ``start`` (an ISO date text or
            a date) and optionally ``dirty_share`` and ``base_currency`` (the stage
            adds ``data.base_currency`` under this key).

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        if not isinstance(mapping, Mapping):
            raise ParamsError("sample.not_a_mapping", value=mapping)
        names = [f.name for f in fields(cls)]
        required = [f.name for f in fields(cls) if f.name not in _OPTIONAL_PARAMS]
        unknown = sorted(str(key) for key in mapping if key not in names)
        if unknown:
            raise ParamsError("sample.unknown_key", keys=unknown, known=names)
        for key in required:
            if key not in mapping:
                raise ParamsError("sample.missing_key", name=key, required=required)
        values = dict(mapping)
        values["start"] = _parse_start(values["start"])
        return cls(**values)


@dataclass(frozen=True)
class SamplePortfolio:
    """A generated portfolio: one DataFrame per canonical table plus the true PD.

    The table frames have exactly the contract columns (required and optional) in
    contract order. Dates are ``datetime64[us]`` columns, text columns use the
    pandas string dtype, booleans the nullable ``boolean`` dtype, amounts are
    float64 in the row's currency and missing values are NaN, NaT or NA.

    Attributes
    ----------
    customers, financial_statements, invoices, payments, credit_events, fx_rates : DataFrame
        The canonical tables, injected faulty rows included.
    true_pd : DataFrame
        Columns ``customer_id``, ``month``, ``pd_12m_true`` (in [0, 1]) and
        ``defaulted_by``; see the package notes.
    start, end : datetime.date
        First day of the history and the day after its last day.
    base_currency : str
        Base currency of the portfolio.
    seed : int
        Seed the portfolio was generated from.
    dirty_share : float
        Share of faulty rows requested.
    injected_faults : DataFrame
        One row per injected faulty row, with columns ``table``, ``row``, ``kind``
        and ``csv_only``. ``row`` is the row's position in the table frame, or for
        a CSV-only row the position before which it is written. ``kind`` is the
        validation reason code it triggers (see ``FAULT_KINDS`` and
        ``CSV_ONLY_FAULT_KINDS``).
    csv_only_rows : dict of str to DataFrame
        Faulty rows written only to CSV files, by table: the contract columns as
        text (missing as None) and ``before_row``, the row of the table frame
        before which the row is written.
    """

    customers: pd.DataFrame
    financial_statements: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame
    credit_events: pd.DataFrame
    fx_rates: pd.DataFrame
    true_pd: pd.DataFrame
    start: datetime.date
    end: datetime.date
    base_currency: str
    seed: int
    dirty_share: float = 0.0
    injected_faults: pd.DataFrame = field(default_factory=_empty_ledger)
    csv_only_rows: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The canonical tables by name, in load order."""
        return {name: getattr(self, name) for name in TABLE_ORDER}


def generate_portfolio(
    *,
    customers: int,
    months: int,
    seed: int,
    start: datetime.date,
    base_currency: str = "CNY",
    dirty_share: float = 0.0,
) -> SamplePortfolio:
    """Generate the synthetic sample portfolio described in the package notes.

    Parameters
    ----------
    customers : int
        Number of customers, from 10 to 1,000,000.
    months : int
        Length of the history in months, from 12 to 240.
    seed : int
        Seed; the same arguments give the same portfolio.
    start : datetime.date
        First day of the history, the first day of a month.
    base_currency : str, default "CNY"
        Base currency; about 10 % of customers trade in USD (CNY if the base is USD).
    dirty_share : float, default 0.0
        Share of faulty rows to add, from 0 to 0.05. The clean rows do not depend
        on it.

    Returns
    -------
    SamplePortfolio
        The six canonical tables and the true PD per customer-month.

    Raises
    ------
    ParamsError
        If an argument breaks its rule (see :class:`SampleParams`).
    """
    params = SampleParams(
        customers=customers, months=months, seed=seed, start=start,
        base_currency=base_currency, dirty_share=dirty_share,
    )
    began = time.perf_counter()
    tables, true_pd, end = _clean_tables(params)
    faults = _inject_faults(
        np.random.default_rng(_stream_seeds(seed)[_FAULT_STREAM]), tables, share=dirty_share
    )
    portfolio = SamplePortfolio(
        **faults.tables, true_pd=true_pd, start=start, end=end,
        base_currency=params.base_currency, seed=seed, dirty_share=dirty_share,
        injected_faults=faults.ledger, csv_only_rows=faults.csv_only_rows,
    )
    logger.info(
        "generated sample portfolio (seed %d): %d customers, %d months, %d invoice rows, "
        "%d payments, %d injected faulty rows in %.1f s",
        seed, customers, months, len(portfolio.invoices), len(portfolio.payments),
        len(faults.ledger), time.perf_counter() - began,
    )
    return portfolio


def _stream_seeds(seed: int) -> list[np.random.SeedSequence]:
    """Seed one random stream per part of the portfolio.

    A change in one part then leaves the random draws of the others as they were.
    """
    return np.random.SeedSequence(seed).spawn(_STREAM_COUNT)


def _clean_tables(
    params: SampleParams,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, datetime.date]:
    """Generate the canonical tables without faults, the true PD and the end of the history."""
    (rng_customers, rng_quality, rng_statements, rng_invoices, rng_payments, rng_events,
     rng_fx, rng_limits) = (
        np.random.default_rng(child) for child in _stream_seeds(params.seed)[:_FAULT_STREAM]
    )

    # Calendar, exchange rates and customers.
    calendar = _make_calendar(params.start, params.months)
    money = _draw_money(rng_fx, calendar, params.base_currency)
    traits = _draw_customers(rng_customers, params.customers, calendar)

    # Latent quality, hazards and defaults.
    outcomes = _draw_outcomes(rng_quality, traits, calendar)

    # Documents and the limits set at the last review.
    invoices = _draw_invoices(rng_invoices, traits, outcomes, calendar, money)
    settlement = _settle_invoices(rng_payments, invoices, outcomes, calendar)
    ids = _format_ids("C", np.arange(1, params.customers + 1), max(6, len(str(params.customers))))
    invoice_ids = _format_ids("INV", invoices.number, _document_width(invoices.number.size))
    statements = _statements_frame(rng_statements, ids, traits, outcomes, calendar, money)
    limit = _review_limits(
        rng_limits, traits, outcomes, invoices, settlement, calendar, money, statements
    )
    tables = {
        "customers": _customers_frame(rng_customers, ids, traits, calendar, money, limit),
        "financial_statements": statements,
        "invoices": _invoices_frame(ids, invoice_ids, invoices, settlement, traits, money),
        "payments": _payments_frame(ids, invoice_ids, invoices, settlement, traits, money),
        "credit_events": _events_frame(
            rng_events, ids, invoices, settlement, outcomes, calendar
        ),
        "fx_rates": _fx_frame(calendar, money),
    }
    true_pd = _true_pd_frame(ids, traits, outcomes, calendar)
    return tables, true_pd, _to_date(calendar.end_day)


def sample_summary(portfolio: SamplePortfolio) -> dict[str, int | float | str]:
    """Count rows, notable cases and injected faults of a portfolio, for a log line.

    Returns
    -------
    dict
        Row counts per table in load order come first, injected faulty rows
        included. Then follow the counts of credit notes, disputed invoices,
        foreign-currency customers, thin-file customers (no statements and fewer
        than 3 invoices), defaulted customers, locked limits, groups and true-PD
        rows, all without the injected rows. The mean true PD is rounded to 4
        decimals, and ``start`` and ``end`` are ISO dates. Last come the injected
        rows per kind over all tables, ``injected_<kind>`` for each of
        ``FAULT_KINDS`` and ``injected_<kind>_csv_only`` for each of
        ``CSV_ONLY_FAULT_KINDS`` (rows written to CSV files only).
    """
    tables = _tables_without_faults(portfolio)
    invoices = tables["invoices"]
    is_invoice = invoices["document_type"] == "invoice"
    customers = tables["customers"]["customer_id"]
    invoice_counts = invoices.loc[is_invoice, "customer_id"].value_counts()
    has_statements = customers.isin(tables["financial_statements"]["customer_id"])
    few_invoices = customers.map(invoice_counts).fillna(0) < 3
    events = tables["credit_events"]
    defaulted = events.loc[events["event_type"] == "default", "customer_id"]

    summary: dict[str, int | float | str] = {
        name: len(frame) for name, frame in portfolio.tables.items()
    }
    summary.update({
        "credit_notes": int((~is_invoice).sum()),
        "disputed_invoices": int(invoices.loc[is_invoice, "disputed"].sum()),
        "foreign_currency_customers": int(
            (tables["customers"]["currency"] != portfolio.base_currency).sum()
        ),
        "thin_file_customers": int((~has_statements & few_invoices).sum()),
        "defaulted_customers": int(defaulted.nunique()),
        "locked_limits": int(tables["customers"]["limit_locked"].fillna(False).sum()),
        "groups": int(tables["customers"]["group_id"].nunique()),
        "true_pd_rows": len(portfolio.true_pd),
        "mean_true_pd": round(float(portfolio.true_pd["pd_12m_true"].mean()), 4),
        "start": portfolio.start.isoformat(),
        "end": portfolio.end.isoformat(),
    })
    summary.update(_fault_counts(portfolio.injected_faults))
    return summary


def _tables_without_faults(portfolio: SamplePortfolio) -> dict[str, pd.DataFrame]:
    ledger = portfolio.injected_faults
    in_table = ledger[~ledger["csv_only"]]
    tables = {}
    for name, frame in portfolio.tables.items():
        rows = in_table.loc[in_table["table"] == name, "row"].to_numpy()
        keep = np.ones(len(frame), dtype=bool)
        keep[rows] = False
        tables[name] = frame[keep]
    return tables


def _fault_counts(ledger: pd.DataFrame) -> dict[str, int]:
    counts = ledger.groupby(["kind", "csv_only"]).size()
    summary = {f"injected_{kind}": int(counts.get((kind, False), 0)) for kind in FAULT_KINDS}
    for kind in CSV_ONLY_FAULT_KINDS:
        summary[f"injected_{kind}_csv_only"] = int(counts.get((kind, True), 0))
    return summary


# ---------------------------------------------------------------------------
# Parameter checks


def _check_integer(name: str, value: object, minimum: int, maximum: int) -> None:
    # bool is a subclass of int but True is not a customer count.
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, (bool, np.bool_))
        or not minimum <= value <= maximum
    ):
        raise ParamsError(
            "sample.invalid_integer", name=name, minimum=f"{minimum:,}",
            maximum=f"{maximum:,}", value=value,
        )


def _parse_start(value: object) -> object:
    """Turn an ISO date text into a date, leaving other values to the dataclass check."""
    if isinstance(value, str):
        try:
            parsed = datetime.date.fromisoformat(value)
        except ValueError:
            raise ParamsError("sample.invalid_start", value=value) from None
        # fromisoformat also accepts compact forms such as 20220101.
        if value != parsed.isoformat():
            raise ParamsError("sample.invalid_start", value=value)
        return parsed
    return value

