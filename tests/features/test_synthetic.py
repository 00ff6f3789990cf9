"""Tests of the synthetic sample portfolio generator."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditlimit.errors import ParamsError
from creditlimit.features.contract import CREDIT_EVENT_TYPES, DOCUMENT_TYPES, TABLE_ORDER, TABLES
from creditlimit.features.loading import read_raw_folder
from creditlimit.features.synthetic import (
    CSV_ONLY_FAULT_KINDS,
    FAULT_KINDS,
    INDUSTRIES,
    REGIONS,
    SIZE_CLASSES,
    TRUE_PD_COLUMNS,
    SampleParams,
    SamplePortfolio,
    generate_portfolio,
    sample_summary,
    write_portfolio,
)
from creditlimit.features.synthetic.frames import NEW_SEGMENT_INDUSTRY
from creditlimit.features.synthetic.documents import _Invoices, _Settlement
from creditlimit.features.synthetic.limits import _mean_days_late
from creditlimit.features.validation import ValidationResult, validate_tables
from creditlimit.i18n import use_locale

START = datetime.date(2022, 1, 1)
MONTHS = 36
END = pd.Timestamp("2025-01-01")
# Record dates of each table: the dates that place a row in time.
RECORD_DATES = {
    "customers": ["onboarded_on"],
    "financial_statements": ["period_end", "published_on"],
    "invoices": ["issued_on"],
    "payments": ["paid_on"],
    "credit_events": ["event_on"],
    "fx_rates": ["rate_on"],
}


# Share of faulty rows in the dirty fixture: large enough for every kind, within
# the default max_reject_share of 0.05.
DIRTY_SHARE = 0.02


@pytest.fixture(scope="module")
def portfolio() -> SamplePortfolio:
    return generate_portfolio(customers=300, months=MONTHS, seed=7, start=START)


@pytest.fixture(scope="module")
def dirty_portfolio() -> SamplePortfolio:
    return generate_portfolio(
        customers=300, months=MONTHS, seed=7, start=START, dirty_share=DIRTY_SHARE
    )


def _validate_written(portfolio: SamplePortfolio, folder: Path, file_format: str) -> ValidationResult:
    write_portfolio(portfolio, folder, file_format=file_format)
    return validate_tables(
        read_raw_folder(folder), base_currency=portfolio.base_currency, max_reject_share=0.05
    )


@pytest.fixture(scope="module")
def validated(
    portfolio: SamplePortfolio, dirty_portfolio: SamplePortfolio, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ValidationResult]:
    """Validation results of the clean portfolio and of the dirty one in both formats."""
    folder = tmp_path_factory.mktemp("validated")
    return {
        "clean": _validate_written(portfolio, folder / "clean", "parquet"),
        "parquet": _validate_written(dirty_portfolio, folder / "parquet", "parquet"),
        "csv": _validate_written(dirty_portfolio, folder / "csv", "csv"),
    }


def _default_days(portfolio: SamplePortfolio) -> pd.Series:
    events = portfolio.credit_events
    return events[events["event_type"] == "default"].set_index("customer_id")["event_on"]


def _file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def _invoices_only(portfolio: SamplePortfolio) -> pd.DataFrame:
    invoices = portfolio.invoices
    return invoices[invoices["document_type"] == "invoice"]


def _bad_dates(portfolio: SamplePortfolio, *, dpd: int = 90, min_amount: float = 100.0) -> pd.DataFrame:
    """Days on which a customer turns bad: an invoice reaching ``dpd`` days past due with
    at least ``min_amount`` (base currency) open, or a default-type credit event."""
    invoices = _invoices_only(portfolio)[
        ["document_id", "customer_id", "due_on", "amount", "currency"]
    ].copy()
    invoices["bad_on"] = invoices["due_on"] + pd.Timedelta(days=dpd)
    bad_on = invoices.set_index("document_id")["bad_on"]

    # Open amount just before the bad day: credit notes and payments dated earlier count.
    notes = portfolio.invoices[portfolio.invoices["document_type"] == "credit_note"]
    notes = notes[notes["issued_on"] < notes["reference_id"].map(bad_on)]
    credited = notes.groupby("reference_id")["amount"].sum()
    payments = portfolio.payments
    payments = payments[payments["paid_on"] < payments["document_id"].map(bad_on)]
    paid = payments.groupby("document_id")["amount"].sum()
    open_amount = (
        invoices["amount"]
        + invoices["document_id"].map(credited).fillna(0.0)
        - invoices["document_id"].map(paid).fillna(0.0)
    )

    # Foreign-currency amounts at the month's rate (rates are set at month starts).
    rates = portfolio.fx_rates.set_index("rate_on")["rate_to_base"]
    month_start = invoices["bad_on"].dt.to_period("M").dt.start_time.astype("datetime64[us]")
    rate = month_start.map(rates).fillna(rates.iloc[-1])
    open_base = np.where(invoices["currency"] == portfolio.base_currency, open_amount, open_amount * rate)
    dpd_bad = invoices.loc[open_base >= min_amount, ["customer_id", "bad_on"]]

    events = portfolio.credit_events
    listed = events["event_type"].isin(["default", "write_off", "bankruptcy"])
    event_bad = events.loc[listed, ["customer_id", "event_on"]].rename(columns={"event_on": "bad_on"})
    return pd.concat([dpd_bad, event_bad], ignore_index=True)


def _observed_bad_share(portfolio: SamplePortfolio, horizon_months: int = 12) -> float:
    """Share of customer-months (onboarded, no default yet, complete window) that go bad."""
    months = pd.date_range(portfolio.start, periods=MONTHS, freq="MS").astype("datetime64[us]")
    months = months[months + pd.DateOffset(months=horizon_months) <= END]
    grid = portfolio.customers[["customer_id", "onboarded_on"]].merge(
        pd.DataFrame({"as_of": months}), how="cross"
    )
    grid = grid[grid["onboarded_on"] < grid["as_of"]]
    events = portfolio.credit_events
    first_default = events[events["event_type"] == "default"].groupby("customer_id")["event_on"].min()
    grid = grid[~(grid["customer_id"].map(first_default) < grid["as_of"])]

    bad = _bad_dates(portfolio).sort_values("bad_on")
    bad["bad_on"] = bad["bad_on"].astype("datetime64[us]")
    nearest = pd.merge_asof(
        grid.sort_values("as_of"), bad, left_on="as_of", right_on="bad_on",
        by="customer_id", direction="forward",
    )
    is_bad = nearest["bad_on"] < nearest["as_of"] + pd.DateOffset(months=horizon_months)
    return float(is_bad.mean())


# ---------------------------------------------------------------------------
# Determinism and files


@pytest.mark.parametrize("dirty_share", [0.0, 0.05])
def test_write_portfolio_same_seed_same_bytes(tmp_path: Path, dirty_share: float) -> None:
    """The same seed writes byte-identical files in both formats, and another seed differs."""
    for file_format in ("parquet", "csv"):
        hashes = []
        for run, seed in enumerate((11, 11, 12)):
            folder = tmp_path / f"{file_format}-{run}"
            generated = generate_portfolio(
                customers=60, months=18, seed=seed, start=START, dirty_share=dirty_share
            )
            write_portfolio(generated, folder, file_format=file_format)
            hashes.append(_file_hashes(folder))
        assert hashes[0] == hashes[1]
        assert len(hashes[0]) == len(TABLES) + 1
        for name in hashes[0]:
            assert hashes[0][name] != hashes[2][name], name


def test_write_portfolio_fixed_schema(portfolio: SamplePortfolio, tmp_path: Path) -> None:
    """Parquet files follow the contract kinds (date32, string, ...) with no pandas index."""
    counts = write_portfolio(portfolio, tmp_path)
    arrow_types = {
        "str": pa.string(), "date": pa.date32(), "float": pa.float64(), "int": pa.int64(),
        "bool": pa.bool_(),
    }
    assert list(counts) == [*TABLE_ORDER, "true_pd"]
    for name, spec in TABLES.items():
        schema = pq.read_schema(tmp_path / f"{name}.parquet")
        assert schema.names == list(spec.columns), name
        for column, kind in spec.columns.items():
            assert schema.field(column).type == arrow_types[kind], (name, column)
        assert schema.metadata is None or b"pandas" not in schema.metadata
        assert counts[name] == len(portfolio.tables[name])
    truth = pq.read_schema(tmp_path / "_truth" / "true_pd.parquet")
    assert truth.names == list(TRUE_PD_COLUMNS)
    assert truth.field("month").type == pa.date32()
    assert counts["true_pd"] == len(portfolio.true_pd)


def test_write_portfolio_round_trips_values(portfolio: SamplePortfolio, tmp_path: Path) -> None:
    """Reading the Parquet files back gives the generated frames, missing values included."""
    write_portfolio(portfolio, tmp_path)
    for name in ("customers", "invoices", "financial_statements"):
        read = pq.read_table(tmp_path / f"{name}.parquet").to_pandas(date_as_object=False)
        expected = portfolio.tables[name]
        for column in expected.columns:
            left, right = expected[column], read[column]
            if pd.api.types.is_datetime64_any_dtype(left):
                left, right = left.astype("datetime64[us]"), right.astype("datetime64[us]")
            assert left.isna().equals(right.isna()), (name, column)
            assert (left[left.notna()].to_numpy() == right[right.notna()].to_numpy()).all(), (name, column)


def test_write_portfolio_csv_readable(portfolio: SamplePortfolio, tmp_path: Path) -> None:
    """CSV files have a header, ISO dates and empty cells for missing values."""
    write_portfolio(portfolio, tmp_path, file_format="csv")
    customers = pd.read_csv(tmp_path / "customers.csv", dtype=str, keep_default_na=False)
    assert list(customers.columns) == list(TABLES["customers"].columns)
    assert customers["onboarded_on"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (customers["group_id"] == "").sum() == portfolio.customers["group_id"].isna().sum()
    invoices = pd.read_csv(tmp_path / "invoices.csv", dtype=str, keep_default_na=False)
    assert len(invoices) == len(portfolio.invoices)
    assert invoices["document_id"].iloc[0] == portfolio.invoices["document_id"].iloc[0]


def test_write_portfolio_replaces_other_format(portfolio: SamplePortfolio, tmp_path: Path) -> None:
    """Writing Parquet over a CSV folder removes the CSV files, so each table has one file."""
    write_portfolio(portfolio, tmp_path, file_format="csv")
    write_portfolio(portfolio, tmp_path, file_format="parquet")
    names = sorted(path.name for path in tmp_path.iterdir() if path.is_file())
    assert names == sorted(f"{name}.parquet" for name in TABLES)


def test_write_portfolio_rejects_unknown_format(portfolio: SamplePortfolio, tmp_path: Path) -> None:
    """An unknown file format raises ParamsError in English and Chinese."""
    with pytest.raises(ParamsError, match="must be 'parquet' or 'csv'; got 'xlsx'"):
        write_portfolio(portfolio, tmp_path, file_format="xlsx")
    with use_locale("zh_CN"), pytest.raises(ParamsError, match="样本文件格式必须为.*'xlsx'"):
        write_portfolio(portfolio, tmp_path, file_format="xlsx")
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------
# Contract and tables


def test_generate_portfolio_contract_columns(portfolio: SamplePortfolio) -> None:
    """Every table has exactly the contract columns in order, with the promised dtypes."""
    for name, spec in TABLES.items():
        frame = portfolio.tables[name]
        assert list(frame.columns) == list(spec.columns), name
        assert set(spec.required) <= set(frame.columns), name
        assert len(frame) > 0, name
        for column, kind in spec.columns.items():
            dtype = frame[column].dtype
            if kind == "date":
                assert pd.api.types.is_datetime64_dtype(dtype), (name, column)
            elif kind == "str":
                assert pd.api.types.is_string_dtype(dtype), (name, column)
            elif kind == "float":
                assert dtype == np.float64, (name, column)
            elif kind == "int":
                assert dtype == np.int64, (name, column)
            else:
                assert dtype == "boolean", (name, column)


def test_generate_portfolio_keys_unique(portfolio: SamplePortfolio) -> None:
    """Each table's key identifies one row and required values are present."""
    for name, spec in TABLES.items():
        frame = portfolio.tables[name]
        assert not frame.duplicated(list(spec.key)).any(), name
        assert frame[list(spec.required)].notna().all().all(), name


