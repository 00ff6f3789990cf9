"""Generate a deterministic synthetic trade-credit portfolio with its true PD.

Notes
-----
The generator builds the six canonical tables of the data contract for a
portfolio of business customers over ``months`` calendar months starting at
``start`` (the first day of a month). The history ends at the start of month
``start + months``: that day is the scoring date and no record is dated on or
after it. Onboarding dates reach back up to 60 months before ``start`` and the
earliest financial statements are for fiscal year ``start.year - 2``, so every
record date lies in ``[start - 60 months, start + months)``. Invoices,
payments and credit events start at ``start``. Two dates are not record dates
and may lie after the end: an invoice's ``due_on`` and a temporary limit's
``limit_valid_to``. The same arguments always give the same tables.

**Customers.** Each customer gets an industry (manufacturing, wholesale,
retail, construction, services, agriculture or technology), a size class
(small, medium, large) and a region (a Chinese province in pinyin, about 1 %
missing). Payment terms are 30, 45, 60 or 90 days, longer for larger
customers. Most customers trade in the base currency and about 10 % in USD
(in CNY when the base currency is USD). About 40 % were onboarded before ``start`` and the
rest are onboarded evenly over the history. There is one group per 100
customers (at least one), each with 3 to 6 members sharing ``group_id``. The
current ``credit_limit`` is need-based: monthly purchase volume times
``(terms + 30) / 30`` times a factor in [0.8, 1.6], rounded up to 1,000 in the
customer's currency. It is missing for 60 % of the customers onboarded in the
last 90 days. ``limit_locked`` is True for about 2 % and missing for about
3 %, and about 3 % hold a temporary limit with a ``limit_valid_to`` date.

**Latent credit quality.** Each customer has a latent quality ``z`` (higher is
better). At ``start``, ``z ~ N(0, 1)``, and group members share a group factor
(``z = 0.6 g + 0.8 e``). Quality drifts as a slow random walk with mean
reversion, ``z_t = rho z_{t-1} + sqrt(1 - rho^2) e_t`` with ``rho = 0.99``, so
the cross-section stays ``N(0, 1)`` while each customer's path wanders.
Because defaults come from low ``z``, behaviour worsens before a default.

**Default hazard.** The monthly default hazard is

    h(t) = sigmoid(a_0 + a_industry + b z_t + s_industry d(t))

with ``a_0 = -6.5`` and ``b = -1.8`` (negative because a higher quality means
a lower hazard). The industry offsets ``a_industry`` range from -0.2
(services) to +0.55 (construction). The downturn ``d(t)`` is zero until the
last 12 months of the history, then ramps linearly over 6 months to +0.8 on
the logit scale, scaled by an industry sensitivity ``s_industry`` from 0.7 to
1.5. A customer can default from its first full month after onboarding (from
``start`` for customers onboarded earlier), on a day drawn uniformly within
the month. The downturn also raises payment stress, so the last year of the
history drifts away from the years before it.

**Default and its consequences.** A defaulting customer stops paying. Every
invoice issued in a distress window before the default (75 to 180 days, drawn
per customer) stays unpaid, and no payment is dated on or after the default day, so invoices reach 90+ days past
due. A ``default`` credit event is written on the default day with the open
amount. Of the defaults, 40 % are followed by a ``write_off`` 60 to 270 days
later (60-100 % of the open amount) and 20 % by a ``bankruptcy`` 30 to 360 days
later (no amount). 30 % bring a ``legal_action`` 15 to 120 days later.
After a default the customer receives no invoices and publishes no
statements. Customers not in default get ``legal_action`` events with monthly
probability ``0.3 h(t)`` and ``restructuring`` events with ``0.15 h(t)``, so
these events mark stress without being defaults. Event amounts are in the
customer's currency. With the ``params.yaml`` defaults (3,000 customers, 48
months, seed 20261204) about 7 % of the customer-month snapshots with a
complete 12-month window are bad under the ``params.yaml`` default definition
(an invoice 90+ days past due with at least 100 open, or a default, write-off
or bankruptcy event). The constants were tuned so that the LightGBM model of
the training stage reaches an out-of-time AUC of about 0.77-0.81 at that size
(three seeds, measured while the generator was developed). The training stage
reports the actual value.

**Financial statements.** Yearly statements with ``period_end`` on
December 31 are published 60 to 180 days later, in the customer's currency
and rounded to whole units. They cover the fiscal years from two years before
onboarding, but not before ``start.year - 2``. The statement quality ``q`` is
``z`` in the month of the period end (before ``start``, a backcast of the same
random walk) plus noise ``N(0, 0.3^2)``. Ratios are noisy functions of ``q``
and the industry: debt to assets ``min(0.5 exp(-0.28 q + N(0, 0.2^2)), 2.5)``
(above 1, so negative equity, in about 2 % of statements), current ratio
``exp(ln 1.35 + 0.18 q + N(0, 0.25^2))``, net margin ``industry margin + 0.03
q + N(0, 0.03^2)``, gross margin, asset turnover by industry, interest at 3-7
% on 30-80 % of the liabilities, and operating cash flow ``net profit + 0.04 total assets + 0.04
revenue (0.5 q + N(0, 1))``. Revenue grows 5 % a year, moves with ``0.08 q``
and falls with the downturn. The accounts are consistent: ``equity =
total_assets - total_liabilities``, ``current_assets <= total_assets``,
``current_liabilities <= total_liabilities`` and ``cash + inventory +
receivables <= current_assets``. Some values are missing: interest expense
(30 % of small firms, 15 % of others), operating profit (10 %), cost of sales
(8 %), cash, inventory and receivables (18 % of small firms, 8 % of others,
each) and audited (10 %). A few denominators are zero: current liabilities in
about 0.4 % of statements, revenue in about 0.3 %, and interest expense for
half of the firms with debt to assets below 0.3. About 8 % of customers stop
sending statements after onboarding (stale financials), 4 % of the later
statements are skipped, and about 5 % of customers are thin-file: no
statements at all and at most 2 invoices.

**Invoices and payments.** Invoice counts per customer-month are Poisson with
a mean of 2, 4 or 8 (small, medium, large) times a seasonal factor (February
0.7, December 1.15) times ``exp(0.15 z_t)``. An invoice's amount is the
customer's monthly volume (1-4 % of annual revenue / 12) divided by that mean,
times a log-normal factor (sigma 0.5) and at least 200 in the base currency,
converted to the customer's currency at the month's rate and rounded to
cents. ``due_on = issued_on + payment_terms_days``. Payment behaviour depends
on the stress ``-z_t + 0.6 s_industry d(t) + 1.0 r`` and a customer habit
``u ~ N(0, 0.3^2)``, where ``r`` rises linearly from 0 to 1 over the 365 days
before a default (0 for customers that do not default). An invoice is paid
late with probability ``sigmoid(-1.5 + 1.1 stress + u)``, then ``ceil(exp(ln
7 + 0.55 stress + 0.5 u + N(0, 0.6^2)))`` days after ``due_on`` (at most 720),
and otherwise 0 to 9 days early. Invoices are disputed with probability
``sigmoid(-3.3 + 0.5 stress)`` (about 4 %), and disputed invoices are paid 15
to 60 days later. About 8 % of settled invoices are paid in two parts, the
first 7 to 35 days before the final payment. About 3 % of invoices (20 % of
the disputed ones) get a credit note: a ``credit_note`` document dated after
the invoice and before its first payment, with ``reference_id`` naming the
invoice and a negative amount of 5-60 % of the invoice (15 % of credit notes
cancel the invoice). A credit note carries its invoice's ``due_on``.
Payments settle the invoice amount net of its credit note. Payments dated on
or after the end of the history are not written, so those invoices stay
open. Document ids are ``INV`` (invoices), ``CRN`` (credit notes) and ``PAY``
(payments) followed by a chronological number.

**Exchange rates.** ``fx_rates`` holds the USD rate to the base currency at
every month start from 60 months before ``start`` to the last month of the
history: a mean-reverting walk around 7.15 CNY per USD, clipped to [7.0, 7.3]
(the CNY rate ``1 / rate`` when the base currency is USD). Amounts are sized
in CNY-like units whatever the base currency.

**True PD.** ``true_pd`` has one row per customer and month start at which
the customer was onboarded before that day and has no default before it. Its
``pd_12m_true = 1 - prod_{k=0..11} (1 - E[h(t+k) | z_t])`` integrates the
conditional normal distribution of ``z_{t+k}`` given ``z_t`` with 5-point
Gauss-Hermite quadrature. After the end of the history the downturn stays at
its last level. Taking the expected hazard month by month ignores the
correlation of the hazards within the window, so ``pd_12m_true`` is the
probability of a ``default`` event under that approximation. It does not
count invoices 90+ days past due without a default, so it is lower than the
observed bad rate. ``defaulted_by`` is the customer's default date, or
missing. The table is written under ``_truth/`` and is never a model input.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from creditlimit.errors import ParamsError
from creditlimit.features.contract import DOCUMENT_TYPES, TABLE_ORDER, TABLES
from creditlimit.i18n import register

__all__ = [
    "INDUSTRIES",
    "SIZE_CLASSES",
    "REGIONS",
    "TRUE_PD_COLUMNS",
    "SampleParams",
    "SamplePortfolio",
    "generate_portfolio",
    "write_portfolio",
    "sample_summary",
]

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
    "sample.invalid_file_format": {
        "en": "The sample file format must be 'parquet' or 'csv'; got {value!r}. "
              "Choose one of these formats.",
        "zh_CN": "样本文件格式必须为“parquet”或“csv”，实际为 {value!r}。请选择其中一种格式。",
    },
})

INDUSTRIES = (
    "manufacturing", "wholesale", "retail", "construction", "services", "agriculture",
    "technology",
)
SIZE_CLASSES = ("small", "medium", "large")
REGIONS = (
    "Guangdong", "Zhejiang", "Jiangsu", "Shandong", "Sichuan", "Henan", "Hubei", "Fujian",
    "Shanghai", "Beijing",
)
# Columns of the true-PD table with their kinds, as in the data contract.
TRUE_PD_COLUMNS: dict[str, str] = {
    "customer_id": "str", "month": "date", "pd_12m_true": "float", "defaulted_by": "date",
}

# Per-industry profile, in the order of INDUSTRIES: population weight, hazard
# offset a_industry (logit), downturn sensitivity s_industry, asset turnover
# (revenue / total assets), mean net margin, mean gross margin and the weight of
# inventory within current assets.
_INDUSTRY_WEIGHT = np.array([0.24, 0.18, 0.14, 0.12, 0.16, 0.06, 0.10])
_INDUSTRY_HAZARD_OFFSET = np.array([0.00, 0.05, 0.30, 0.55, -0.20, 0.25, -0.10])
_INDUSTRY_DOWNTURN_SENSITIVITY = np.array([1.0, 1.0, 1.2, 1.5, 0.8, 0.7, 0.9])
_INDUSTRY_ASSET_TURNOVER = np.array([0.9, 1.8, 2.0, 0.8, 1.1, 0.7, 0.8])
_INDUSTRY_NET_MARGIN = np.array([0.050, 0.025, 0.030, 0.035, 0.060, 0.040, 0.080])
_INDUSTRY_GROSS_MARGIN = np.array([0.22, 0.12, 0.25, 0.15, 0.35, 0.18, 0.45])
_INDUSTRY_INVENTORY_WEIGHT = np.array([2.0, 2.5, 3.0, 1.0, 0.3, 2.0, 0.8])
_INDUSTRY_NAME_NOUN = (
    "Machinery", "Trading", "Retail", "Construction", "Services", "Agriculture", "Technology",
)

# Per size class, in the order of SIZE_CLASSES.
_SIZE_WEIGHT = np.array([0.55, 0.32, 0.13])
_SIZE_MEDIAN_REVENUE = np.array([1.2e7, 1.2e8, 1.0e9])
_SIZE_INVOICES_PER_MONTH = np.array([2.0, 4.0, 8.0])
_SIZE_AUDITED_SHARE = np.array([0.2, 0.6, 0.9])
_PAYMENT_TERMS = np.array([30, 45, 60, 90])
_SIZE_TERMS_WEIGHT = np.array([
    [0.45, 0.30, 0.20, 0.05],
    [0.25, 0.35, 0.30, 0.10],
    [0.10, 0.30, 0.40, 0.20],
])
_REGION_WEIGHT = np.array([0.20, 0.16, 0.15, 0.11, 0.08, 0.07, 0.06, 0.07, 0.05, 0.05])
# Invoicing by calendar month: Spring Festival dip in February, year-end peak.
_SEASON = np.array([1.0, 0.7, 1.05, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.05, 1.05, 1.15])
_NAME_HEADS = (
    "Hua", "Xin", "Jin", "Tai", "Hong", "Long", "Feng", "Sheng", "Da", "Heng", "Rui", "Yong",
    "Kang", "Ming", "Tian", "Zhong", "Bao", "Fu", "Guang", "Cheng",
)
_NAME_TAILS = (
    "xin", "da", "tai", "feng", "yuan", "sheng", "hua", "long", "tong", "an", "kang", "rui",
    "cheng", "li", "jia",
)

_PREHISTORY_MONTHS = 60
# Latent quality and hazard, with the formulas in the module notes. The values
# were tuned so that about 7 % of customer-month snapshots are bad and a
# LightGBM model on the catalog features reaches an out-of-time AUC near 0.8.
_QUALITY_RHO = 0.99
_HAZARD_INTERCEPT = -6.5
_HAZARD_SLOPE = -1.8
_DOWNTURN_MONTHS = 12
_DOWNTURN_RAMP_MONTHS = 6
_DOWNTURN_LOGIT = 0.8
_STATEMENT_NOISE = 0.3
_LEVERAGE_NOISE = 0.2
# Payment behaviour: weight of the downturn in payment stress, the slope of the
# late-payment probability, the spread of customer habits and the extra stress
# in the year before a default.
_PAYMENT_DOWNTURN_WEIGHT = 0.6
_LATE_SLOPE = 1.1
_HABIT_SD = 0.3
_PRE_DEFAULT_STRESS = 1.0
_PD_HORIZON_MONTHS = 12
# Gauss-Hermite nodes for the expected hazard. The spread of z over 11 months is
# at most 0.44, and there 5 nodes differ from 21 nodes by less than 1e-5 in PD.
_QUADRATURE_NODES = 5
_FOREIGN_SHARE = 0.10
_THIN_FILE_SHARE = 0.05
_FX_CENTER = 7.15
_FX_BOUNDS = (7.0, 7.3)
_NO_DAY = np.iinfo(np.int64).max // 2  # "never": later than any real day number
# "00" .. "99" as 2-byte ASCII codes, indexed by the number.
_DIGIT_PAIRS = np.frombuffer(
    "".join(f"{number:02d}" for number in range(100)).encode("ascii"), dtype=np.uint16
)

_MIN_CUSTOMERS, _MAX_CUSTOMERS = 10, 1_000_000
_MIN_MONTHS, _MAX_MONTHS = 12, 240
_MAX_SEED = 2**63 - 1


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
    """

    customers: int
    months: int
    seed: int
    start: datetime.date
    base_currency: str = "CNY"

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

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> SampleParams:
        """Validate the ``sample`` section of ``params.yaml`` into parameters.

        Parameters
        ----------
        mapping : mapping
            Keys ``customers``, ``months``, ``seed``, ``start`` (an ISO date text or
            a date) and optionally ``base_currency`` (the stage adds
            ``data.base_currency`` under this key).

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value breaks its rule.
        """
        if not isinstance(mapping, Mapping):
            raise ParamsError("sample.not_a_mapping", value=mapping)
        names = [f.name for f in fields(cls)]
        required = [f.name for f in fields(cls) if f.name != "base_currency"]
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
        The canonical tables.
    true_pd : DataFrame
        Columns ``customer_id``, ``month``, ``pd_12m_true`` (in [0, 1]) and
        ``defaulted_by``; see the module notes.
    start, end : datetime.date
        First day of the history and the day after its last day.
    base_currency : str
        Base currency of the portfolio.
    seed : int
        Seed the portfolio was generated from.
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

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The canonical tables by name, in load order."""
        return {name: getattr(self, name) for name in TABLE_ORDER}


@dataclass(frozen=True)
class _Calendar:
    """Month grid of the history, with days as integers counted from 1970-01-01."""

    months: int
    month_start: np.ndarray  # start day of relative months -prehistory .. months

    def start_of(self, month: np.ndarray | int) -> np.ndarray:
        return self.month_start[np.asarray(month) + _PREHISTORY_MONTHS]

    @property
    def start_day(self) -> int:
        return int(self.start_of(0))

    @property
    def end_day(self) -> int:
        return int(self.start_of(self.months))

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Relative month index (0 = the start month) of each day."""
        month = np.searchsorted(self.month_start, days, side="right") - 1
        return month - _PREHISTORY_MONTHS

    def calendar_month(self, month: np.ndarray) -> np.ndarray:
        """Calendar month 1-12 of relative months."""
        first = _to_datetime64(self.start_of(month)).astype("datetime64[M]")
        return first.astype(np.int64) % 12 + 1


