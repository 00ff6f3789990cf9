"""Tests of publishing: atomic output folders, deterministic files and the database transaction."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from creditlimit.errors import PublishError
from creditlimit.i18n import use_locale
from creditlimit.serving.publish import (
    DATABASE_TABLES,
    atomic_output_dir,
    file_sha256,
    publish_to_database,
    read_parquet,
    write_csv,
    write_manifest,
    write_parquet,
)

AS_OF = date(2026, 1, 1)


def limits_frame(customers=("C1", "C2"), limit=100_000.0) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": list(customers),
        "new_limit": [limit] * len(customers),
        "action": ["hold"] * len(customers),
        "effective_on": pd.to_datetime(["2026-01-31"] * len(customers)),
        "needs_review": [False] * len(customers),
        "utilisation": [np.nan] * len(customers),
        "notice_zh": ["额度调整"] + [None] * (len(customers) - 1),
    })


def flags_frame(customers=("C1",)) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(customers), "code": ["overdue_30"] * len(customers),
                         "value": [45.0] * len(customers)})


def read_table(url: str, table: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY as_of, customer_id")).fetchall()
    finally:
        engine.dispose()
    return [tuple(row) for row in rows]


def table_names(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# ---------------------------------------------------------------- atomic folders


def test_atomic_output_dir_publishes_on_success(tmp_path):
    """The temporary folder sits beside the final one and becomes it on success."""
    final = tmp_path / "scores" / "as_of=2026-01-01"
    with atomic_output_dir(final) as temp:
        assert temp.parent == final.parent
        assert temp.name == f".as_of=2026-01-01.tmp-{os.getpid()}"
        assert not final.exists()
        (temp / "limits.parquet").write_text("new", encoding="utf-8")
    assert (final / "limits.parquet").read_text(encoding="utf-8") == "new"
    assert not temp.exists()
    assert sorted(p.name for p in final.parent.iterdir()) == ["as_of=2026-01-01"]


def test_atomic_output_dir_replaces_previous_output(tmp_path):
    """A successful run replaces the old folder completely, leaving no stale files."""
    final = tmp_path / "out"
    final.mkdir()
    (final / "old_only.txt").write_text("old", encoding="utf-8")
    with atomic_output_dir(final) as temp:
        (temp / "new.txt").write_text("new", encoding="utf-8")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_output_dir_error_keeps_previous_output(tmp_path):
    """An exception inside the block leaves no temporary folder and the old content intact."""
    final = tmp_path / "out"
    final.mkdir()
    (final / "limits.parquet").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="scoring failed"):
        with atomic_output_dir(final) as temp:
            (temp / "limits.parquet").write_text("partial", encoding="utf-8")
            raise RuntimeError("scoring failed")
    assert (final / "limits.parquet").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_output_dir_error_without_previous_output(tmp_path):
    """A failed first run leaves nothing behind."""
    final = tmp_path / "out"
    with pytest.raises(KeyError):
        with atomic_output_dir(final) as temp:
            (temp / "a.txt").write_text("x", encoding="utf-8")
            raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_dir_removes_leftover_temp(tmp_path):
    """A temporary folder left by a crashed run with the same process id is cleared first."""
    final = tmp_path / "out"
    leftover = tmp_path / f".out.tmp-{os.getpid()}"
    leftover.mkdir()
    (leftover / "stale.txt").write_text("stale", encoding="utf-8")
    with atomic_output_dir(final) as temp:
        assert list(temp.iterdir()) == []
        (temp / "fresh.txt").write_text("fresh", encoding="utf-8")
    assert sorted(p.name for p in final.iterdir()) == ["fresh.txt"]


def test_atomic_output_dir_failed_swap_restores_previous(tmp_path):
    """When the new folder cannot be moved in, the previous output is put back."""
    final = tmp_path / "out"
    final.mkdir()
    (final / "limits.parquet").write_text("old", encoding="utf-8")
    with pytest.raises(PublishError, match=r"Could not move the finished output .* The previous output was kept"):
        with atomic_output_dir(final) as temp:
            shutil.rmtree(temp)  # the rename of the temporary folder now fails
    assert (final / "limits.parquet").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_output_dir_rejects_file_path(tmp_path):
    """A final path that is a file is rejected in en and zh_CN."""
    target = tmp_path / "out"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(PublishError, match="exists but is not a folder"):
        with atomic_output_dir(target):
            pass
    with use_locale("zh_CN"), pytest.raises(PublishError, match="已存在但不是文件夹"):
        with atomic_output_dir(target):
            pass
    assert target.read_text(encoding="utf-8") == "not a folder"


# ---------------------------------------------------------------- files


def test_write_parquet_byte_identical(tmp_path):
    """Equal frames, even with different indexes, give byte-identical Parquet files."""
    frame = limits_frame()
    write_parquet(frame, tmp_path / "a.parquet")
    write_parquet(frame.copy(), tmp_path / "b.parquet")
    write_parquet(frame.set_axis([10, 20]), tmp_path / "c.parquet")
    first = (tmp_path / "a.parquet").read_bytes()
    assert first == (tmp_path / "b.parquet").read_bytes()
    assert first == (tmp_path / "c.parquet").read_bytes()


def test_write_parquet_keeps_rows_and_types(tmp_path):
    """Rows keep their order, missing values stay null and no index column is added."""
    frame = limits_frame(customers=("C9", "C1", "C5"))
    path = tmp_path / "limits.parquet"
    write_parquet(frame, path)
    table = pq.read_table(path)
    assert table.column_names == list(frame.columns)
    back = table.to_pandas(date_as_object=False)
    assert back["customer_id"].tolist() == ["C9", "C1", "C5"]
    assert back["utilisation"].isna().all()
    assert back["notice_zh"].tolist()[0] == "额度调整"
    assert pd.isna(back["notice_zh"].tolist()[1])
    assert list(tmp_path.iterdir()) == [path]


def test_read_parquet_round_trip(tmp_path):
    """A written frame reads back equal, with dates as datetime64 columns."""
    frame = limits_frame()
    write_parquet(frame, tmp_path / "limits.parquet")
    pd.testing.assert_frame_equal(read_parquet(tmp_path / "limits.parquet"), frame)
    dates = pa.table({"as_of": pa.array([date(2026, 1, 1), None], pa.date32())})
    pq.write_table(dates, tmp_path / "dates.parquet")
    back = read_parquet(tmp_path / "dates.parquet")
    assert pd.api.types.is_datetime64_dtype(back["as_of"])
    assert back["as_of"].iloc[0] == pd.Timestamp("2026-01-01")
    assert pd.isna(back["as_of"].iloc[1])


def test_write_parquet_rejects_mixed_column(tmp_path):
    """A column Arrow cannot convert raises PublishError naming the file."""
    frame = pd.DataFrame({"value": [1.5, "text"]}, dtype=object)
    with pytest.raises(PublishError, match=r"Could not write .*bad\.parquet"):
        write_parquet(frame, tmp_path / "bad.parquet")
    assert list(tmp_path.iterdir()) == []


def test_write_csv_content(tmp_path):
    """The CSV has a BOM, a header, UTF-8 Chinese text and empty fields for missing values."""
    path = tmp_path / "limits.csv"
    write_csv(limits_frame(), path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == '"customer_id","new_limit","action","effective_on","needs_review","utilisation","notice_zh"'
    assert lines[1].startswith('"C1",100000,"hold",2026-01-31')
    assert lines[1].endswith(',false,,"额度调整"')
    assert lines[2].endswith(",false,,")
    write_csv(limits_frame(), tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()


def test_write_manifest_format(tmp_path):
    """The manifest is sorted, indented JSON with a trailing newline and plain values."""
    manifest = {
        "run_id": "r1",
        "as_of": date(2026, 1, 1),
        "started": datetime(2026, 1, 2, 3, 4, 5),
        "inputs": {"b.csv": "ff", "a.csv": "00"},
        "rows": np.int64(42),
        "psi": float("nan"),
        "path": Path("data") / "scores",
        "grades": ("1", "2"),
        "说明": "额度",
    }
    path = tmp_path / "manifest.json"
    write_manifest(manifest, path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    loaded = json.loads(text)
    assert text == json.dumps(loaded, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert loaded["as_of"] == "2026-01-01"
    assert loaded["started"] == "2026-01-02T03:04:05"
    assert loaded["rows"] == 42
    assert loaded["psi"] is None
    assert loaded["path"] == "data/scores"
    assert loaded["grades"] == ["1", "2"]
    assert list(loaded["inputs"]) == ["a.csv", "b.csv"]
    assert loaded["说明"] == "额度"


def test_write_manifest_rejects_unknown_type(tmp_path):
    """A value without a JSON form names its key, in en and zh_CN."""
    with pytest.raises(PublishError, match=r"manifest\.model\.booster holds a value of type object"):
        write_manifest({"model": {"booster": object()}}, tmp_path / "m.json")
    with use_locale("zh_CN"), pytest.raises(PublishError, match=r"清单项 manifest\.model\.booster 的类型为 object"):
        write_manifest({"model": {"booster": object()}}, tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_file_sha256_known_digest(tmp_path):
    """The digest matches the SHA-256 of the file's bytes."""
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 10_000)
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()