def test_customers_attributes(portfolio: SamplePortfolio) -> None:
    """Customers use the documented ids, industries, regions, sizes, terms and currencies."""
    customers = portfolio.customers
    assert customers["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert set(customers["industry"]) == set(INDUSTRIES) | {NEW_SEGMENT_INDUSTRY}
    new_segment = customers["industry"] == NEW_SEGMENT_INDUSTRY
    last_year = customers["onboarded_on"].max() - pd.Timedelta(days=365)
    assert (customers.loc[new_segment, "onboarded_on"] > last_year).all()
    assert set(customers["region"].dropna()) <= set(REGIONS)
    assert set(customers["size_class"]) == set(SIZE_CLASSES)
    assert set(customers["payment_terms_days"]) == {30, 45, 60, 90}
    assert set(customers["currency"]) == {"CNY", "USD"}
    foreign_share = (customers["currency"] == "USD").mean()
    assert 0.05 <= foreign_share <= 0.15
    before_start = (customers["onboarded_on"] < pd.Timestamp(START)).mean()
    assert 0.3 <= before_start <= 0.5


def test_customers_locked_limits_and_groups(portfolio: SamplePortfolio) -> None:
    """Some limits are locked or temporary, a few are missing, and groups have 3-6 members."""
    customers = portfolio.customers
    assert customers["limit_locked"].fillna(False).sum() >= 1
    assert customers["limit_locked"].isna().sum() >= 1
    assert customers["limit_valid_to"].notna().sum() >= 1
    assert customers["credit_limit"].isna().sum() >= 1
    assert (customers["credit_limit"].dropna() >= 0).all()
    assert (customers["credit_limit"].dropna() % 1000 == 0).all()
    sizes = customers["group_id"].value_counts()
    assert len(sizes) >= 1
    assert sizes.between(3, 6).all()


def test_credit_limits_suspended_and_new(portfolio: SamplePortfolio) -> None:
    """Defaulted customers more than 2 months before the end have limit 0, new ones none."""
    customers = portfolio.customers.set_index("customer_id")
    limit = customers["credit_limit"]
    default_on = customers.index.to_series().map(_default_days(portfolio))
    suspended = default_on < END - pd.DateOffset(months=2)
    new = customers["onboarded_on"] >= END - pd.DateOffset(months=3)
    assert suspended.sum() >= 10
    assert new.sum() >= 3
    assert (limit[suspended] == 0).all()
    assert limit[new].isna().all()
    assert limit.isna().equals(new)
    assert (limit == 0).equals(suspended & ~new)
    # Granted limits are at least 10,000 in the base currency (1,000s in USD).
    granted = limit[limit > 0]
    in_base = customers.loc[granted.index, "currency"] == portfolio.base_currency
    assert (granted[in_base] >= 10_000).all()
    assert (granted[~in_base] >= 2_000).all()


def _to_base(portfolio: SamplePortfolio) -> pd.Series:
    """Rate of each customer's currency to the base currency at the latest rate, by customer id."""
    customers = portfolio.customers.set_index("customer_id")
    latest = portfolio.fx_rates["rate_to_base"].iloc[-1]
    in_base = customers["currency"] == portfolio.base_currency
    return pd.Series(np.where(in_base, 1.0, latest), index=customers.index)


def _open_exposure_at_end(portfolio: SamplePortfolio) -> pd.Series:
    """Open invoices net of credit notes and payments at the end, base currency, by customer id."""
    invoiced = portfolio.invoices.groupby("customer_id")["amount"].sum()
    paid = portfolio.payments.groupby("customer_id")["amount"].sum()
    customers = portfolio.customers["customer_id"]
    exposure = invoiced.sub(paid, fill_value=0.0).reindex(customers, fill_value=0.0)
    return exposure.clip(lower=0.0) * _to_base(portfolio)


def _observed_days_late(
    portfolio: SamplePortfolio, first: pd.Timestamp, last: pd.Timestamp
) -> pd.Series:
    """Mean days late (0 when on time) of invoices fully paid in [first, last), by customer id."""
    documents = portfolio.invoices
    invoices = _invoices_only(portfolio).set_index("document_id")
    notes = documents[documents["document_type"] == "credit_note"]
    net = invoices["amount"].add(notes.groupby("reference_id")["amount"].sum(), fill_value=0.0)
    payments = portfolio.payments.groupby("document_id").agg(
        paid=("amount", "sum"), paid_on=("paid_on", "max")
    )
    fully_paid = np.isclose(payments["paid"], net.reindex(payments.index))
    inside = (payments["paid_on"] >= first) & (payments["paid_on"] < last)
    payments = payments[fully_paid & inside]
    paid_invoices = invoices.loc[payments.index]
    days_late = (payments["paid_on"] - paid_invoices["due_on"]).dt.days.clip(lower=0)
    return days_late.groupby(paid_invoices["customer_id"]).mean()


def test_credit_limits_cover_typical_exposure(portfolio: SamplePortfolio) -> None:
    """Low-risk customers get about their typical exposure at the review, riskier ones less."""
    customers = portfolio.customers.set_index("customer_id")
    to_base = _to_base(portfolio)
    # Every review window lies in the 12 months from 18 to 6 months before the end.
    first, last = END - pd.DateOffset(months=18), END - pd.DateOffset(months=6)
    documents = portfolio.invoices
    window = documents[(documents["issued_on"] >= first) & (documents["issued_on"] < last)]
    monthly = window.groupby("customer_id")["amount"].sum() / 12 * to_base
    days_late = _observed_days_late(portfolio, first, last).reindex(customers.index, fill_value=0.0)
    # Terms, days late and the 60-day buffer of the department's review.
    cover = monthly * (customers["payment_terms_days"] + days_late + 60) / 30

    # Customers onboarded before the windows, with a limit inside the bounds.
    limit = customers["credit_limit"] * to_base
    reviewed = (
        (limit > 10_000) & (limit < 5_000_000)
        & (customers["onboarded_on"] < END - pd.DateOffset(months=24))
    )
    ratio = (limit / cover)[reviewed & (cover > 0)]
    assert len(ratio) >= 100
    assert 0.6 <= ratio.median() <= 1.0

    # True PD 9 months before the end stands for the risk known at the review.
    truth = portfolio.true_pd
    at_review = truth[truth["month"] == END - pd.DateOffset(months=9)].set_index("customer_id")
    pd_at_review = at_review["pd_12m_true"].reindex(ratio.index)
    low_risk = ratio[pd_at_review <= pd_at_review.quantile(0.25)]
    high_risk = ratio[pd_at_review >= pd_at_review.quantile(0.75)]
    assert 0.85 <= low_risk.median() <= 1.2
    assert high_risk.median() < 0.7 * low_risk.median()


def test_mean_days_late_fully_paid_in_window() -> None:
    """Days late are averaged over invoices fully paid in the window, with 0 for paying on time."""
    # Customer 0: late 10 days, early, partly paid, paid after the window, and
    # paid 70 days late in two parts net of a credit note. Customer 1 pays only
    # after the window and customer 2 has no invoices.
    due = np.array([110, 150, 150, 190, 100, 120])
    invoices = _Invoices(
        customer=np.array([0, 0, 0, 0, 0, 1]), issued=due - 30, due=due,
        cents=np.full(6, 1000), disputed=np.zeros(6, dtype=bool), paid=due,
        number=np.arange(1, 7),
    )
    settlement = _Settlement(
        credit_note=np.array([4]), credit_note_day=np.array([105]),
        credit_note_cents=np.array([-400]), net_cents=np.array([1000, 1000, 1000, 1000, 600, 1000]),
        payment_invoice=np.array([0, 1, 2, 3, 4, 4, 5]),
        payment_day=np.array([120, 140, 160, 230, 150, 170, 210]),
        payment_cents=np.array([1000, 1000, 500, 1000, 300, 300, 1000]),
    )
    days_late = _mean_days_late(
        invoices, settlement, 3, first_day=np.full(3, 100), last_day=np.full(3, 200)
    )
    assert days_late[0] == pytest.approx((10 + 0 + 70) / 3)
    assert days_late[1] == 0.0
    assert days_late[2] == 0.0


def test_credit_limits_over_limit_share(portfolio: SamplePortfolio) -> None:
    """Between 15 % and 38 % of the customers with a positive limit owe more than it at the end."""
    limit = portfolio.customers.set_index("customer_id")["credit_limit"] * _to_base(portfolio)
    exposure = _open_exposure_at_end(portfolio)
    positive = limit > 0
    assert positive.sum() >= 200
    over = exposure[positive] > limit[positive]
    # The band is above the estimated 5-15 % of a real book because invoicing
    # ignores the limit (see _EXPOSURE_BUFFER_DAYS in the limits module).
    assert 0.15 <= over.mean() <= 0.38


def test_credit_limits_over_limit_by_risk(portfolio: SamplePortfolio) -> None:
    """Customers with a high true PD at the end and recent defaulters are over their limit most."""
    limit = portfolio.customers.set_index("customer_id")["credit_limit"] * _to_base(portfolio)
    positive = limit.index[limit > 0]
    over = (_open_exposure_at_end(portfolio) > limit)[positive]

    truth = portfolio.true_pd
    at_end = truth[truth["month"] == truth["month"].max()].set_index("customer_id")
    pd_at_end = at_end["pd_12m_true"].reindex(positive)
    high_risk = over[pd_at_end >= pd_at_end.quantile(0.75)]
    lower_half = over[pd_at_end <= pd_at_end.median()]
    assert high_risk.mean() >= 2 * lower_half.mean()

    # Customers that defaulted in the last 2 months keep their limit and stop paying.
    defaulted = over[positive.isin(_default_days(portfolio).index)]
    assert len(defaulted) >= 3
    assert defaulted.mean() >= 0.75


def test_thin_file_customers_exist(portfolio: SamplePortfolio) -> None:
    """About 5 % of customers have no statements and fewer than 3 invoices."""
    customers = portfolio.customers["customer_id"]
    invoice_counts = _invoices_only(portfolio)["customer_id"].value_counts()
    no_statements = ~customers.isin(portfolio.financial_statements["customer_id"])
    few_invoices = customers.map(invoice_counts).fillna(0) < 3
    thin = no_statements & few_invoices
    assert thin.sum() >= 5
    assert 0.02 <= thin.mean() <= 0.09
    # Customers without statements are exactly the thin-file ones.
    assert (no_statements == thin).all()


def test_invoices_terms_and_amounts(portfolio: SamplePortfolio) -> None:
    """Invoices are positive, due after their payment terms and in the customer's currency."""
    invoices = _invoices_only(portfolio).merge(
        portfolio.customers[["customer_id", "payment_terms_days", "currency"]],
        on="customer_id", suffixes=("", "_customer"),
    )
    assert set(portfolio.invoices["document_type"]) == set(DOCUMENT_TYPES)
    assert invoices["document_id"].str.fullmatch(r"INV\d{8}").all()
    assert (invoices["amount"] > 0).all()
    terms = (invoices["due_on"] - invoices["issued_on"]).dt.days
    assert (terms == invoices["payment_terms_days"]).all()
    assert (invoices["currency"] == invoices["currency_customer"]).all()
    assert invoices["reference_id"].isna().all()
    disputed_share = invoices["disputed"].mean()
    assert 0.02 <= disputed_share <= 0.07


def test_credit_notes_reference_earlier_invoice(portfolio: SamplePortfolio) -> None:
    """Credit notes are negative, at most their invoice's amount and dated after it."""
    documents = portfolio.invoices
    notes = documents[documents["document_type"] == "credit_note"]
    invoices = _invoices_only(portfolio).set_index("document_id")
    assert 0.015 <= len(notes) / len(invoices) <= 0.05
    assert notes["document_id"].str.fullmatch(r"CRN\d{8}").all()
    assert (notes["amount"] < 0).all()
    referenced = invoices.loc[notes["reference_id"]]
    assert (referenced["customer_id"].to_numpy() == notes["customer_id"].to_numpy()).all()
    assert (referenced["issued_on"].to_numpy() < notes["issued_on"].to_numpy()).all()
    assert (-notes["amount"].to_numpy() <= referenced["amount"].to_numpy()).all()
    assert (notes["currency"].to_numpy() == referenced["currency"].to_numpy()).all()
    assert notes["reference_id"].is_unique


def test_payments_settle_net_amounts(portfolio: SamplePortfolio) -> None:
    """Payments never exceed the invoice net of its credit note and follow the invoice."""
    documents = portfolio.invoices
    invoices = _invoices_only(portfolio).set_index("document_id")
    notes = documents[documents["document_type"] == "credit_note"]
    net = invoices["amount"].add(notes.groupby("reference_id")["amount"].sum(), fill_value=0.0)
    payments = portfolio.payments
    assert payments["payment_id"].str.fullmatch(r"PAY\d{8}").all()
    assert (payments["amount"] > 0).all()
    paid = payments.groupby("document_id")["amount"].sum()
    assert (paid <= net.loc[paid.index] + 1e-6).all()
    settled = paid.index[np.isclose(paid, net.loc[paid.index])]
    assert len(settled) / len(invoices) > 0.85
    paid_invoices = invoices.loc[payments["document_id"]]
    assert (payments["paid_on"].to_numpy() > paid_invoices["issued_on"].to_numpy()).all()
    assert (payments["customer_id"].to_numpy() == paid_invoices["customer_id"].to_numpy()).all()
    assert (payments["currency"].to_numpy() == paid_invoices["currency"].to_numpy()).all()
    # Some invoices are paid in two parts and some are still open at the end.
    assert (payments["document_id"].value_counts() == 2).any()
    assert len(invoices.index.difference(paid.index)) > 0


def test_credit_note_reduces_payment(portfolio: SamplePortfolio) -> None:
    """A settled invoice with a credit note is paid its amount minus the credit note."""
    documents = portfolio.invoices
    notes = documents[documents["document_type"] == "credit_note"].set_index("reference_id")
    invoices = _invoices_only(portfolio).set_index("document_id")
    events = portfolio.credit_events
    defaulted = set(events.loc[events["event_type"] == "default", "customer_id"])
    payments = portfolio.payments
    paid = payments.groupby("document_id")["amount"].sum()
    last_paid = payments.groupby("document_id")["paid_on"].max()
    # A second part comes at most 35 days after the first, so an invoice of a
    # customer that never defaults whose last payment is 40+ days before the
    # end is settled.
    settled = last_paid.index[last_paid < END - pd.Timedelta(days=40)]
    settled = settled[~invoices.loc[settled, "customer_id"].isin(defaulted).to_numpy()]
    both = notes.index.intersection(settled)
    assert len(both) >= 10
    expected = invoices.loc[both, "amount"] + notes.loc[both, "amount"]
    assert np.allclose(paid.loc[both].to_numpy(), expected.to_numpy())
    assert (expected < invoices.loc[both, "amount"]).all()


def test_disputed_invoices_paid_later(portfolio: SamplePortfolio) -> None:
    """Disputed invoices are paid later after their due date than undisputed ones."""
    invoices = _invoices_only(portfolio).set_index("document_id")
    last_paid = portfolio.payments.groupby("document_id")["paid_on"].max()
    paid = invoices.loc[last_paid.index]
    days_late = (last_paid - paid["due_on"]).dt.days
    disputed = paid["disputed"].astype(bool)
    assert days_late[disputed].mean() > days_late[~disputed].mean() + 15


def test_statements_published_after_period_end(portfolio: SamplePortfolio) -> None:
    """Statements end on December 31 and are published 2 to 6 months later."""
    statements = portfolio.financial_statements
    assert ((statements["period_end"].dt.month == 12) & (statements["period_end"].dt.day == 31)).all()
    lag = (statements["published_on"] - statements["period_end"]).dt.days
    assert lag.between(60, 180).all()
    merged = statements.merge(portfolio.customers[["customer_id", "currency"]], on="customer_id")
    assert (merged["currency_x"] == merged["currency_y"]).all()


def test_statements_accounts_consistent(portfolio: SamplePortfolio) -> None:
    """Line items add up: equity, current parts within totals, asset split within current assets."""
    s = portfolio.financial_statements
    assert (s["equity"] == s["total_assets"] - s["total_liabilities"]).all()
    assert (s["current_assets"] <= s["total_assets"]).all()
    assert (s["current_liabilities"] <= s["total_liabilities"]).all()
    parts = s[["cash", "inventory", "receivables"]]
    complete = parts.notna().all(axis=1)
    assert (parts[complete].sum(axis=1) <= s.loc[complete, "current_assets"]).all()
    assert (s["total_assets"] > 0).all()
    assert (s["equity"] < 0).any()


def test_statements_missing_and_zero_values(portfolio: SamplePortfolio) -> None:
    """Optional items are sometimes missing, required ones never, and some denominators are 0."""
    s = portfolio.financial_statements
    for column in ("interest_expense", "operating_profit", "cost_of_sales", "cash", "audited"):
        assert 0.02 <= s[column].isna().mean() <= 0.35, column
    for column in ("revenue", "total_assets", "total_liabilities", "equity"):
        assert s[column].notna().all(), column
    assert (s["interest_expense"] == 0).any()
    assert (s["current_liabilities"] == 0).any() or (s["revenue"] == 0).any()


def test_statements_stale_files_exist(portfolio: SamplePortfolio) -> None:
    """Some customers with statements have none published in the last 18 months."""
    statements = portfolio.financial_statements
    latest = statements.groupby("customer_id")["published_on"].max()
    stale = latest < END - pd.DateOffset(months=18)
    assert stale.sum() >= 3


def test_fx_rates_cover_foreign_documents(portfolio: SamplePortfolio) -> None:
    """USD has a monthly rate around 7.0-7.3 on or before every USD document date."""
    rates = portfolio.fx_rates
    assert set(rates["currency"]) == {"USD"}
    assert rates["rate_to_base"].between(7.0, 7.3).all()
    assert (rates["rate_on"].dt.day == 1).all()
    assert rates["rate_on"].is_monotonic_increasing
    assert rates["rate_to_base"].nunique() > 5
    first_rate = rates["rate_on"].min()
    document_dates = {
        "invoices": "issued_on", "payments": "paid_on", "financial_statements": "period_end",
    }
    for name, column in document_dates.items():
        frame = portfolio.tables[name]
        foreign = frame[frame["currency"] == "USD"]
        assert len(foreign) > 0, name
        assert (foreign[column] >= first_rate).all(), name
    foreign_customers = portfolio.customers.loc[portfolio.customers["currency"] == "USD", "customer_id"]
    events = portfolio.credit_events
    assert (events.loc[events["customer_id"].isin(foreign_customers), "event_on"] >= first_rate).all()
    months = set(rates["rate_on"])
    expected = pd.date_range(first_rate, END, freq="MS", inclusive="left")
    assert months == set(expected)


def test_generate_portfolio_usd_base_currency() -> None:
    """With USD as the base currency the foreign currency is CNY at about 1/7.15."""
    generated = generate_portfolio(
        customers=40, months=12, seed=3, start=START, base_currency="USD"
    )
    assert set(generated.customers["currency"]) <= {"USD", "CNY"}
    assert set(generated.fx_rates["currency"]) == {"CNY"}
    # Rates are rounded to 6 decimals after inverting.
    assert generated.fx_rates["rate_to_base"].between(1 / 7.3 - 1e-6, 1 / 7.0 + 1e-6).all()
    assert generated.base_currency == "USD"


def test_generate_portfolio_no_record_after_end(portfolio: SamplePortfolio) -> None:
    """Record dates lie in [start - 60 months, end), and documents start at ``start``."""
    earliest = pd.Timestamp(START) - pd.DateOffset(months=60)
    assert portfolio.end == END.date()
    for name, columns in RECORD_DATES.items():
        frame = portfolio.tables[name]
        for column in columns:
            assert (frame[column] < END).all(), (name, column)
            assert (frame[column] >= earliest).all(), (name, column)
    for name, column in (("invoices", "issued_on"), ("payments", "paid_on"), ("credit_events", "event_on")):
        assert (portfolio.tables[name][column] >= pd.Timestamp(START)).all(), name


def test_generate_portfolio_records_after_onboarding(portfolio: SamplePortfolio) -> None:
    """Invoices and credit events of a customer are dated on or after its onboarding."""
    onboarded = portfolio.customers.set_index("customer_id")["onboarded_on"]
    invoices = portfolio.invoices
    assert (invoices["issued_on"] >= invoices["customer_id"].map(onboarded)).all()
    events = portfolio.credit_events
    assert (events["event_on"] > events["customer_id"].map(onboarded)).all()


# ---------------------------------------------------------------------------
# Defaults, bad rate and true PD


def test_defaulted_customers_stop_trading(portfolio: SamplePortfolio) -> None:
    """After a default there are no invoices, payments or statements, and recent invoices stay unpaid."""
    events = portfolio.credit_events
    assert set(events["event_type"]) <= set(CREDIT_EVENT_TYPES)
    assert {"default", "legal_action"} <= set(events["event_type"])
    defaults = events[events["event_type"] == "default"].set_index("customer_id")["event_on"]
    assert defaults.index.is_unique
    assert len(defaults) >= 10
    for name, column in (("invoices", "issued_on"), ("payments", "paid_on"), ("financial_statements", "published_on")):
        frame = portfolio.tables[name]
        default_on = frame["customer_id"].map(defaults)
        assert not (frame[column] >= default_on).any(), name
    # Write-offs and bankruptcies follow a default of the same customer.
    follow = events[events["event_type"].isin(["write_off", "bankruptcy"])]
    assert (follow["event_on"] > follow["customer_id"].map(defaults)).all()
    # Invoices of defaulted customers issued shortly before the default stay unpaid.
    invoices = _invoices_only(portfolio)
    paid = set(portfolio.payments["document_id"])
    before = invoices[invoices["customer_id"].map(defaults) - invoices["issued_on"] < pd.Timedelta(days=60)]
    assert len(before) > 0
    assert not before["document_id"].isin(paid).any()


def test_stress_events_without_default(portfolio: SamplePortfolio) -> None:
    """Some legal actions or restructurings hit customers that never default."""
    events = portfolio.credit_events
    defaulted = set(events.loc[events["event_type"] == "default", "customer_id"])
    stress = events[events["event_type"].isin(["legal_action", "restructuring"])]
    assert (~stress["customer_id"].isin(defaulted)).sum() >= 1


def test_bad_share_in_band(portfolio: SamplePortfolio) -> None:
    """About 6-10 % of customer-months go bad within 12 months under the params.yaml definition."""
    share = _observed_bad_share(portfolio)
    assert 0.05 <= share <= 0.11


def test_true_pd_range_and_rows(portfolio: SamplePortfolio) -> None:
    """True PD lies in [0, 1], on month starts after onboarding and up to the default."""
    truth = portfolio.true_pd
    assert list(truth.columns) == list(TRUE_PD_COLUMNS)
    assert truth["pd_12m_true"].between(0.0, 1.0).all()
    assert truth["pd_12m_true"].notna().all()
    assert (truth["month"].dt.day == 1).all()
    assert truth["month"].min() >= pd.Timestamp(START)
    assert truth["month"].max() < END
    onboarded = truth["customer_id"].map(portfolio.customers.set_index("customer_id")["onboarded_on"])
    assert (truth["month"] > onboarded).all()
    defaulted = truth["defaulted_by"].notna()
    assert (truth.loc[defaulted, "month"] <= truth.loc[defaulted, "defaulted_by"]).all()
    assert not truth.duplicated(["customer_id", "month"]).any()


def test_true_pd_matches_default_events(portfolio: SamplePortfolio) -> None:
    """``defaulted_by`` equals the default event date, and defaulters had a higher true PD."""
    truth = portfolio.true_pd
    events = portfolio.credit_events
    defaults = events[events["event_type"] == "default"].set_index("customer_id")["event_on"]
    by_customer = truth.groupby("customer_id")["defaulted_by"].first().dropna()
    assert by_customer.sort_index().equals(defaults.sort_index().rename("defaulted_by"))
    defaulted = truth["defaulted_by"].notna()
    assert truth.loc[defaulted, "pd_12m_true"].mean() > 2 * truth.loc[~defaulted, "pd_12m_true"].mean()
    # Months shortly before the default carry the highest true PD of those customers.
    near = defaulted & (truth["defaulted_by"] - truth["month"] < pd.Timedelta(days=180))
    assert truth.loc[near, "pd_12m_true"].mean() > truth.loc[defaulted & ~near, "pd_12m_true"].mean()


def test_true_pd_calibrated_to_default_events(portfolio: SamplePortfolio) -> None:
    """The mean true PD is close to the observed 12-month default-event rate."""
    truth = portfolio.true_pd
    complete = truth["month"] + pd.DateOffset(months=12) <= END
    window = truth.loc[complete]
    defaults_within = window["defaulted_by"] < window["month"] + pd.DateOffset(months=12)
    observed = defaults_within.mean()
    expected = window["pd_12m_true"].mean()
    assert observed == pytest.approx(expected, rel=0.35)


def test_downturn_raises_true_pd(portfolio: SamplePortfolio) -> None:
    """The mean true PD in the last year of the history exceeds the first year's."""
    truth = portfolio.true_pd
    first_year = truth["month"] < pd.Timestamp(START) + pd.DateOffset(months=12)
    last_year = truth["month"] >= END - pd.DateOffset(months=12)
    assert truth.loc[last_year, "pd_12m_true"].mean() > truth.loc[first_year, "pd_12m_true"].mean()


def test_sample_summary_counts(portfolio: SamplePortfolio) -> None:
    """The summary counts rows per table and the notable cases."""
    summary = sample_summary(portfolio)
    for name in TABLE_ORDER:
        assert summary[name] == len(portfolio.tables[name])
    assert summary["customers"] == 300
    assert summary["credit_notes"] == (portfolio.invoices["document_type"] == "credit_note").sum()
    assert summary["thin_file_customers"] >= 5
    assert summary["defaulted_customers"] >= 10
    assert summary["groups"] == portfolio.customers["group_id"].nunique()
    assert 0.0 < summary["mean_true_pd"] < 1.0
    assert summary["start"] == "2022-01-01"
    assert summary["end"] == "2025-01-01"


# ---------------------------------------------------------------------------
# Parameters


def test_sample_params_from_mapping() -> None:
    """The params.yaml section validates into typed parameters."""
    params = SampleParams.from_mapping(
        {"customers": 3000, "months": 48, "seed": 20261204, "start": "2022-01-01"}
    )
    assert params == SampleParams(
        customers=3000, months=48, seed=20261204, start=datetime.date(2022, 1, 1),
        base_currency="CNY",
    )
    with_currency = SampleParams.from_mapping(
        {"customers": 10, "months": 12, "seed": 0, "start": datetime.date(2020, 5, 1),
         "base_currency": "USD"}
    )
    assert with_currency.base_currency == "USD"


@pytest.mark.parametrize(
    ("changes", "english", "chinese"),
    [
        ({"customers": 5}, r"sample\.customers must be a whole number from 10 to 1,000,000; got 5",
         r"sample\.customers 必须是 10 到 1,000,000 之间的整数，实际为 5"),
        ({"customers": True}, r"sample\.customers must be a whole number .*; got True",
         r"sample\.customers 必须是.*实际为 True"),
        ({"months": 6}, r"sample\.months must be a whole number from 12 to 240; got 6",
         r"sample\.months 必须是 12 到 240 之间的整数"),
        ({"months": "48"}, r"sample\.months must be a whole number .*; got '48'",
         r"sample\.months 必须是.*实际为 '48'"),
        ({"seed": -1}, r"sample\.seed must be a whole number from 0 to .*; got -1",
         r"sample\.seed 必须是 0 到"),
        ({"start": "2022-01-15"}, r"sample\.start must be the first day of a month .*got '2022-01-15'",
         r"sample\.start 必须是某月的第一天.*'2022-01-15'"),
        ({"start": "01/01/2022"}, r"sample\.start must be the first day .*got '01/01/2022'",
         r"sample\.start 必须是某月的第一天"),
        ({"start": "20220101"}, r"sample\.start must be .*got '20220101'",
         r"sample\.start 必须是某月的第一天"),
        ({"start": datetime.datetime(2022, 1, 1)}, r"sample\.start must be the first day",
         r"sample\.start 必须是某月的第一天"),
        ({"base_currency": "cny"}, r"data\.base_currency must be a three-letter ISO 4217 code .*got 'cny'",
         r"data\.base_currency 必须是三个大写字母的 ISO 4217 货币代码.*'cny'"),
        ({"seeds": 1}, r"unknown keys \['seeds'\].*known keys are",
         r"含有未知的键 \['seeds'\]"),
    ],
)
def test_sample_params_rejects_invalid(changes: dict, english: str, chinese: str) -> None:
    """Invalid values raise ParamsError naming the key, the rule and the value, in both locales."""
    mapping = {"customers": 300, "months": 36, "seed": 1, "start": "2022-01-01", **changes}
    with pytest.raises(ParamsError, match=english):
        SampleParams.from_mapping(mapping)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=chinese):
        SampleParams.from_mapping(mapping)


