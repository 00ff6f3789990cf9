"""Tests of finding and loading the previous published scoring run."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditlimit.serving.previous_run import find_previous_run, published_as_of_dates


def write_run(root, as_of: str, *, manifest: bool = True, limits: bool = True, name: str | None = None):
    """Write a minimal run folder: limits with a date32 column, flags and (optionally) the manifest."""
    folder = root / (name or f"as_of={as_of}")
    folder.mkdir(parents=True)
    if limits:
        table = pa.table({
            "customer_id": ["C1", "C2"],
            "grade": ["3", "D"],
            "new_limit": [100_000.0, 0.0],
            "effective_on": pa.array([dt.date(2025, 12, 1), dt.date(2025, 12, 31)], type=pa.date32()),
        })
        pq.write_table(table, folder / "limits.parquet")
    pq.write_table(pa.table({"customer_id": ["C2"], "code": ["overdue_90"]}), folder / "flags.parquet")
    if manifest:
        (folder / "manifest.json").write_text(json.dumps({"as_of": as_of, "run_id": f"run-{as_of}"}))
    return folder


def test_find_previous_run_latest_before_as_of(tmp_path):
    """The latest complete run strictly before as_of is chosen; the same date and later are not."""
    for as_of in ("2025-10-01", "2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01"):
        write_run(tmp_path, as_of)
    previous = find_previous_run(tmp_path, dt.date(2026, 1, 1))
    assert previous.as_of == dt.date(2025, 12, 1)
    assert previous.folder == tmp_path / "as_of=2025-12-01"
    assert previous.manifest["run_id"] == "run-2025-12-01"


def test_find_previous_run_none_without_earlier_run(tmp_path):
    """No earlier run, or no scores folder at all, gives None."""
    write_run(tmp_path, "2026-01-01")
    assert find_previous_run(tmp_path, dt.date(2026, 1, 1)) is None
    assert find_previous_run(tmp_path / "missing", dt.date(2026, 1, 1)) is None


def test_find_previous_run_skips_incomplete_and_temporary(tmp_path):
    """A folder without manifest, a dotted temporary folder and unrelated names are skipped."""
    write_run(tmp_path, "2025-11-01")
    write_run(tmp_path, "2025-12-01", manifest=False)
    write_run(tmp_path, "2025-12-15", name=".as_of=2025-12-15.tmp")
    write_run(tmp_path, "2025-12-20", name="as_of=2025-12-20-copy")
    (tmp_path / "run_log.jsonl").write_text("{}\n")
    assert published_as_of_dates(tmp_path) == [dt.date(2025, 11, 1)]
    assert find_previous_run(tmp_path, dt.date(2026, 1, 1)).as_of == dt.date(2025, 11, 1)


def test_find_previous_run_reads_tables_with_dates(tmp_path):
    """Limits and flags are loaded, Arrow dates as datetime64, and a missing file is an empty frame."""
    write_run(tmp_path, "2025-12-01")
    previous = find_previous_run(tmp_path, dt.date(2026, 1, 1))
    assert previous.limits["customer_id"].tolist() == ["C1", "C2"]
    assert pd.api.types.is_datetime64_dtype(previous.limits["effective_on"])
    assert previous.flags["code"].tolist() == ["overdue_90"]
    assert previous.explanations.empty
