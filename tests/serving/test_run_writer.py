"""The run writer joins parts into one Parquet and CSV file per table, as one frame would be written."""

import codecs

import numpy as np
import pandas as pd
import pytest

from creditlimit.serving.publish import write_csv, write_parquet
from creditlimit.serving.run_writer import PARTS_FOLDER, RunWriter, parquet_batches


def _parts():
    first = pd.DataFrame({"customer_id": ["A", "B"], "amount": [1.5, np.nan], "note": [None, None],
                          "on": pd.to_datetime(["2026-01-01", None]).astype("datetime64[us]")})
    second = pd.DataFrame({"customer_id": ["C"], "amount": [2.0], "note": ["达成"],
                           "on": pd.to_datetime(["2026-02-01"]).astype("datetime64[us]")})
    return first, second


def _write_parts(folder, name, *frames):
    """Add each frame as a part of table ``name`` and finish the writer."""
    writer = RunWriter(folder)
    for frame in frames:
        writer.add(name, frame)
    writer.finish()
    return writer


def test_parts_read_back_as_the_whole_frame(tmp_path):
    """A column missing in every row of one part takes its type from the others; rows keep their order."""
    first, second = _parts()
    writer = _write_parts(tmp_path, "limits", first, second)
    write_parquet(pd.concat([first, second], ignore_index=True), tmp_path / "whole.parquet")
    got = pd.read_parquet(tmp_path / "limits.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "whole.parquet"))
    assert got["note"].isna().tolist() == [True, True, False]
    assert writer.rows == {"limits": 3}
    assert not (tmp_path / PARTS_FOLDER).exists()


def test_csv_has_one_header_and_matches_one_frame(tmp_path):
    """The CSV starts with the byte-order mark, has one header row and equals the one-frame CSV."""
    first, second = _parts()
    _write_parts(tmp_path, "flags", first.assign(note="x"), second)
    write_csv(pd.concat([first.assign(note="x"), second], ignore_index=True), tmp_path / "whole.csv")
    written = (tmp_path / "flags.csv").read_bytes()
    assert written.startswith(codecs.BOM_UTF8)
    assert written == (tmp_path / "whole.csv").read_bytes()
    assert written.decode("utf-8-sig").count('"customer_id"') == 1


def test_one_part_is_byte_identical_to_write_parquet(tmp_path):
    """A table of one part gives the same bytes as writing the frame at once, so small runs are unchanged."""
    first, _ = _parts()
    _write_parts(tmp_path / "run", "limits", first)
    write_parquet(first, tmp_path / "whole.parquet")
    assert (tmp_path / "run" / "limits.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()


def test_parquet_batches_yield_one_frame_per_part(tmp_path):
    _write_parts(tmp_path, "limits", *_parts())
    sizes = [len(frame) for frame in parquet_batches(tmp_path / "limits.parquet", columns=["customer_id"])]
    assert sizes == [2, 1]


def test_unconvertible_part_is_a_publish_error(tmp_path):
    from creditlimit.errors import PublishError

    writer = RunWriter(tmp_path)
    with pytest.raises(PublishError):
        writer.add("limits", pd.DataFrame({"mixed": [1, "a"]}))