def test_sample_params_missing_key() -> None:
    """A missing key and a section that is not a mapping raise ParamsError in both locales."""
    mapping = {"customers": 300, "months": 36, "start": "2022-01-01"}
    with pytest.raises(ParamsError, match=r"has no 'seed'\. Add it"):
        SampleParams.from_mapping(mapping)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"缺少“seed”"):
        SampleParams.from_mapping(mapping)
    with pytest.raises(ParamsError, match=r"must be a mapping of keys to values; got \[1, 2\]"):
        SampleParams.from_mapping([1, 2])
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"必须是键值映射"):
        SampleParams.from_mapping([1, 2])


def test_generate_portfolio_validates_arguments() -> None:
    """generate_portfolio checks its keyword arguments before generating anything."""
    with pytest.raises(ParamsError, match=r"sample\.customers must be a whole number"):
        generate_portfolio(customers=0, months=24, seed=1, start=START)
    with pytest.raises(ParamsError, match=r"sample\.start must be the first day of a month"):
        generate_portfolio(customers=20, months=24, seed=1, start=datetime.date(2022, 1, 2))


@pytest.mark.parametrize("value", [0.06, -0.001, True, "0.01", float("nan"), None])
def test_sample_params_rejects_invalid_dirty_share(value: object) -> None:
    """A dirty share outside [0, 0.05] or not a number raises ParamsError in both locales."""
    mapping = {"customers": 300, "months": 36, "seed": 1, "start": "2022-01-01", "dirty_share": value}
    with pytest.raises(ParamsError, match=r"sample\.dirty_share must be a number from 0 to 0\.05; got"):
        SampleParams.from_mapping(mapping)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"sample\.dirty_share 必须是 0 到 0\.05 之间的数字"):
        SampleParams.from_mapping(mapping)
    with pytest.raises(ParamsError, match=r"sample\.dirty_share must be"):
        generate_portfolio(customers=20, months=12, seed=1, start=START, dirty_share=value)


