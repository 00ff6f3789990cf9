"""Reading a run for the report: history dates and the run folder."""

import datetime as dt
import json

import pandas as pd
import pytest

from creditlimit.errors import InputDataError
from creditlimit.i18n import use_locale
from creditlimit.reports.inputs import history_dates, read_run


def test_history_dates_end_at_as_of():
    """The window is the month starts before as_of, plus as_of itself when mid-month."""
    assert history_dates(dt.date(2026, 1, 1), 3) == [dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1)]
    assert history_dates(dt.date(2026, 1, 15), 2) == [dt.date(2025, 12, 1), dt.date(2026, 1, 1),
                                                       dt.date(2026, 1, 15)]


def test_read_run_keeps_extra_tables(tmp_path):
    """Every further Parquet file of the run folder is read as an extra table."""
    folder = tmp_path / "as_of=2026-01-01"
    folder.mkdir()
    pd.DataFrame({"customer_id": ["C1"], "grade": ["3"]}).to_parquet(folder / "limits.parquet")
    pd.DataFrame({"from_grade": ["2"], "to_grade": ["3"], "customers": [1]}).to_parquet(
        folder / "grade_migration.parquet")
    (folder / "manifest.json").write_text(json.dumps({"run_id": "r"}), encoding="utf-8")
    run = read_run(tmp_path, dt.date(2026, 1, 1))
    assert run.limits["grade"].tolist() == ["3"]
    assert list(run.extra) == ["grade_migration"]
    assert run.flags.empty
    assert run.explanations.empty


def test_read_run_without_manifest(tmp_path):
    """An unfinished run (no manifest.json) is rejected with the command that makes it."""
    (tmp_path / "as_of=2026-01-01").mkdir()
    with use_locale("en"), pytest.raises(InputDataError, match=r"No complete scoring run for 2026-01-01"):
        read_run(tmp_path, dt.date(2026, 1, 1))