@dataclass(frozen=True)
class _Customers:
    """Customer-level attributes and latent traits, one array entry per customer."""

    industry: np.ndarray
    size: np.ndarray
    region: np.ndarray  # index into REGIONS, -1 when missing
    foreign: np.ndarray
    onboard_day: np.ndarray
    terms: np.ndarray
    group: np.ndarray  # group number, -1 when none
    z_start: np.ndarray
    habit: np.ndarray
    revenue: np.ndarray  # annual revenue at start, base currency
    volume: np.ndarray  # monthly purchase volume, base currency
    thin: np.ndarray
    thin_invoice_cap: np.ndarray
    stops_statements: np.ndarray


@dataclass(frozen=True)
class _Outcomes:
    """Quality paths, hazards and defaults."""

    quality: np.ndarray  # z, shape (customers, months)
    downturn: np.ndarray  # s_industry d(t), shape (customers, months)
    hazard_base: np.ndarray  # a_0 + a_industry per customer
    hazard: np.ndarray  # h(t), shape (customers, months)
    first_hazard_month: np.ndarray
    default_month: np.ndarray  # -1 when no default
    default_day: np.ndarray  # _NO_DAY when no default
    distress_days: np.ndarray


def generate_portfolio(
    *,
    customers: int,
    months: int,
    seed: int,
    start: datetime.date,
    base_currency: str = "CNY",
) -> SamplePortfolio:
    """Generate the synthetic sample portfolio described in the module notes.

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
        base_currency=base_currency,
    )
    began = time.perf_counter()
    # One independent stream per part, so a change in one part leaves the
    # random draws of the others as they were.
    children = np.random.SeedSequence(seed).spawn(7)
    (rng_customers, rng_quality, rng_statements, rng_invoices, rng_payments, rng_events,
     rng_fx) = (np.random.default_rng(child) for child in children)

    # Calendar, exchange rates and customers.
    calendar = _make_calendar(start, months)
    money = _draw_money(rng_fx, calendar, params.base_currency)
    traits = _draw_customers(rng_customers, customers, calendar)

    # Latent quality, hazards and defaults.
    outcomes = _draw_outcomes(rng_quality, traits, calendar)

    # Documents.
    invoices = _draw_invoices(rng_invoices, traits, outcomes, calendar, money)
    settlement = _settle_invoices(rng_payments, invoices, outcomes, calendar)
    ids = _format_ids("C", np.arange(1, customers + 1), max(6, len(str(customers))))
    invoice_ids = _format_ids("INV", invoices.number, _document_width(invoices.number.size))
    portfolio = SamplePortfolio(
        customers=_customers_frame(rng_customers, ids, traits, calendar, money),
        financial_statements=_statements_frame(
            rng_statements, ids, traits, outcomes, calendar, money
        ),
        invoices=_invoices_frame(ids, invoice_ids, invoices, settlement, traits, money),
        payments=_payments_frame(ids, invoice_ids, invoices, settlement, traits, money),
        credit_events=_events_frame(
            rng_events, ids, invoices, settlement, outcomes, calendar
        ),
        fx_rates=_fx_frame(calendar, money),
        true_pd=_true_pd_frame(ids, traits, outcomes, calendar),
        start=start,
        end=_to_date(calendar.end_day),
        base_currency=params.base_currency,
        seed=seed,
    )
    logger.info(
        "generated sample portfolio (seed %d): %d customers, %d months, %d invoice rows, "
        "%d payments in %.1f s",
        seed, customers, months, len(portfolio.invoices), len(portfolio.payments),
        time.perf_counter() - began,
    )
    return portfolio


def write_portfolio(
    portfolio: SamplePortfolio, out_dir: Path, *, file_format: str = "parquet"
) -> dict[str, int]:
    """Write every canonical table and ``_truth/true_pd.parquet`` to ``out_dir``.

    Tables go to ``<table>.parquet`` or ``<table>.csv`` with a fixed Arrow schema
    taken from the data contract (dates as ``date32``, ids as text, no index), in
    the portfolio's row order, so the same portfolio gives the same bytes. A file
    of the same table in the other format is removed, so the folder contains one
    file per table. The true PD is always Parquet. Each file is written under a
    temporary name and then renamed.

    Parameters
    ----------
    portfolio : SamplePortfolio
        The portfolio to write.
    out_dir : Path
        Output folder, created when missing.
    file_format : {"parquet", "csv"}, default "parquet"
        Format of the canonical tables.

    Returns
    -------
    dict of str to int
        Rows written per table, in load order, plus ``true_pd``.

    Raises
    ------
    ParamsError
        If ``file_format`` is neither ``parquet`` nor ``csv``.
    """
    if file_format not in ("parquet", "csv"):
        raise ParamsError("sample.invalid_file_format", value=file_format)
    out_dir = Path(out_dir)
    (out_dir / "_truth").mkdir(parents=True, exist_ok=True)
    other = "csv" if file_format == "parquet" else "parquet"
    counts: dict[str, int] = {}
    for name, frame in portfolio.tables.items():
        stale = out_dir / f"{name}.{other}"
        if stale.exists():
            logger.warning("removing %s so that %s has one file per table", stale, out_dir)
            stale.unlink()
        table = _arrow_table(frame, TABLES[name].columns)
        _write_table(table, out_dir / f"{name}.{file_format}", file_format)
        counts[name] = table.num_rows
    truth = _arrow_table(portfolio.true_pd, TRUE_PD_COLUMNS)
    _write_table(truth, out_dir / "_truth" / "true_pd.parquet", "parquet")
    counts["true_pd"] = truth.num_rows
    logger.info("wrote sample portfolio to %s as %s: %s", out_dir, file_format, counts)
    return counts


def sample_summary(portfolio: SamplePortfolio) -> dict[str, int | float | str]:
    """Count rows and notable cases of a portfolio, for a log line.

    Returns
    -------
    dict
        Row counts per table in load order come first. Then follow the counts of
        credit notes, disputed invoices, foreign-currency customers, thin-file
        customers (no statements and fewer than 3 invoices), defaulted
        customers, locked limits, groups and true-PD rows. The mean true PD is
        rounded to 4 decimals, and ``start`` and ``end`` are ISO dates.
    """
    invoices = portfolio.invoices
    is_invoice = invoices["document_type"] == "invoice"
    customers = portfolio.customers["customer_id"]
    invoice_counts = invoices.loc[is_invoice, "customer_id"].value_counts()
    has_statements = customers.isin(portfolio.financial_statements["customer_id"])
    few_invoices = customers.map(invoice_counts).fillna(0) < 3
    events = portfolio.credit_events
    defaulted = events.loc[events["event_type"] == "default", "customer_id"]

    summary: dict[str, int | float | str] = {
        name: len(frame) for name, frame in portfolio.tables.items()
    }
    summary.update({
        "credit_notes": int((~is_invoice).sum()),
        "disputed_invoices": int(invoices.loc[is_invoice, "disputed"].sum()),
        "foreign_currency_customers": int(
            (portfolio.customers["currency"] != portfolio.base_currency).sum()
        ),
        "thin_file_customers": int((~has_statements & few_invoices).sum()),
        "defaulted_customers": int(defaulted.nunique()),
        "locked_limits": int(portfolio.customers["limit_locked"].fillna(False).sum()),
        "groups": int(portfolio.customers["group_id"].nunique()),
        "true_pd_rows": len(portfolio.true_pd),
        "mean_true_pd": round(float(portfolio.true_pd["pd_12m_true"].mean()), 4),
        "start": portfolio.start.isoformat(),
        "end": portfolio.end.isoformat(),
    })
    return summary


# ---------------------------------------------------------------------------
# Parameters and calendar


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


def _make_calendar(start: datetime.date, months: int) -> _Calendar:
    first = np.datetime64(start, "M")
    relative = np.arange(-_PREHISTORY_MONTHS, months + 1)
    month_start = (first + relative).astype("datetime64[D]").astype(np.int64)
    return _Calendar(months=months, month_start=month_start)


def _to_datetime64(days: np.ndarray | int) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")


def _to_date(day: int) -> datetime.date:
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=int(day))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result = np.exp(-x)
    result += 1.0
    return np.reciprocal(result, out=result)


def _uniform_int(rng: np.random.Generator, low: int, high: int, size: int) -> np.ndarray:
    """Draw integers in [low, high], both ends included."""
    return rng.integers(low, high + 1, size=size)


# ---------------------------------------------------------------------------
# Latent state


@dataclass(frozen=True)
class _Money:
    """Base and foreign currency with the foreign currency's monthly rate to base."""

    base: str
    foreign: str
    rate_to_base: np.ndarray  # per month start, prehistory to the last month

    def rate_at(self, calendar: _Calendar, days: np.ndarray) -> np.ndarray:
        """Rate in force on each day: the rate of the day's month start."""
        index = calendar.month_of(days) + _PREHISTORY_MONTHS
        return self.rate_to_base[np.clip(index, 0, self.rate_to_base.size - 1)]