def test_sample_params_dirty_share_optional() -> None:
    """dirty_share defaults to 0 and accepts the bounds 0 and 0.05."""
    base = {"customers": 300, "months": 36, "seed": 1, "start": "2022-01-01"}
    assert SampleParams.from_mapping(base).dirty_share == 0.0
    assert SampleParams.from_mapping({**base, "dirty_share": 0}).dirty_share == 0
    assert SampleParams.from_mapping({**base, "dirty_share": 0.05}).dirty_share == 0.05


# ---------------------------------------------------------------------------
# Injected faults


def _without_faults(portfolio: SamplePortfolio, name: str) -> pd.DataFrame:
    ledger = portfolio.injected_faults
    rows = ledger.loc[(ledger["table"] == name) & ~ledger["csv_only"], "row"]
    return portfolio.tables[name].drop(index=rows.to_numpy()).reset_index(drop=True)


def test_injected_faults_leave_clean_rows(portfolio: SamplePortfolio, dirty_portfolio: SamplePortfolio) -> None:
    """Removing the listed faulty rows gives back the clean tables, row for row."""
    assert portfolio.injected_faults.empty
    assert portfolio.csv_only_rows == {}
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(_without_faults(dirty_portfolio, name), portfolio.tables[name])
    pd.testing.assert_frame_equal(dirty_portfolio.true_pd, portfolio.true_pd)