# ---------------------------------------------------------------- database


def test_publish_to_database_creates_tables(tmp_path):
    """The first publish creates the tables with as_of and run_id columns."""
    url = f"sqlite:///{tmp_path / 'db' / 'scores.db'}"
    counts = publish_to_database(url, {"credit_limits": limits_frame(), "risk_flags": flags_frame()},
                                 as_of=AS_OF, run_id="run-1")
    assert counts == {"credit_limits": 2, "risk_flags": 1}
    assert table_names(url) == ["credit_limits", "risk_flags"]
    rows = read_table(url, "credit_limits")
    assert len(rows) == 2
    assert rows[0][0] == "C1"
    assert rows[0][-2:] == ("2026-01-01", "run-1")
    assert rows[0][5] is None  # NaN utilisation is stored as NULL
    assert rows[0][6] == "额度调整"


def test_publish_to_database_replaces_same_as_of(tmp_path):
    """Earlier as_of dates stay, and rerunning a date replaces its rows without duplicates."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    publish_to_database(url, {"credit_limits": limits_frame()}, as_of=date(2025, 12, 1), run_id="run-1")
    publish_to_database(url, {"credit_limits": limits_frame()}, as_of=AS_OF, run_id="run-2")
    publish_to_database(url, {"credit_limits": limits_frame(customers=("C3",), limit=5.0)},
                        as_of=AS_OF, run_id="run-3")
    rows = read_table(url, "credit_limits")
    assert [(r[0], r[1], r[-2], r[-1]) for r in rows] == [
        ("C1", 100_000.0, "2025-12-01", "run-1"),
        ("C2", 100_000.0, "2025-12-01", "run-1"),
        ("C3", 5.0, "2026-01-01", "run-3"),
    ]


def test_publish_to_database_failure_rolls_back(tmp_path):
    """A failure on the second table leaves the first table's previous rows and columns intact."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    publish_to_database(url, {"credit_limits": limits_frame(), "risk_flags": flags_frame()},
                        as_of=AS_OF, run_id="run-1")
    before = {name: read_table(url, name) for name in ("credit_limits", "risk_flags")}

    broken_flags = flags_frame().assign(extra_column=["x"], payload=[object()])
    with pytest.raises(PublishError, match=r"column payload holds mixed values"):
        publish_to_database(
            url, {"credit_limits": limits_frame(customers=("C7",)), "risk_flags": broken_flags},
            as_of=AS_OF, run_id="run-2",
        )
    assert {name: read_table(url, name) for name in ("credit_limits", "risk_flags")} == before
    engine = sa.create_engine(url)
    try:
        columns = [column["name"] for column in sa.inspect(engine).get_columns("risk_flags")]
    finally:
        engine.dispose()
    assert "extra_column" not in columns