def _draw_money(rng: np.random.Generator, calendar: _Calendar, base: str) -> _Money:
    """Draw CNY per USD as a clipped mean-reverting walk around 7.15."""
    count = _PREHISTORY_MONTHS + calendar.months
    deviation = np.zeros(count)
    shocks = rng.normal(0.0, 0.006, size=count)
    for month in range(1, count):
        deviation[month] = 0.9 * deviation[month - 1] + shocks[month]
    cny_per_usd = np.round(np.clip(_FX_CENTER * np.exp(deviation), *_FX_BOUNDS), 4)
    if base == "USD":
        return _Money(base=base, foreign="CNY", rate_to_base=np.round(1.0 / cny_per_usd, 6))
    return _Money(base=base, foreign="USD", rate_to_base=cny_per_usd)


def _draw_customers(rng: np.random.Generator, count: int, calendar: _Calendar) -> _Customers:
    industry = rng.choice(len(INDUSTRIES), size=count, p=_INDUSTRY_WEIGHT)
    size = rng.choice(len(SIZE_CLASSES), size=count, p=_SIZE_WEIGHT)
    region = rng.choice(len(REGIONS), size=count, p=_REGION_WEIGHT)
    region = np.where(rng.random(count) < 0.01, -1, region)
    foreign = rng.random(count) < _FOREIGN_SHARE

    # Onboarding: 40 % within the prehistory, the rest evenly over the history.
    earliest = int(calendar.start_of(-_PREHISTORY_MONTHS))
    before = rng.integers(earliest, calendar.start_day, size=count)
    during = rng.integers(calendar.start_day, calendar.end_day, size=count)
    onboard_day = np.where(rng.random(count) < 0.4, before, during)

    cumulative = _SIZE_TERMS_WEIGHT[size].cumsum(axis=1)
    terms = _PAYMENT_TERMS[(rng.random(count)[:, None] > cumulative).sum(axis=1)]

    group = _draw_groups(rng, count)
    group_factor = rng.normal(size=max(int(group.max()) + 1, 1))
    own = rng.normal(size=count)
    z_start = np.where(group >= 0, 0.6 * group_factor[np.maximum(group, 0)] + 0.8 * own, own)

    revenue = _SIZE_MEDIAN_REVENUE[size] * np.exp(rng.normal(0.0, 0.6, size=count))
    volume = revenue * rng.uniform(0.01, 0.04, size=count) / 12.0
    thin = rng.random(count) < _THIN_FILE_SHARE
    return _Customers(
        industry=industry, size=size, region=region, foreign=foreign,
        onboard_day=onboard_day, terms=terms, group=group, z_start=z_start,
        habit=rng.normal(0.0, _HABIT_SD, size=count), revenue=revenue, volume=volume,
        thin=thin, thin_invoice_cap=rng.integers(0, 3, size=count),
        stops_statements=~thin & (rng.random(count) < 0.08),
    )


