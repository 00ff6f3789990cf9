"""Calendar, exchange rates, customer traits and the latent credit-quality process.

The formulas and constants are described in the package notes of
:mod:`creditlimit.features.synthetic`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

__all__ = ["INDUSTRIES", "SIZE_CLASSES", "REGIONS", "TRUE_PD_COLUMNS"]

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

_PREHISTORY_MONTHS = 60
# Latent quality and hazard, with the formulas in the package notes. The values
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