def test_publish_to_database_adds_new_columns(tmp_path):
    """A column that a newer version writes is added; earlier rows hold NULL there."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    publish_to_database(url, {"credit_limits": limits_frame()}, as_of=date(2025, 12, 1), run_id="run-1")
    publish_to_database(url, {"credit_limits": limits_frame().assign(scale_version="v2")},
                        as_of=AS_OF, run_id="run-2")
    rows = read_table(url, "credit_limits")
    assert [row[-1] for row in rows] == [None, None, "v2", "v2"]


def test_publish_to_database_failed_first_run_creates_nothing(tmp_path):
    """A failure during the first publish also rolls back the CREATE TABLE of earlier tables."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    broken = pd.DataFrame({"customer_id": ["C1", "C2"], "payload": [object(), object()]})
    with pytest.raises(PublishError, match=r"column payload holds mixed values"):
        publish_to_database(url, {"credit_limits": limits_frame(), "risk_flags": broken},
                            as_of=AS_OF, run_id="run-1")
    assert table_names(url) == []


def test_publish_to_database_driver_error_rolls_back(tmp_path):
    """A database error mid-way is reported with the URL and rolls everything back."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    publish_to_database(url, {"credit_limits": limits_frame()}, as_of=AS_OF, run_id="run-1")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TABLE risk_flags (customer_id TEXT NOT NULL, code TEXT, value FLOAT, "
            "as_of DATE, run_id TEXT)"
        ))
    engine.dispose()
    before = read_table(url, "credit_limits")

    null_customer = pd.DataFrame({"customer_id": [None], "code": ["x"], "value": [1.0]})
    with pytest.raises(PublishError, match=r"Publishing to sqlite:///.*scores\.db failed and was rolled back"):
        publish_to_database(url, {"credit_limits": limits_frame(customers=("C9",)), "risk_flags": null_customer},
                            as_of=AS_OF, run_id="run-2")
    assert read_table(url, "credit_limits") == before
    with use_locale("zh_CN"), pytest.raises(PublishError, match=r"失败并已回滚，数据库未作修改"):
        publish_to_database(url, {"risk_flags": null_customer}, as_of=AS_OF, run_id="run-2")


def test_publish_to_database_rejects_foreign_frames(tmp_path):
    """Unknown table names and frames of another as_of or run are rejected before writing."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    with pytest.raises(PublishError, match=r"Cannot publish table limits: the database takes only credit_limits"):
        publish_to_database(url, {"limits": limits_frame()}, as_of=AS_OF, run_id="run-1")
    other_date = limits_frame().assign(as_of=pd.Timestamp("2025-12-01"))
    with pytest.raises(PublishError, match=r"column as_of holds 2025-12-01, but this run is 2026-01-01"):
        publish_to_database(url, {"credit_limits": other_date}, as_of=AS_OF, run_id="run-1")
    other_run = limits_frame().assign(run_id="run-0")
    with use_locale("zh_CN"), pytest.raises(PublishError, match=r"其 run_id 列的值为 run-0"):
        publish_to_database(url, {"credit_limits": other_run}, as_of=AS_OF, run_id="run-1")
    assert not (tmp_path / "scores.db").exists() or table_names(url) == []