def test_injected_faults_every_kind(dirty_portfolio: SamplePortfolio) -> None:
    """Each table gets its kinds, about dirty_share of its rows, and the listed rows are faulty."""
    ledger = dirty_portfolio.injected_faults
    in_table = ledger[~ledger["csv_only"]]
    assert set(in_table["kind"]) == set(FAULT_KINDS)
    assert set(ledger.loc[ledger["csv_only"], "kind"]) == set(CSV_ONLY_FAULT_KINDS)
    assert set(ledger["table"]) == {"customers", "financial_statements", "invoices", "payments"}
    for name in ("invoices", "payments"):
        share = (in_table["table"] == name).sum() / len(dirty_portfolio.tables[name])
        assert share == pytest.approx(DIRTY_SHARE, rel=0.2), name
    invoices = dirty_portfolio.invoices
    rows = in_table[in_table["table"] == "invoices"].groupby("kind")["row"].apply(list)
    assert (invoices.loc[rows["unknown_currency"], "currency"] == "XYZ").all()
    assert (invoices.loc[rows["negative_invoice_amount"], "amount"] < 0).all()
    faulty = invoices.loc[rows["due_before_issue"]]
    assert (faulty["due_on"] < faulty["issued_on"]).all()
    known = set(_without_faults(dirty_portfolio, "customers")["customer_id"])
    assert not invoices.loc[rows["unknown_customer"], "customer_id"].isin(known).any()
    copies = invoices.loc[rows["exact_duplicate"]]
    assert len(copies.merge(invoices.drop(index=rows["exact_duplicate"]))) == len(copies)


