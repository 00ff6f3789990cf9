"""Tests for the IBM accounts-receivable adapter, on small CSV files and on the real ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.adapters.ibm_ar import IBM_DATE_FORMAT, convert_ibm_ar, write_canonical
from creditlimit.features.contract import TABLE_ORDER, TABLES
from creditlimit.features.labels import LabelDefinition, build_labels, training_table
from creditlimit.features.snapshots import build_features, monthly_as_of_dates
from creditlimit.features.tables import connect_tables
from creditlimit.i18n import use_locale

REPO_ROOT = Path(__file__).resolve().parents[2]
IBM_CSV = REPO_ROOT.parent / "shared" / "data" / "ibm_accounts_receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"

HEADER = ("countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,"
          "SettledDate,PaperlessBill,DaysToSettle,DaysLate")
ROWS = [
    "391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0",
    "406,8976-AMJEO,3/3/2012,0007900770,1/26/2013,2/25/2013,61.74,Yes,3/3/2013,Electronic,36,6",
    "406,8976-AMJEO,3/3/2012,0007900771,11/20/2013,12/20/2013,10.00,No,,Electronic,,",
]


def write_csv(tmp_path: Path, rows: list[str], header: str = HEADER, encoding: str = "utf-8") -> Path:
    path = tmp_path / "ledger.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def test_convert_ibm_ar_small_file(tmp_path):
    """Rows map to customers, invoices and settled-invoice payments with the documented values."""
    tables = convert_ibm_ar(write_csv(tmp_path, ROWS), currency="USD")
    assert list(tables) == list(TABLE_ORDER)
    invoices = tables["invoices"].set_index("document_id")
    assert list(invoices.index) == ["0000611365", "0007900770", "0007900771"]
    assert invoices.at["0007900770", "issued_on"] == pd.Timestamp("2013-01-26")
    assert invoices.at["0007900770", "due_on"] == pd.Timestamp("2013-02-25")
    assert invoices.at["0007900770", "amount"] == 61.74
    assert bool(invoices.at["0007900770", "disputed"])
    assert (invoices["document_type"] == "invoice").all()
    assert (invoices["currency"] == "USD").all()
    assert invoices["reference_id"].isna().all()

    payments = tables["payments"]
    assert list(payments["payment_id"]) == ["P0000611365", "P0007900770"]  # the third is not settled
    assert list(payments["document_id"]) == ["0000611365", "0007900770"]
    assert list(payments["paid_on"]) == [pd.Timestamp("2013-01-15"), pd.Timestamp("2013-03-03")]
    assert list(payments["amount"]) == [55.94, 61.74]

    customers = tables["customers"].set_index("customer_id")
    assert customers.at["8976-AMJEO", "onboarded_on"] == pd.Timestamp("2013-01-26")
    assert customers.at["8976-AMJEO", "region"] == "406"
    assert customers.at["8976-AMJEO", "payment_terms_days"] == 30
    assert (customers["industry"] == "unknown").all()
    assert customers["credit_limit"].isna().all()
    for name in ("financial_statements", "credit_events", "fx_rates"):
        assert tables[name].empty
    for name, frame in tables.items():
        assert list(frame.columns) == list(TABLES[name].columns), name


def test_convert_ibm_ar_dtypes(tmp_path):
    """Dates are datetime64[us], ids text, amounts float64, terms int64."""
    tables = convert_ibm_ar(write_csv(tmp_path, ROWS), currency="USD")
    assert tables["invoices"]["issued_on"].dtype == "datetime64[us]"
    assert tables["invoices"]["document_id"].dtype == object
    assert tables["invoices"]["amount"].dtype == np.float64
    assert tables["customers"]["payment_terms_days"].dtype == np.int64
    assert tables["financial_statements"]["period_end"].dtype == "datetime64[us]"
    assert str(tables["invoices"]["disputed"].dtype) == "boolean"


@pytest.mark.parametrize("value", ["13/01/2013", "2013-01-02", "1/2/13", "Jan 2 2013"])
def test_convert_ibm_ar_rejects_other_date_formats(tmp_path, value):
    """A date not in M/D/YYYY raises InputDataError naming file, row, column and value."""
    rows = [ROWS[0], ROWS[1].replace("1/26/2013", value, 1)]
    path = write_csv(tmp_path, rows)
    with pytest.raises(InputDataError, match=rf"ledger\.csv, row 3, column 'InvoiceDate': '{value}' is not a date "
                                             r"in the format M/D/YYYY \(month first\) \(1 row\(s\) in all\)"):
        convert_ibm_ar(path, currency="USD")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=rf"第 3 行“InvoiceDate”列：“{value}”不是 M/D/YYYY"):
        convert_ibm_ar(path, currency="USD")


def test_convert_ibm_ar_date_format_is_month_first():
    """The adapter's format reads 2/1/2013 as 1 February."""
    assert dt.datetime.strptime("2/1/2013", IBM_DATE_FORMAT).date() == dt.date(2013, 2, 1)