def _draw_groups(rng: np.random.Generator, count: int) -> np.ndarray:
    """Draw a group number per customer (-1 for none), one group per 100 customers."""
    group = np.full(count, -1)
    sizes = rng.integers(3, 7, size=max(1, count // 100))
    members = rng.permutation(count)[: sizes.sum()]
    group[members] = np.repeat(np.arange(sizes.size), sizes)
    return group


def _draw_outcomes(
    rng: np.random.Generator, traits: _Customers, calendar: _Calendar
) -> _Outcomes:
    count, months = traits.z_start.size, calendar.months

    # Quality: AR(1) random walk that keeps the cross-section N(0, 1).
    quality = np.empty((count, months))
    quality[:, 0] = traits.z_start
    innovation = np.sqrt(1.0 - _QUALITY_RHO**2)
    for month in range(1, months):
        shock = innovation * rng.normal(size=count)
        quality[:, month] = _QUALITY_RHO * quality[:, month - 1] + shock

    # Hazard and the first month a default can happen in.
    sensitivity = _INDUSTRY_DOWNTURN_SENSITIVITY[traits.industry]
    downturn = _downturn_logit(months)[None, :] * sensitivity[:, None]
    hazard_base = _HAZARD_INTERCEPT + _INDUSTRY_HAZARD_OFFSET[traits.industry]
    hazard = _sigmoid(hazard_base[:, None] + _HAZARD_SLOPE * quality + downturn)
    onboard_month = calendar.month_of(traits.onboard_day)
    first_hazard_month = np.where(onboard_month < 0, 0, onboard_month + 1)
    eligible = np.arange(months)[None, :] >= first_hazard_month[:, None]

    # Defaults: the first eligible month whose uniform draw falls below the hazard.
    hit = eligible & (rng.random((count, months)) < hazard)
    defaulted = hit.any(axis=1)
    default_month = np.where(defaulted, hit.argmax(axis=1), -1)
    month_start = calendar.start_of(np.maximum(default_month, 0))
    month_length = calendar.start_of(np.maximum(default_month, 0) + 1) - month_start
    offset = np.floor(rng.random(count) * month_length).astype(np.int64)
    default_day = np.where(defaulted, month_start + offset, _NO_DAY)
    return _Outcomes(
        quality=quality, downturn=downturn, hazard_base=hazard_base, hazard=hazard,
        first_hazard_month=first_hazard_month, default_month=default_month,
        default_day=default_day, distress_days=_uniform_int(rng, 75, 180, count),
    )


def _downturn_logit(months: int) -> np.ndarray:
    """Downturn d(t) on the logit scale: 0, then a ramp over the last 12 months."""
    into = np.arange(months) - (months - _DOWNTURN_MONTHS) + 1
    return _DOWNTURN_LOGIT * np.clip(into / _DOWNTURN_RAMP_MONTHS, 0.0, 1.0)


# ---------------------------------------------------------------------------
# Invoices and payments


@dataclass(frozen=True)
class _Invoices:
    """Invoice-level arrays sorted by customer and issue day, with amounts in cents."""

    customer: np.ndarray
    issued: np.ndarray
    due: np.ndarray
    cents: np.ndarray  # in the customer's currency
    disputed: np.ndarray
    paid: np.ndarray  # day of the final payment before any cut-off
    number: np.ndarray  # chronological invoice number from 1


@dataclass(frozen=True)
class _Settlement:
    """Credit notes and payments of the invoices."""

    credit_note: np.ndarray  # invoice positions with a credit note
    credit_note_day: np.ndarray
    credit_note_cents: np.ndarray  # negative
    net_cents: np.ndarray  # per invoice, after its credit note
    payment_invoice: np.ndarray  # invoice position of each payment, in invoice order
    payment_day: np.ndarray
    payment_cents: np.ndarray


def _draw_invoices(
    rng: np.random.Generator,
    traits: _Customers,
    outcomes: _Outcomes,
    calendar: _Calendar,
    money: _Money,
) -> _Invoices:
    customer, issued = _draw_issue_days(rng, traits, outcomes, calendar)
    month = calendar.month_of(issued)
    count = customer.size

    # Amounts: monthly volume spread over the expected invoice count.
    per_invoice = traits.volume / _SIZE_INVOICES_PER_MONTH[traits.size]
    base = per_invoice[customer] * np.exp(rng.normal(-0.125, 0.5, size=count))
    base = np.maximum(base, 200.0)
    rate = np.where(traits.foreign[customer], money.rate_at(calendar, issued), 1.0)
    cents = np.maximum(np.round(base / rate * 100.0), 1).astype(np.int64)

    # Payment behaviour from stress and the customer's habit.
    days_to_default = outcomes.default_day[customer] - issued
    stress = (
        -outcomes.quality[customer, month]
        + _PAYMENT_DOWNTURN_WEIGHT * outcomes.downturn[customer, month]
        + _PRE_DEFAULT_STRESS * np.clip(1.0 - days_to_default / 365.0, 0.0, 1.0)
    )
    habit = traits.habit[customer]
    terms = traits.terms[customer]
    late = rng.random(count) < _sigmoid(-1.5 + _LATE_SLOPE * stress + habit)
    log_days_late = np.log(7.0) + 0.55 * stress + 0.5 * habit + rng.normal(0.0, 0.6, count)
    late_days = np.ceil(np.exp(log_days_late))
    early_days = np.floor(rng.random(count) * np.minimum(10, terms // 3))
    delay = np.where(late, np.minimum(late_days, 720), -early_days).astype(np.int64)
    disputed = rng.random(count) < _sigmoid(-3.3 + 0.5 * stress)
    delay += np.where(disputed, _uniform_int(rng, 15, 60, count), 0)
    due = issued + terms
    paid = np.maximum(due + delay, issued + 1)
    return _Invoices(
        customer=customer, issued=issued, due=due, cents=cents, disputed=disputed,
        # Rows are sorted by customer, so invoices of one day are numbered by customer.
        paid=paid, number=_numbers_from_order(_chronological_order(issued)),
    )


def _draw_issue_days(
    rng: np.random.Generator, traits: _Customers, outcomes: _Outcomes, calendar: _Calendar
) -> tuple[np.ndarray, np.ndarray]:
    """Customer and issue day of every invoice, sorted by customer then day."""
    months = calendar.months
    month_index = np.arange(months)
    first = np.maximum(calendar.month_of(traits.onboard_day), 0)
    last = np.where(outcomes.default_month >= 0, outcomes.default_month, months - 1)
    active = (month_index[None, :] >= first[:, None]) & (month_index[None, :] <= last[:, None])
    season = _SEASON[calendar.calendar_month(month_index) - 1]
    mean = (
        _SIZE_INVOICES_PER_MONTH[traits.size][:, None] * season[None, :]
        * np.exp(0.15 * outcomes.quality)
    )
    counts = np.where(active, rng.poisson(mean), 0)

    # One row per invoice, days uniform within the month, after onboarding and
    # before the default day.
    cell_customer, cell_month = np.nonzero(counts)
    repeats = counts[cell_customer, cell_month]
    customer = np.repeat(cell_customer, repeats)
    month = np.repeat(cell_month, repeats)
    low = np.maximum(calendar.start_of(month), traits.onboard_day[customer])
    high = np.minimum(calendar.start_of(month + 1), outcomes.default_day[customer])
    issued = low + np.floor(rng.random(customer.size) * (high - low)).astype(np.int64)
    keep = high > low
    customer, issued = customer[keep], issued[keep]

    # Sort by customer, then day, through one combined key. Rows with equal keys
    # are identical, so the sort needs no stability.
    first_day = calendar.start_day
    span = calendar.end_day - first_day
    key = np.sort(customer.astype(np.int64) * span + (issued - first_day))
    customer, issued = key // span, key % span + first_day

    # Thin-file customers keep only their first 0, 1 or 2 invoices.
    first_row = np.searchsorted(customer, np.arange(traits.thin.size))
    rank = np.arange(customer.size) - first_row[customer]
    keep = ~traits.thin[customer] | (rank < traits.thin_invoice_cap[customer])
    return customer[keep], issued[keep]


def _chronological_order(days: np.ndarray) -> np.ndarray:
    """Order rows by day with a stable sort, so rows of one day keep their order."""
    if days.size == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = days - days.min()
    if offsets.max() <= np.iinfo(np.int16).max:
        # numpy sorts 16-bit keys with a stable radix sort in linear time.
        offsets = offsets.astype(np.int16)
    return np.argsort(offsets, kind="stable")


def _numbers_from_order(order: np.ndarray) -> np.ndarray:
    """Number 1..n of each row, given the rows in numbering order."""
    number = np.empty(order.size, dtype=np.int64)
    number[order] = np.arange(1, order.size + 1)
    return number


def _settle_invoices(
    rng: np.random.Generator,
    invoices: _Invoices,
    outcomes: _Outcomes,
    calendar: _Calendar,
) -> _Settlement:
    count = invoices.customer.size
    default_day = outcomes.default_day[invoices.customer]
    cutoff = np.minimum(calendar.end_day, default_day)
    distress = invoices.issued >= default_day - outcomes.distress_days[invoices.customer]

    # Partial payments: a first part 7-35 days before the final payment.
    first_day = np.maximum(invoices.paid - _uniform_int(rng, 7, 35, count), invoices.issued + 1)
    partial = (rng.random(count) < 0.08) & (first_day < invoices.paid)
    first_day = np.where(partial, first_day, invoices.paid)

    # Credit notes: dated after the invoice and before its first payment.
    latest = np.minimum.reduce([invoices.issued + 30, first_day - 1, cutoff - 1])
    wants_note = rng.random(count) < np.where(invoices.disputed, 0.20, 0.025)
    note = np.flatnonzero(wants_note & (latest > invoices.issued))
    span = latest[note] - invoices.issued[note]
    note_day = invoices.issued[note] + 1 + np.floor(rng.random(note.size) * span).astype(np.int64)
    full = rng.random(note.size) < 0.15
    share = np.where(full, 1.0, rng.uniform(0.05, 0.6, size=note.size))
    note_cents = -np.maximum(np.round(invoices.cents[note] * share), 1).astype(np.int64)
    net = invoices.cents.copy()
    net[note] += note_cents

    # Payments before the cut-off, never for invoices issued in the distress window.
    payable = ~distress & (net > 0)
    first_paid = payable & partial & (first_day < cutoff) & (net > 1)
    final_paid = payable & (invoices.paid < cutoff)
    first_cents = np.round(net * rng.uniform(0.3, 0.7, size=count)).astype(np.int64)
    first_cents = np.clip(first_cents, 1, np.maximum(net - 1, 1))
    final_cents = net - np.where(first_paid, first_cents, 0)

    # One row per payment, by invoice and with the first part before the final one.
    counts = first_paid.astype(np.int64) + final_paid
    invoice = np.repeat(np.arange(count), counts)
    within = np.arange(invoice.size) - np.repeat(np.cumsum(counts) - counts, counts)
    is_first_part = first_paid[invoice] & (within == 0)
    return _Settlement(
        credit_note=note, credit_note_day=note_day, credit_note_cents=note_cents,
        net_cents=net,
        payment_invoice=invoice,
        payment_day=np.where(is_first_part, first_day[invoice], invoices.paid[invoice]),
        payment_cents=np.where(is_first_part, first_cents[invoice], final_cents[invoice]),
    )


# ---------------------------------------------------------------------------
# Financial statements


def _statement_rows(
    rng: np.random.Generator, traits: _Customers, outcomes: _Outcomes, calendar: _Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Customer, fiscal year, period end and publication day of every statement."""
    start_year = _to_date(calendar.start_day).year
    end_year = _to_date(calendar.end_day).year
    onboard_year = _to_datetime64(traits.onboard_day).astype("datetime64[Y]").astype(np.int64)
    onboard_year += 1970
    first_year = np.maximum(start_year - 2, onboard_year - 2)
    counts = np.where(traits.thin, 0, end_year - first_year)
    customer = np.repeat(np.arange(counts.size), counts)
    rank = np.arange(customer.size) - np.repeat(np.cumsum(counts) - counts, counts)
    year = first_year[customer] + rank
    period_end = _year_end_day(year)
    published = period_end + _uniform_int(rng, 60, 180, customer.size)

    # Stale files send only the statements known at onboarding, and 4 % of the
    # later statements are skipped. The first statement is always kept.
    onboarding_years = year <= np.maximum(onboard_year[customer] - 1, first_year[customer])
    skipped = (rank > 0) & (rng.random(customer.size) < 0.04)
    keep = (
        (published < calendar.end_day)
        & (published < outcomes.default_day[customer])
        & (~traits.stops_statements[customer] | onboarding_years)
        & ~skipped
    )
    return customer[keep], year[keep], period_end[keep], published[keep]


def _year_end_day(year: np.ndarray) -> np.ndarray:
    next_year = (year - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]")
    return next_year.astype(np.int64) - 1


def _quality_at(
    rng: np.random.Generator, customer: np.ndarray, day: np.ndarray,
    outcomes: _Outcomes, calendar: _Calendar,
) -> tuple[np.ndarray, np.ndarray]:
    """Look up quality z and the downturn at each day, backcasting days before the start."""
    month = calendar.month_of(day)
    inside = month >= 0
    clipped = np.clip(month, 0, calendar.months - 1)
    steps = np.maximum(-month, 0)
    backcast = (
        _QUALITY_RHO**steps * outcomes.quality[customer, 0]
        + np.sqrt(1.0 - _QUALITY_RHO ** (2 * steps)) * rng.normal(size=customer.size)
    )
    quality = np.where(inside, outcomes.quality[customer, clipped], backcast)
    downturn = np.where(inside, outcomes.downturn[customer, clipped], 0.0)
    return quality, downturn


def _statement_items(
    rng: np.random.Generator, traits: _Customers, customer: np.ndarray, year: np.ndarray,
    quality: np.ndarray, downturn: np.ndarray, start_year: int,
) -> dict[str, np.ndarray]:
    """Line items in the base currency from the noisy quality q of each statement."""
    count = customer.size
    industry = traits.industry[customer]
    q = quality + rng.normal(0.0, _STATEMENT_NOISE, count)

    # Size, leverage and liquidity.
    revenue = traits.revenue[customer] * np.exp(
        0.05 * (year - start_year) + 0.08 * q - 0.1 * downturn + rng.normal(0.0, 0.12, count)
    )
    revenue = np.where(rng.random(count) < 0.003, 0.0, revenue)
    turnover = _INDUSTRY_ASSET_TURNOVER[industry] * np.exp(rng.normal(0.0, 0.25, count))
    total_assets = np.maximum(revenue, traits.revenue[customer] * 0.05) / turnover
    leverage = np.minimum(0.5 * np.exp(-0.28 * q + rng.normal(0.0, _LEVERAGE_NOISE, count)), 2.5)
    total_liabilities = leverage * total_assets
    current_liabilities = total_liabilities * rng.uniform(0.45, 0.9, count)
    current_ratio = np.exp(np.log(1.35) + 0.18 * q + rng.normal(0.0, 0.25, count))
    current_assets = np.clip(
        current_ratio * current_liabilities, 0.1 * total_assets, 0.97 * total_assets
    )
    current_liabilities = np.where(rng.random(count) < 0.004, 0.0, current_liabilities)

    # Split of current assets: cash, inventory, receivables and other.
    alphas = np.column_stack([
        1.0 + 0.5 * _sigmoid(q), _INDUSTRY_INVENTORY_WEIGHT[industry], np.full(count, 2.0),
        np.ones(count),
    ])
    shares = rng.gamma(alphas)
    shares /= shares.sum(axis=1, keepdims=True)

    # Profitability, interest and cash flow.
    margin = _INDUSTRY_NET_MARGIN[industry] + 0.03 * q + rng.normal(0.0, 0.03, count)
    dormant_loss = -0.01 * total_assets * rng.random(count)
    net_profit = np.where(revenue > 0, margin * revenue, dormant_loss)
    gross_margin = np.clip(
        _INDUSTRY_GROSS_MARGIN[industry] + 0.02 * q + rng.normal(0.0, 0.03, count), 0.03, 0.85
    )
    interest = total_liabilities * rng.uniform(0.3, 0.8, count) * rng.uniform(0.03, 0.07, count)
    interest = np.where((leverage < 0.3) & (rng.random(count) < 0.5), 0.0, interest)
    pretax = np.where(net_profit > 0, net_profit / 0.75, net_profit)
    cash_surprise = 0.04 * revenue * (0.5 * q + rng.normal(size=count))
    cash_flow = net_profit + 0.04 * total_assets + cash_surprise
    return {
        "revenue": revenue, "net_profit": net_profit, "total_assets": total_assets,
        "current_assets": current_assets, "total_liabilities": total_liabilities,
        "current_liabilities": current_liabilities, "operating_cash_flow": cash_flow,
        "cost_of_sales": (1.0 - gross_margin) * revenue, "operating_profit": pretax + interest,
        "interest_expense": interest, "cash": shares[:, 0] * current_assets,
        "inventory": shares[:, 1] * current_assets, "receivables": shares[:, 2] * current_assets,
    }


def _round_statement(
    items: dict[str, np.ndarray], rate: np.ndarray
) -> dict[str, np.ndarray]:
    """Convert to the customer's currency in whole units, keeping the accounts consistent."""
    rounded = {name: np.round(values / rate) for name, values in items.items()}
    parts = rounded["cash"] + rounded["inventory"] + rounded["receivables"]
    rounded["current_assets"] = np.maximum(rounded["current_assets"], parts)
    rounded["total_assets"] = np.maximum(rounded["total_assets"], rounded["current_assets"])
    rounded["total_liabilities"] = np.maximum(
        rounded["total_liabilities"], rounded["current_liabilities"]
    )
    rounded["equity"] = rounded["total_assets"] - rounded["total_liabilities"]
    return rounded


def _statements_frame(
    rng: np.random.Generator,
    ids: pa.Array,
    traits: _Customers,
    outcomes: _Outcomes,
    calendar: _Calendar,
    money: _Money,
) -> pd.DataFrame:
    customer, year, period_end, published = _statement_rows(rng, traits, outcomes, calendar)
    quality, downturn = _quality_at(rng, customer, period_end, outcomes, calendar)
    start_year = _to_date(calendar.start_day).year
    items = _statement_items(rng, traits, customer, year, quality, downturn, start_year)
    rate = np.where(traits.foreign[customer], money.rate_at(calendar, period_end), 1.0)
    values = _round_statement(items, rate)

    # Values that feeds often leave out; small firms more often.
    count = customer.size
    small = traits.size[customer] == 0
    missing_share = {
        "interest_expense": np.where(small, 0.3, 0.15), "operating_profit": 0.10,
        "cost_of_sales": 0.08, "cash": np.where(small, 0.18, 0.08),
        "inventory": np.where(small, 0.18, 0.08), "receivables": np.where(small, 0.18, 0.08),
    }
    for name, share in missing_share.items():
        values[name] = np.where(rng.random(count) < share, np.nan, values[name])
    audited_share = _SIZE_AUDITED_SHARE[traits.size[customer]]
    audited = pd.array(rng.random(count) < audited_share, dtype="boolean")
    audited[rng.random(count) < 0.10] = pd.NA

    spec = TABLES["financial_statements"]
    frame = pd.DataFrame({
        "customer_id": _text(ids.take(pa.array(customer))),
        "period_end": _dates(period_end),
        "published_on": _dates(published),
        "currency": _text(_currency_codes(traits.foreign[customer], money)),
        **{name: values[name] for name in spec.columns if name in values},
        "audited": audited,
    })
    return frame[list(spec.columns)]


# ---------------------------------------------------------------------------
# Frames of the other tables


def _customers_frame(
    rng: np.random.Generator,
    ids: pa.Array,
    traits: _Customers,
    calendar: _Calendar,
    money: _Money,
) -> pd.DataFrame:
    count = traits.industry.size
    end = calendar.end_day

    # Need-based limit in the customer's currency at the latest rate.
    need = traits.volume * (traits.terms + 30) / 30.0 * rng.uniform(0.8, 1.6, size=count)
    latest_rate = np.where(traits.foreign, money.rate_to_base[-1], 1.0)
    limit = np.ceil(need / latest_rate / 1000.0) * 1000.0
    recent = traits.onboard_day >= end - 90
    limit = np.where(recent & (rng.random(count) < 0.6), np.nan, limit)

    # About 2 % locked, 3 % with the flag missing and 3 % temporary limits.
    locked_draw = rng.random(count)
    locked = pd.array(locked_draw < 0.02, dtype="boolean")
    locked[(locked_draw >= 0.02) & (locked_draw < 0.05)] = pd.NA
    temporary = rng.random(count) < 0.03
    valid_to = end + rng.integers(-60, 181, size=count)

    group_ids = _format_ids("G", np.maximum(traits.group, 0) + 1, 4)
    return pd.DataFrame({
        "customer_id": _text(ids),
        "industry": _text(_labels(INDUSTRIES, traits.industry)),
        "onboarded_on": _dates(traits.onboard_day),
        "payment_terms_days": traits.terms.astype(np.int64),
        "currency": _text(_currency_codes(traits.foreign, money)),
        "name": _text(_company_names(rng, traits)),
        "region": _text(_labels(REGIONS, traits.region)),
        "size_class": _text(_labels(SIZE_CLASSES, traits.size)),
        "group_id": _text(pa_compute.if_else(pa.array(traits.group >= 0), group_ids, None)),
        "credit_limit": limit,
        "limit_locked": locked,
        "limit_valid_to": _dates(valid_to, missing=~temporary),
    })


def _company_names(rng: np.random.Generator, traits: _Customers) -> list[str]:
    heads = rng.integers(0, len(_NAME_HEADS), size=traits.industry.size)
    tails = rng.integers(0, len(_NAME_TAILS), size=traits.industry.size)
    names = []
    for region, head, tail, industry in zip(traits.region, heads, tails, traits.industry):
        place = f"{REGIONS[region]} " if region >= 0 else ""
        trade_name = _NAME_HEADS[head] + _NAME_TAILS[tail]
        names.append(f"{place}{trade_name} {_INDUSTRY_NAME_NOUN[industry]} Co., Ltd.")
    return names


def _invoices_frame(
    ids: pa.Array,
    invoice_ids: pa.Array,
    invoices: _Invoices,
    settlement: _Settlement,
    traits: _Customers,
    money: _Money,
) -> pd.DataFrame:
    notes = settlement.credit_note
    note_order = _chronological_order(settlement.credit_note_day)
    note_numbers = _numbers_from_order(note_order)
    note_ids = _format_ids("CRN", note_numbers, _document_width(invoices.number.size))
    invoice_order = np.empty(invoices.number.size, dtype=np.int64)
    invoice_order[invoices.number - 1] = np.arange(invoices.number.size)

    # Rows are the invoices, then the credit notes, each block in number order. A
    # stable sort by day orders them by day, invoices before credit notes, and
    # number. `rows` maps each output row to its row in the blocks as built.
    count = invoices.number.size
    blocks = np.concatenate([invoice_order, count + note_order])
    day = np.concatenate([invoices.issued, settlement.credit_note_day])
    rows = blocks[_chronological_order(day[blocks])]
    is_note = rows >= count
    invoice_of_row = rows.copy()
    invoice_of_row[is_note] = notes[rows[is_note] - count]
    customer = invoices.customer[invoice_of_row]
    cents = np.concatenate([invoices.cents, settlement.credit_note_cents])[rows]
    document_id = pa.concat_arrays([invoice_ids, note_ids]).take(pa.array(rows))
    reference_id = pa_compute.if_else(
        pa.array(is_note), invoice_ids.take(pa.array(invoice_of_row)), None
    )
    # A credit note is due with its invoice and is never disputed.
    return pd.DataFrame({
        "document_id": _text(document_id),
        "document_type": _text(_labels(DOCUMENT_TYPES, is_note.astype(np.int64))),
        "customer_id": _text(ids.take(pa.array(customer))),
        "issued_on": _dates(day[rows]),
        "due_on": _dates(invoices.due[invoice_of_row]),
        "amount": cents / 100.0,
        "currency": _text(_currency_codes(traits.foreign[customer], money)),
        "reference_id": _text(reference_id),
        "disputed": pd.array(invoices.disputed[invoice_of_row] & ~is_note, dtype="boolean"),
    })


def _payments_frame(
    ids: pa.Array,
    invoice_ids: pa.Array,
    invoices: _Invoices,
    settlement: _Settlement,
    traits: _Customers,
    money: _Money,
) -> pd.DataFrame:
    # Payments are numbered by day, and payments of one day keep the invoice order.
    order = _chronological_order(settlement.payment_day)
    invoice, day = settlement.payment_invoice[order], settlement.payment_day[order]
    customer = invoices.customer[invoice]
    numbers = np.arange(1, order.size + 1)
    return pd.DataFrame({
        "payment_id": _text(_format_ids("PAY", numbers, _document_width(numbers.size))),
        "customer_id": _text(ids.take(pa.array(customer))),
        "paid_on": _dates(day),
        "amount": settlement.payment_cents[order] / 100.0,
        "currency": _text(_currency_codes(traits.foreign[customer], money)),
        "document_id": _text(invoice_ids.take(pa.array(invoice))),
    })


def _events_frame(
    rng: np.random.Generator,
    ids: pa.Array,
    invoices: _Invoices,
    settlement: _Settlement,
    outcomes: _Outcomes,
    calendar: _Calendar,
) -> pd.DataFrame:
    count = outcomes.default_day.size
    end = calendar.end_day

    # Open amount at default: payments stop at the default day, so it is what is
    # still unpaid at the end.
    invoiced = np.bincount(invoices.customer, weights=settlement.net_cents, minlength=count)
    paid = np.bincount(
        invoices.customer[settlement.payment_invoice], weights=settlement.payment_cents,
        minlength=count,
    )
    open_cents = invoiced - paid
    defaulter = np.flatnonzero(outcomes.default_month >= 0)
    default_day = outcomes.default_day[defaulter]
    open_amount = open_cents[defaulter] / 100.0

    # Events after a default: type, probability, delay range in days and the
    # range of the share of the open amount (None: no amount).
    parts = [(defaulter, default_day, "default", open_amount)]
    follow_ups = (
        ("write_off", 0.4, (60, 270), (0.6, 1.0)),
        ("bankruptcy", 0.2, (30, 360), None),
        ("legal_action", 0.3, (15, 120), (1.0, 1.0)),
    )
    for event_type, probability, (low, high), share in follow_ups:
        day = default_day + _uniform_int(rng, low, high, defaulter.size)
        amount = np.full(defaulter.size, np.nan) if share is None else np.round(
            open_amount * rng.uniform(*share, size=defaulter.size), 2
        )
        chosen = (rng.random(defaulter.size) < probability) & (day < end)
        parts.append((defaulter[chosen], day[chosen], event_type, amount[chosen]))
    parts.extend(_stress_events(rng, outcomes, calendar))

    customer = np.concatenate([part[0] for part in parts])
    day = np.concatenate([part[1] for part in parts])
    kind = np.concatenate([np.full(part[0].size, part[2], dtype=object) for part in parts])
    amount = np.concatenate([part[3] for part in parts])
    frame = pd.DataFrame({"customer": customer, "day": day, "event_type": kind, "amount": amount})
    frame = frame.drop_duplicates(["customer", "day", "event_type"])
    frame = frame.sort_values(["day", "customer", "event_type"], kind="stable")
    return pd.DataFrame({
        "customer_id": _text(ids.take(pa.array(frame["customer"].to_numpy()))),
        "event_on": _dates(frame["day"].to_numpy()),
        "event_type": _text(pa.array(frame["event_type"].to_numpy(), type=pa.string())),
        "amount": frame["amount"].to_numpy(dtype=np.float64),
    })


def _stress_events(
    rng: np.random.Generator, outcomes: _Outcomes, calendar: _Calendar
) -> list[tuple[np.ndarray, np.ndarray, str, np.ndarray]]:
    """Legal actions and restructurings of customers not (yet) in default."""
    months = calendar.months
    month_index = np.arange(months)[None, :]
    last = np.where(outcomes.default_month >= 0, outcomes.default_month, months)
    eligible = (
        (month_index >= outcomes.first_hazard_month[:, None]) & (month_index < last[:, None])
    )
    parts = []
    for event_type, factor in (("legal_action", 0.3), ("restructuring", 0.15)):
        hit = eligible & (rng.random(outcomes.hazard.shape) < factor * outcomes.hazard)
        customer, month = np.nonzero(hit)
        start = calendar.start_of(month)
        length = calendar.start_of(month + 1) - start
        day = start + np.floor(rng.random(customer.size) * length).astype(np.int64)
        parts.append((customer, day, event_type, np.full(customer.size, np.nan)))
    return parts


def _fx_frame(calendar: _Calendar, money: _Money) -> pd.DataFrame:
    days = calendar.start_of(np.arange(-_PREHISTORY_MONTHS, calendar.months))
    return pd.DataFrame({
        "currency": _text(pa.array([money.foreign] * days.size, type=pa.string())),
        "rate_on": _dates(days),
        "rate_to_base": money.rate_to_base.astype(np.float64),
    })


def _true_pd_frame(
    ids: pa.Array, traits: _Customers, outcomes: _Outcomes, calendar: _Calendar
) -> pd.DataFrame:
    """Build one true-PD row per customer and month start after onboarding, up to the default."""
    pd_matrix = _expected_default_probability(outcomes)
    month_start = calendar.start_of(np.arange(calendar.months))
    onboarded = month_start[None, :] > traits.onboard_day[:, None]
    not_defaulted = month_start[None, :] <= outcomes.default_day[:, None]
    customer, month = np.nonzero(onboarded & not_defaulted)
    default_day = outcomes.default_day[customer]
    return pd.DataFrame({
        "customer_id": _text(ids.take(pa.array(customer))),
        "month": _dates(month_start[month]),
        "pd_12m_true": pd_matrix[customer, month],
        "defaulted_by": _dates(default_day, missing=default_day == _NO_DAY),
    })


def _expected_default_probability(outcomes: _Outcomes) -> np.ndarray:
    """Compute 1 - prod over 12 months of (1 - E[h | z now]), shape (customers, months)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(_QUADRATURE_NODES)
    weights = weights / weights.sum()
    quality = outcomes.quality
    months = quality.shape[1]
    # The downturn after the end of the history stays at its last level.
    tail = np.repeat(outcomes.downturn[:, -1:], _PD_HORIZON_MONTHS - 1, axis=1)
    downturn = np.concatenate([outcomes.downturn, tail], axis=1)
    base = outcomes.hazard_base[:, None]

    log_survival = np.zeros_like(quality)
    for ahead in range(_PD_HORIZON_MONTHS):
        shift = base + downturn[:, ahead : ahead + months]
        mean = _QUALITY_RHO**ahead * quality
        spread = np.sqrt(1.0 - _QUALITY_RHO ** (2 * ahead))
        expected = np.zeros_like(quality)
        for node, weight in zip(nodes, weights):
            expected += weight * _sigmoid(shift + _HAZARD_SLOPE * (mean + spread * node))
        log_survival += np.log1p(-expected)
    return -np.expm1(log_survival)


# ---------------------------------------------------------------------------
# Columns and files


def _format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Text ids ``prefix`` + ``numbers`` zero-padded to ``width`` digits.

    Digits are written two at a time from a lookup table, without a Python loop
    over the rows.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(
            f"id numbers must lie in [0, 10**{width}); got {numbers.min()} to {numbers.max()}"
        )
    pairs = (width + 1) // 2
    digits = np.empty((numbers.size, pairs), dtype=np.uint16)
    remaining = numbers.copy()
    for column in range(pairs - 1, -1, -1):
        quotient = remaining // 100
        digits[:, column] = np.take(_DIGIT_PAIRS, remaining - quotient * 100)
        remaining = quotient

    # An odd width drops the leading "0" of the first pair.
    start = len(prefix)
    chars = np.empty((numbers.size, start + width), dtype=np.uint8)
    chars[:, :start] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    chars[:, start:] = digits.view(np.uint8)[:, 2 * pairs - width :]

    # The bytes are ASCII, so they form a valid Arrow string array as they are.
    # Arrow's string type has 32-bit offsets, enough for about 190 million ids.
    offsets = np.arange(numbers.size + 1, dtype=np.int64) * chars.shape[1]
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError(f"{numbers.size} ids do not fit in one Arrow string array")
    buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(chars)]
    return pa.Array.from_buffers(pa.string(), numbers.size, buffers)


def _document_width(count: int) -> int:
    """Digits of document numbers: 8, or more when the count needs them."""
    return max(8, len(str(count)))


def _labels(labels: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Labels by index; index -1 gives a missing value."""
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(index, mask=index < 0, type=pa.int32()), pa.array(labels, type=pa.string())
    )
    return dictionary.cast(pa.string())


def _currency_codes(foreign: np.ndarray, money: _Money) -> pa.Array:
    return _labels((money.base, money.foreign), foreign.astype(np.int64))


def _text(values: pa.Array | list[str]) -> pd.Series:
    return pa.array(values, type=pa.string()).to_pandas()


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Convert day numbers to datetime64[us] dates, with NaT where ``missing`` is True."""
    dates = _to_datetime64(np.where(missing, 0, days) if missing is not None else days)
    dates = dates.astype("datetime64[us]")
    if missing is not None:
        dates[missing] = np.datetime64("NaT")
    return dates


_ARROW_TYPES = {
    "str": pa.string(), "date": pa.date32(), "float": pa.float64(), "int": pa.int64(),
    "bool": pa.bool_(),
}


def _arrow_table(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pa.Table:
    """Arrow table with a fixed schema from column kinds; missing values become nulls."""
    arrays = []
    for column, kind in kinds.items():
        values = frame[column]
        if kind == "date":
            values = values.to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
        elif kind == "float":
            values = values.to_numpy(dtype=np.float64)
        arrays.append(pa.array(values, type=_ARROW_TYPES[kind], from_pandas=True))
    schema = pa.schema([pa.field(column, _ARROW_TYPES[kind]) for column, kind in kinds.items()])
    return pa.Table.from_arrays(arrays, schema=schema)


def _write_table(table: pa.Table, path: Path, file_format: str) -> None:
    """Write through a temporary name so an interrupted write leaves no partial file."""
    partial = path.with_name(path.name + ".partial")
    if file_format == "parquet":
        pq.write_table(table, partial, compression="zstd")
    else:
        pa_csv.write_csv(table, partial)
    partial.replace(path)
