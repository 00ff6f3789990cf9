"""The canonical input tables read from PostgreSQL validate exactly like the same tables from files."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from creditlimit.pipelines import validate
from postgres import postgres_url  # noqa: F401 - fixture
from repo_params import REPO

REPO_PARAMS = REPO / "params.yaml"
TABLES = ("fx_rates", "customers", "financial_statements", "invoices", "payments", "credit_events")


def test_validate_reads_postgres_like_files(postgres_url, tmp_path):
    raw = tmp_path / "raw"
    subprocess.run([str(Path(sys.executable).parent / "creditlimit"), "sample", "--out", str(raw),
                    "--customers", "60", "--months", "18", "--params", str(REPO_PARAMS)],
                   check=True, capture_output=True)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        for table in TABLES:
            pd.read_parquet(raw / f"{table}.parquet").to_sql(table, connection, index=False)
    engine.dispose()

    validate.run(params_path=REPO_PARAMS, raw_dir=raw, out_dir=tmp_path / "from_files")
    validate.run(params_path=REPO_PARAMS, raw_dir=postgres_url, out_dir=tmp_path / "from_postgres")

    counts = [json.loads((tmp_path / name / "validation_report.json").read_text())["tables"]
              for name in ("from_files", "from_postgres")]
    for table in TABLES:
        for key in ("rows_in", "accepted", "quarantined"):
            assert counts[0][table][key] == counts[1][table][key], (table, key)
    for table in TABLES:
        from_files = pd.read_parquet(tmp_path / "from_files" / "clean" / f"{table}.parquet")
        from_postgres = pd.read_parquet(tmp_path / "from_postgres" / "clean" / f"{table}.parquet")
        key = from_files.columns[0]
        pd.testing.assert_frame_equal(from_files.sort_values(list(from_files.columns[:2])).reset_index(drop=True),
                                      from_postgres.sort_values(list(from_files.columns[:2])).reset_index(drop=True),
                                      check_dtype=False, obj=f"{table} by {key}")


def test_database_url_detection():
    assert validate.is_database_url("postgresql+psycopg://u:p@localhost:5432/db")
    assert validate.is_database_url("sqlite:///data/raw.db")
    assert not validate.is_database_url("data/raw/sample")
    assert not validate.is_database_url(str(Path("C:/raw")))