def test_convert_ibm_ar_invalid_settled_date(tmp_path):
    """An unparseable SettledDate is an error, while a blank one means not settled."""
    path = write_csv(tmp_path, [ROWS[0].replace("1/15/2013", "1/32/2013")])
    with pytest.raises(InputDataError, match="row 2, column 'SettledDate': '1/32/2013'"):
        convert_ibm_ar(path, currency="USD")


def test_convert_ibm_ar_invalid_amount(tmp_path):
    """An amount with a thousands separator raises InputDataError with the value and the fix."""
    path = write_csv(tmp_path, [ROWS[0], ROWS[1].replace("61.74", '"1,061.74"')])
    with pytest.raises(InputDataError, match=r"row 3, column 'InvoiceAmount': '1,061.74' is not a finite number.*"
                                             r"no thousands separator"):
        convert_ibm_ar(path, currency="USD")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="“1,061.74”不是有限数值"):
        convert_ibm_ar(path, currency="USD")


def test_convert_ibm_ar_invalid_flag(tmp_path):
    """A Disputed value other than Yes/No raises InputDataError."""
    path = write_csv(tmp_path, [ROWS[0].replace(",No,", ",Maybe,")])
    with pytest.raises(InputDataError, match="row 2, column 'Disputed': 'Maybe' is not Yes or No"):
        convert_ibm_ar(path, currency="USD")


def test_convert_ibm_ar_missing_value_and_column(tmp_path):
    """A blank customerID and a missing DueDate column are named in the errors."""
    path = write_csv(tmp_path, [ROWS[0], ROWS[1].replace("8976-AMJEO", "")])
    with pytest.raises(InputDataError, match=r"row 3, column 'customerID': the value is missing \(1 row\(s\) in all\)"):
        convert_ibm_ar(path, currency="USD")
    header = HEADER.replace("DueDate,", "")
    rows = [",".join(r.split(",")[:5] + r.split(",")[6:]) for r in ROWS]
    path = write_csv(tmp_path, rows, header=header)
    with pytest.raises(InputDataError, match="ledger.csv: required column 'DueDate' is missing"):
        convert_ibm_ar(path, currency="USD")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="缺少必需列“DueDate”"):
        convert_ibm_ar(path, currency="USD")


def test_convert_ibm_ar_unreadable_files(tmp_path):
    """An empty file or one not in UTF-8 raises InputDataError saying to save as UTF-8."""
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputDataError, match="empty.csv: the file cannot be read as a UTF-8 CSV"):
        convert_ibm_ar(empty, currency="USD")
    latin = write_csv(tmp_path, [ROWS[0].replace("0379-NEVHP", "0379-NÉVHP")], encoding="latin-1")
    with pytest.raises(InputDataError, match="UnicodeDecodeError.*Save it as UTF-8 CSV"):
        convert_ibm_ar(latin, currency="USD")


@pytest.mark.parametrize("currency", ["usd", "US", "", None])
def test_convert_ibm_ar_invalid_currency(tmp_path, currency):
    """The currency must be a three-letter upper-case code."""
    with pytest.raises(ParamsError, match="currency must be a three-letter ISO 4217 code"):
        convert_ibm_ar(write_csv(tmp_path, ROWS), currency=currency)