def test_publish_to_database_accepts_matching_run_columns(tmp_path):
    """A frame that already carries this run's as_of and run_id is published as is."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    frame = limits_frame().assign(as_of=pd.Timestamp(AS_OF), run_id="run-1")
    counts = publish_to_database(url, {name: frame for name in DATABASE_TABLES[:1]}, as_of=AS_OF, run_id="run-1")
    assert counts == {"credit_limits": 2}
    assert read_table(url, "credit_limits")[0][-2:] == ("2026-01-01", "run-1")


def test_publish_to_database_empty_first_frame(tmp_path):
    """An empty first frame still creates a table whose as_of rows can be replaced later."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    empty = flags_frame().iloc[0:0]
    assert publish_to_database(url, {"risk_flags": empty}, as_of=AS_OF, run_id="run-1") == {"risk_flags": 0}
    publish_to_database(url, {"risk_flags": flags_frame()}, as_of=AS_OF, run_id="run-2")
    publish_to_database(url, {"risk_flags": flags_frame(customers=("C2",))}, as_of=AS_OF, run_id="run-3")
    rows = read_table(url, "risk_flags")
    assert [(r[0], r[-2], r[-1]) for r in rows] == [("C2", "2026-01-01", "run-3")]


def test_publish_to_database_rejects_invalid_url():
    """An unparseable URL or a missing driver is reported without echoing the URL."""
    with pytest.raises(PublishError, match=r"The nosuchdb database URL cannot be used") as raised:
        publish_to_database("nosuchdb://user:secret@host/db", {}, as_of=AS_OF, run_id="run-1")
    assert "secret" not in str(raised.value)
    with use_locale("zh_CN"), pytest.raises(PublishError, match=r"无法使用 not a url 数据库 URL"):
        publish_to_database("not a url", {}, as_of=AS_OF, run_id="run-1")