def test_validation_quarantines_injected_faults(
    dirty_portfolio: SamplePortfolio, validated: dict[str, ValidationResult]
) -> None:
    """In Parquet every faulty row is quarantined with its kind as reason, or dropped as a copy."""
    result = validated["parquet"]
    ledger = dirty_portfolio.injected_faults
    in_table = ledger[~ledger["csv_only"]]
    for name in TABLE_ORDER:
        faults = in_table[in_table["table"] == name]
        counts = result.counts[name]
        copies = faults[faults["kind"] == "exact_duplicate"]
        others = faults[faults["kind"] != "exact_duplicate"]
        assert counts.dropped == ({"exact_duplicate": len(copies)} if len(copies) else {}), name
        assert counts.quarantined == others["kind"].value_counts().to_dict(), name
        quarantine = result.quarantine[name].set_index("source_row")
        # Parquet rows are numbered from 1 in file order.
        reasons = quarantine.loc[others["row"].to_numpy() + 1, "reason_code"]
        assert (reasons.to_numpy() == others["kind"].to_numpy()).all(), name
        assert counts.quarantined_share < 0.05, name


def test_validation_keeps_clean_rows(validated: dict[str, ValidationResult]) -> None:
    """Validation of the dirty tables accepts the same rows as validation of the clean ones."""
    for file_format in ("parquet", "csv"):
        for name in TABLE_ORDER:
            pd.testing.assert_frame_equal(
                validated[file_format].clean[name], validated["clean"].clean[name], obj=name
            )