def test_write_canonical_round_trip(tmp_path):
    """Written CSV files hold contract columns, ISO dates, text ids and empty missing cells."""
    tables = convert_ibm_ar(write_csv(tmp_path, ROWS), currency="USD")
    written = write_canonical(tables, tmp_path / "raw")
    assert sorted(path.name for path in (tmp_path / "raw").iterdir()) == sorted(f"{t}.csv" for t in TABLE_ORDER)
    assert written["invoices"] == tmp_path / "raw" / "invoices.csv"
    invoices = pd.read_csv(written["invoices"], dtype=str, keep_default_na=False)
    assert list(invoices.columns) == list(TABLES["invoices"].columns)
    assert list(invoices["document_id"]) == ["0000611365", "0007900770", "0007900771"]
    assert list(invoices["issued_on"]) == ["2013-01-02", "2013-01-26", "2013-11-20"]
    assert list(invoices["disputed"]) == ["false", "true", "false"]
    assert list(invoices["amount"]) == ["55.94", "61.74", "10.0"]
    assert (invoices["reference_id"] == "").all()
    customers = pd.read_csv(written["customers"], dtype=str, keep_default_na=False)
    assert list(customers["payment_terms_days"]) == ["30", "30"]
    assert (customers["credit_limit"] == "").all()
    assert (customers["limit_locked"] == "").all()
    statements = (tmp_path / "raw" / "financial_statements.csv").read_text(encoding="utf-8")
    assert statements == ",".join(TABLES["financial_statements"].columns) + "\n"


def test_write_canonical_missing_table_or_column(tmp_path):
    """A missing table or required column raises InputDataError before anything is written."""
    tables = convert_ibm_ar(write_csv(tmp_path, ROWS), currency="USD")
    without = {name: frame for name, frame in tables.items() if name != "fx_rates"}
    with pytest.raises(InputDataError, match="Table 'fx_rates' is missing from the tables to write"):
        write_canonical(without, tmp_path / "raw")
    assert not (tmp_path / "raw").exists()
    broken = {**tables, "payments": tables["payments"].drop(columns=["paid_on"])}
    with pytest.raises(InputDataError, match="Table 'payments' lacks required column 'paid_on'"):
        write_canonical(broken, tmp_path / "raw2")


# The real ledger. Facts checked against SOURCE.md of the shared data set.
needs_ledger = pytest.mark.skipif(not IBM_CSV.is_file(), reason=f"IBM ledger not found at {IBM_CSV}")


@pytest.fixture(scope="module")
def ibm_tables() -> dict[str, pd.DataFrame]:
    return convert_ibm_ar(IBM_CSV, currency="USD")


@needs_ledger
def test_ibm_ledger_counts(ibm_tables):
    """2,466 invoices (numbers unique, zeros kept) for 100 customers, every one settled."""
    invoices, payments, customers = ibm_tables["invoices"], ibm_tables["payments"], ibm_tables["customers"]
    assert len(invoices) == 2466
    assert invoices["document_id"].is_unique
    assert invoices["document_id"].str.len().eq(10).all()
    assert "0000611365" in set(invoices["document_id"])
    assert len(customers) == 100
    assert len(payments) == 2466
    assert int(invoices["disputed"].sum()) == 561
    assert invoices["amount"].mean() == pytest.approx(59.90, abs=0.005)
    assert invoices["amount"].min() == 5.26
    assert invoices["amount"].max() == 128.28
    assert invoices["issued_on"].min() == pd.Timestamp("2012-01-03")
    assert invoices["issued_on"].max() == pd.Timestamp("2013-12-02")
    assert payments["paid_on"].min() == pd.Timestamp("2012-01-13")
    assert payments["paid_on"].max() == pd.Timestamp("2014-01-09")
    assert (customers["payment_terms_days"] == 30).all()
    regions = invoices.merge(customers[["customer_id", "region"]], on="customer_id")["region"].value_counts()
    assert regions.to_dict() == {"391": 616, "406": 561, "770": 506, "897": 396, "818": 387}


