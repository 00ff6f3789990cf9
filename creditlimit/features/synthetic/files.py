"""Write the sample portfolio to Parquet or CSV files with a fixed schema."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from creditlimit.errors import ParamsError
from creditlimit.features.contract import TABLES
from creditlimit.features.synthetic.frames import _arrow_table
from creditlimit.features.synthetic.latent import TRUE_PD_COLUMNS
from creditlimit.features.synthetic.portfolio import SamplePortfolio

__all__ = ["write_portfolio"]

logger = logging.getLogger(__name__)


def write_portfolio(
    portfolio: SamplePortfolio, out_dir: Path, *, file_format: str = "parquet"
) -> dict[str, int]:
    """Write every canonical table and ``_truth/true_pd.parquet`` to ``out_dir``.

    Tables go to ``<table>.parquet`` or ``<table>.csv`` with a fixed Arrow schema
    taken from the data contract (dates as ``date32``, ids as text, no index), in
    the portfolio's row order, so the same portfolio gives the same bytes. A file
    of the same table in the other format is removed, so the folder contains one
    file per table. The true PD is always Parquet. Each file is written under a
    temporary name and then renamed. CSV files also get the portfolio's
    ``csv_only_rows`` (text that no Parquet date or float column can hold), each
    written before its ``before_row``.

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
        text_rows = portfolio.csv_only_rows.get(name) if file_format == "csv" else None
        _write_table(table, out_dir / f"{name}.{file_format}", file_format, text_rows)
        counts[name] = table.num_rows + (0 if text_rows is None else len(text_rows))
    truth = _arrow_table(portfolio.true_pd, TRUE_PD_COLUMNS)
    _write_table(truth, out_dir / "_truth" / "true_pd.parquet", "parquet")
    counts["true_pd"] = truth.num_rows
    logger.info("wrote sample portfolio to %s as %s: %s", out_dir, file_format, counts)
    return counts


def _write_table(
    table: pa.Table, path: Path, file_format: str, text_rows: pd.DataFrame | None = None
) -> None:
    """Write through a temporary name so an interrupted write leaves no partial file."""
    partial = path.with_name(path.name + ".partial")
    if file_format == "parquet":
        pq.write_table(table, partial, compression="zstd")
    elif text_rows is None or text_rows.empty:
        pa_csv.write_csv(table, partial)
    else:
        partial.write_bytes(_csv_with_text_rows(table, text_rows))
    partial.replace(path)


def _csv_with_text_rows(table: pa.Table, text_rows: pd.DataFrame) -> bytes:
    """Write ``table`` as CSV with each text row before the table row it names.

    CSV has no types, so the typed slices and the all-text rows are written
    separately and joined: the header comes with the first slice only.
    """
    text = pa.table({
        name: pa.array(text_rows[name].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        for name in table.column_names
    })
    no_header = pa_csv.WriteOptions(include_header=False)
    pieces, done = [], 0
    for position, before_row in enumerate(text_rows["before_row"].to_numpy()):
        options = no_header if pieces else pa_csv.WriteOptions()
        pieces.append(_csv_bytes(table.slice(done, before_row - done), options))
        pieces.append(_csv_bytes(text.slice(position, 1), no_header))
        done = before_row
    pieces.append(_csv_bytes(table.slice(done), no_header))
    return b"".join(pieces)


def _csv_bytes(table: pa.Table, options: pa_csv.WriteOptions) -> bytes:
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, write_options=options)
    return sink.getvalue().to_pybytes()