def test_validation_quarantines_csv_only_rows(
    dirty_portfolio: SamplePortfolio, validated: dict[str, ValidationResult]
) -> None:
    """In CSV the text dates and amounts are quarantined on the lines they were written to."""
    result = validated["csv"]
    ledger = dirty_portfolio.injected_faults
    for name, text_rows in dirty_portfolio.csv_only_rows.items():
        in_table = ledger[(ledger["table"] == name) & ~ledger["csv_only"]]
        expected = in_table["kind"].value_counts().drop("exact_duplicate")
        expected = expected.add(text_rows.groupby(_csv_kind(name, text_rows)).size(), fill_value=0)
        assert result.counts[name].quarantined == expected.astype(int).to_dict(), name
        # The k-th text row comes after the header line and k earlier text rows.
        lines = text_rows["before_row"].to_numpy() + np.arange(len(text_rows)) + 2
        quarantine = result.quarantine[name].set_index("source_row")
        reasons = quarantine.loc[lines, "reason_code"].to_numpy()
        assert (reasons == _csv_kind(name, text_rows).to_numpy()).all(), name
    for name in ("invoices", "payments"):
        values = result.quarantine[name]["value"]
        assert values.str.fullmatch(r"\d{2}/\d{2}/\d{4}").any(), name
        assert values.str.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d{2}").any(), name