@needs_ledger
def test_ibm_ledger_days_late_match_dates(ibm_tables):
    """DaysLate of the ledger equals max(0, paid_on - due_on) of the converted tables on every row."""
    ledger = pd.read_csv(IBM_CSV, dtype=str, keep_default_na=False)
    merged = ibm_tables["invoices"].merge(ibm_tables["payments"][["document_id", "paid_on"]], on="document_id")
    days_late = (merged["paid_on"] - merged["due_on"]).dt.days.clip(lower=0)
    expected = ledger.set_index("invoiceNumber")["DaysLate"].astype(int)
    assert len(merged) == 2466
    assert (days_late.to_numpy() == expected.loc[merged["document_id"]].to_numpy()).all()
    assert int((days_late > 0).sum()) == 877


def _direct_labels(tables, snapshot_keys, *, dpd, horizon_months, observation_end):
    """Label IBM snapshots in pandas: one full payment per invoice makes the rule simple."""
    invoices = tables["invoices"].merge(tables["payments"][["document_id", "paid_on"]], on="document_id")
    reached = invoices["due_on"] + pd.Timedelta(days=dpd)
    # Open at the start of the day the threshold is reached: not paid before that day.
    invoices = invoices.assign(reached_on=reached, open_on_reached=invoices["paid_on"] >= reached)
    rows = []
    for customer_id, as_of in snapshot_keys.itertuples(index=False):
        window_end = as_of + pd.DateOffset(months=horizon_months)
        if window_end > pd.Timestamp(observation_end):
            continue
        own = invoices[invoices["customer_id"] == customer_id]
        is_bad = (own["open_on_reached"] & (own["reached_on"] >= as_of) & (own["reached_on"] < window_end)).any()
        in_default = ((own["issued_on"] < as_of) & (own["reached_on"] <= as_of) & (own["paid_on"] >= as_of)).any()
        rows.append((customer_id, as_of, int(is_bad), bool(in_default)))
    return pd.DataFrame(rows, columns=["customer_id", "as_of", "is_bad", "in_default_at_as_of"])


@needs_ledger
@pytest.mark.parametrize("dpd, expected_bad", [(20, 266), (30, 55)])
def test_ibm_ledger_bad_rate(ibm_tables, dpd, expected_bad):
    """Monthly snapshots (min_history_months 1, horizon 6) give the expected bad counts.

    With 20 days the bad rate is about 15 % (0.08 to 0.25); with 30 days there
    are about 50 bad snapshots. The SQL labels equal a direct pandas labelling.
    Golden counts: 1,689 snapshots from 2012-03-01 to 2013-07-01, measured with
    this code and cross-checked by the pandas labelling.
    """
    con = connect_tables(ibm_tables)
    dates, observation_end = monthly_as_of_dates(con, min_history_months=1, horizon_months=6)
    assert dates[0] == dt.date(2012, 3, 1)
    assert dates[-1] == dt.date(2013, 7, 1)
    assert observation_end == dt.date(2014, 1, 10)
    features = build_features(con, dates, max_statement_age_months=24)
    definition = LabelDefinition(horizon_months=6, dpd_threshold=dpd, min_amount=1.0, event_types=())
    labels = build_labels(con, features[["customer_id", "as_of"]], definition=definition,
                          observation_end=observation_end)

    direct = _direct_labels(ibm_tables, features[["customer_id", "as_of"]], dpd=dpd, horizon_months=6,
                            observation_end=observation_end)
    pd.testing.assert_frame_equal(labels, direct.astype({"as_of": "datetime64[us]", "customer_id": object}))
    assert len(labels) == 1689
    assert int(labels["is_bad"].sum()) == expected_bad
    if dpd == 20:
        table, _ = training_table(features, labels)
        assert 0.08 <= table["is_bad"].mean() <= 0.25
        assert 0.08 <= labels["is_bad"].mean() <= 0.25
