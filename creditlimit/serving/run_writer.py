"""Write a run's output tables part by part, so a large book never sits in memory whole.

The batch scorer hands over each output table (limits, explanations, flags, ...)
one batch at a time. Every part is kept as an Arrow IPC file in a hidden folder
of the run. :meth:`RunWriter.finish` then writes each table's Parquet file, one
row group per part, reading one part at a time. The tables analysts open in
Excel also get a CSV file. Parts of one table may differ in type where a batch
held only missing values (an all-null text column, say), so the parts are cast to
one schema, unified from all of them, before writing.

Equal parts in equal order give byte-identical files, as
:func:`creditlimit.serving.publish.write_parquet` does for one frame.
"""

from __future__ import annotations

import codecs
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from creditlimit.errors import PublishError
from creditlimit.serving.publish import PARQUET_COMPRESSION

__all__ = ["RunWriter", "parquet_batches"]

logger = logging.getLogger(__name__)

PARTS_FOLDER = ".parts"


class RunWriter:
    """Collect the parts of a run's tables in ``folder`` and write each table once at the end.

    Parameters
    ----------
    folder : pathlib.Path
        The run's (temporary) output folder.
    csv_tables : tuple of str
        Tables also written as UTF-8 CSV with a byte-order mark.
    """

    def __init__(self, folder: Path, *, csv_tables: tuple[str, ...] = ("limits", "flags")):
        self.folder = Path(folder)
        self.csv_tables = csv_tables
        self.rows: dict[str, int] = {}
        self._parts: dict[str, list[Path]] = {}

    def add(self, name: str, frame: pd.DataFrame) -> None:
        """Keep ``frame`` as the next part of table ``name``; its index is not kept."""
        folder = self.folder / PARTS_FOLDER / name
        folder.mkdir(parents=True, exist_ok=True)
        parts = self._parts.setdefault(name, [])
        path = folder / f"{len(parts):06d}.arrow"
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        except (pa.ArrowException, OSError) as error:
            raise PublishError("publish.write_failed", path=path, error=error) from error
        parts.append(path)
        self.rows[name] = self.rows.get(name, 0) + len(frame)

    def finish(self) -> list[Path]:
        """Write every table's Parquet (and CSV) file, remove the parts and return the written paths."""
        written = []
        for name, parts in sorted(self._parts.items()):
            schema = _unified_schema(parts)
            written.append(self._write_parquet(name, parts, schema))
            if name in self.csv_tables:
                written.append(self._write_csv(name, parts, schema))
        shutil.rmtree(self.folder / PARTS_FOLDER, ignore_errors=True)
        self._parts.clear()
        return written

    def _write_parquet(self, name: str, parts: list[Path], schema: pa.Schema) -> Path:
        path = self.folder / f"{name}.parquet"
        try:
            with pq.ParquetWriter(path, schema, compression=PARQUET_COMPRESSION) as writer:
                for table in _read_parts(parts, schema):
                    writer.write_table(table)
        except (pa.ArrowException, OSError) as error:
            raise PublishError("publish.write_failed", path=path, error=error) from error
        return path

    def _write_csv(self, name: str, parts: list[Path], schema: pa.Schema) -> Path:
        path = self.folder / f"{name}.csv"
        try:
            with open(path, "wb") as handle:
                # A byte-order mark lets Excel, which Chinese users open CSV files in,
                # read the UTF-8 text instead of guessing a legacy code page.
                handle.write(codecs.BOM_UTF8)
                for index, table in enumerate(_read_parts(parts, schema)):
                    options = pa_csv.WriteOptions(include_header=index == 0)
                    pa_csv.write_csv(table, handle, write_options=options)
        except (pa.ArrowException, OSError) as error:
            raise PublishError("publish.write_failed", path=path, error=error) from error
        return path


def parquet_batches(path: Path, *, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """Yield a Parquet file's row groups as frames, one at a time (dates as datetime64)."""
    parquet = pq.ParquetFile(path)
    for index in range(parquet.num_row_groups):
        yield parquet.read_row_group(index, columns=columns).to_pandas(date_as_object=False)


def _unified_schema(parts: list[Path]) -> pa.Schema:
    """Unify the parts' schemas: a column that is all null in one part takes its type from the others.

    The pandas metadata of the first part is kept, so the file reads back with the
    same pandas dtypes.
    """
    schemas = []
    for path in parts:
        with pa.memory_map(str(path)) as source:
            schemas.append(pa.ipc.open_file(source).schema)
    unified = pa.unify_schemas(schemas, promote_options="permissive")
    return unified.with_metadata(schemas[0].metadata)


def _read_parts(parts: list[Path], schema: pa.Schema) -> Iterator[pa.Table]:
    for path in parts:
        with pa.OSFile(str(path), "rb") as source:
            table = pa.ipc.open_file(source).read_all()
        yield table.select(schema.names).cast(schema)