def test_publish_to_database_file_in_place_of_folder(tmp_path):
    """A file where the SQLite database's folder should be is a publish error (exit 6), not a traceback."""
    (tmp_path / "scores").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'scores' / 'creditlimit.db'}"
    with pytest.raises(PublishError, match=r"Cannot create the folder .*scores of the SQLite database") as raised:
        publish_to_database(url, {"risk_flags": flags_frame()}, as_of=AS_OF, run_id="run-1")
    assert raised.value.exit_code == 6
    with use_locale("zh_CN"), pytest.raises(PublishError, match=r"无法创建 SQLite 数据库"):
        publish_to_database(url, {"risk_flags": flags_frame()}, as_of=AS_OF, run_id="run-1")


def test_atomic_output_dir_restores_stranded_previous(tmp_path):
    """A previous output stranded mid-swap by a crash is put back before the next run."""
    final_dir = tmp_path / "as_of=2026-01-01"
    stranded = tmp_path / ".as_of=2026-01-01.old-999999"
    stranded.mkdir()
    (stranded / "limits.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output_dir(final_dir):
            raise RuntimeError("fails before the swap")
    assert (final_dir / "limits.csv").read_text() == "old"
    assert not stranded.exists()


def test_atomic_output_dir_removes_dead_temp_folders(tmp_path):
    """Temporary folders of processes that no longer run are removed; a live one stays."""
    final_dir = tmp_path / "as_of=2026-01-01"
    dead = tmp_path / ".as_of=2026-01-01.tmp-999999"
    live = tmp_path / f".as_of=2026-01-01.tmp-{os.getppid()}"
    dead.mkdir()
    live.mkdir()
    with atomic_output_dir(final_dir) as tmp:
        (tmp / "a.txt").write_text("new")
    assert not dead.exists()
    assert live.exists()
    assert (final_dir / "a.txt").read_text() == "new"


def test_atomic_output_dir_swap_keeps_no_old_folder(tmp_path):
    """Replacing an existing folder leaves only the new one beside it."""
    final_dir = tmp_path / "as_of=2026-01-01"
    for text in ("first", "second"):
        with atomic_output_dir(final_dir) as tmp:
            (tmp / "a.txt").write_text(text)
    assert (final_dir / "a.txt").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["as_of=2026-01-01"]


def test_read_parquet_missing_or_garbage(tmp_path):
    """A missing or non-Parquet file is a clear input error naming the path."""
    from creditlimit.errors import InputDataError

    with pytest.raises(InputDataError, match=r"missing\.parquet \(not found\)"):
        read_parquet(tmp_path / "missing.parquet")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_text("not parquet")
    with use_locale("zh_CN"), pytest.raises(InputDataError, match="无法读取 Parquet 文件"):
        read_parquet(garbage)


def test_publish_to_database_takes_parts(tmp_path):
    """A table given as parts is published as their rows; a run with no part removes the date's old rows."""
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    parts = iter([limits_frame(customers=("C1",)), limits_frame(customers=("C2", "C3"))])
    counts = publish_to_database(url, {"credit_limits": parts}, as_of=AS_OF, run_id="run-1")
    assert counts == {"credit_limits": 3}
    assert [r[0] for r in read_table(url, "credit_limits")] == ["C1", "C2", "C3"]
    publish_to_database(url, {"credit_limits": iter([])}, as_of=AS_OF, run_id="run-2")
    assert read_table(url, "credit_limits") == []