def _csv_kind(name: str, text_rows: pd.DataFrame) -> pd.Series:
    date_column = "issued_on" if name == "invoices" else "paid_on"
    is_date = text_rows[date_column].str.contains("/", regex=False)
    return pd.Series(np.where(is_date, "invalid_date", "invalid_number"), index=text_rows.index)


def test_write_portfolio_counts_csv_only_rows(dirty_portfolio: SamplePortfolio, tmp_path: Path) -> None:
    """CSV files hold the CSV-only rows on top of the frame rows, Parquet files do not."""
    csv_counts = write_portfolio(dirty_portfolio, tmp_path / "csv", file_format="csv")
    parquet_counts = write_portfolio(dirty_portfolio, tmp_path / "parquet")
    for name in TABLE_ORDER:
        extra = len(dirty_portfolio.csv_only_rows.get(name, []))
        assert parquet_counts[name] == len(dirty_portfolio.tables[name]), name
        assert csv_counts[name] == len(dirty_portfolio.tables[name]) + extra, name
        lines = (tmp_path / "csv" / f"{name}.csv").read_text(encoding="utf-8").count("\n")
        assert lines == csv_counts[name] + 1, name
    invoices = (tmp_path / "csv" / "invoices.csv").read_text(encoding="utf-8")
    assert invoices.count('"document_id"') == 1


def test_sample_summary_counts_faults(portfolio: SamplePortfolio, dirty_portfolio: SamplePortfolio) -> None:
    """The summary counts injected rows per kind and leaves them out of the notable cases."""
    clean, dirty = sample_summary(portfolio), sample_summary(dirty_portfolio)
    ledger = dirty_portfolio.injected_faults
    for kind in FAULT_KINDS:
        assert clean[f"injected_{kind}"] == 0
        assert dirty[f"injected_{kind}"] == ((ledger["kind"] == kind) & ~ledger["csv_only"]).sum() > 0
    for kind in CSV_ONLY_FAULT_KINDS:
        assert dirty[f"injected_{kind}_csv_only"] == ((ledger["kind"] == kind) & ledger["csv_only"]).sum() > 0
    for name in TABLE_ORDER:
        assert dirty[name] == len(dirty_portfolio.tables[name])
    for key in ("credit_notes", "disputed_invoices", "foreign_currency_customers",
                "thin_file_customers", "defaulted_customers", "locked_limits", "groups"):
        assert dirty[key] == clean[key], key


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_validation_passes_small_dirty_portfolio(tmp_path: Path, file_format: str) -> None:
    """At the largest dirty share a small portfolio stays under max_reject_share 0.05."""
    small = generate_portfolio(customers=40, months=12, seed=5, start=START, dirty_share=0.05)
    result = _validate_written(small, tmp_path, file_format)
    for name, counts in result.counts.items():
        assert counts.quarantined_share < 0.05, name
    assert result.counts["invoices"].quarantined_total > 0
