"""Tests of the validate stage entry point: outputs on success and on rejection."""

import csv
import datetime as dt

import pytest
import yaml

from creditlimit.errors import InputDataError
from creditlimit.features.synthetic import generate_portfolio, write_portfolio
from creditlimit.pipelines import validate


@pytest.fixture()
def workspace(tmp_path):
    """A raw CSV portfolio and a params file with the validation section."""
    raw = tmp_path / "raw"
    write_portfolio(generate_portfolio(customers=60, months=18, seed=3, start=dt.date(2023, 1, 1)), raw,
                    file_format="csv")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({
        "data": {"raw_dir": str(raw), "base_currency": "CNY"},
        "validation": {"max_reject_share": 0.05},
    }), encoding="utf-8")
    return tmp_path, raw, params


def test_validate_stage_writes_outputs(workspace):
    """A clean run writes clean tables, quarantine files and the report."""
    root, raw, params = workspace
    validate.run(params_path=params, raw_dir=None, out_dir=root / "interim")
    assert (root / "interim" / "clean" / "invoices.parquet").is_file()
    assert (root / "interim" / "quarantine" / "invoices.csv").is_file()
    assert (root / "interim" / "validation_report.json").is_file()


def test_validate_stage_failure_removes_clean_tables(workspace):
    """A run over the reject limit keeps the quarantine but leaves no clean tables to score."""
    root, raw, params = workspace
    out = root / "interim"
    validate.run(params_path=params, raw_dir=raw, out_dir=out)
    assert (out / "clean").is_dir()

    invoices = raw / "invoices.csv"
    with invoices.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        year, month, day = row["issued_on"].split("-")
        row["issued_on"] = f"{int(month)}/{int(day)}/{year}"
    with invoices.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    with pytest.raises(InputDataError, match="invoices"):
        validate.run(params_path=params, raw_dir=raw, out_dir=out)
    assert not (out / "clean").exists()
    assert (out / "quarantine" / "invoices.csv").stat().st_size > 0
