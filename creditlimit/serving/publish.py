"""Atomic, deterministic publishing of scoring outputs: folders, Parquet, CSV, manifest and SQL."""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import errno
import hashlib
import json
import logging
import math
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path, PurePath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import sqlalchemy as sa

from creditlimit.checkpoints import checkpoint
from creditlimit.errors import InputDataError, PublishError
from creditlimit.i18n import register
from creditlimit.serving.database import create_database_engine, shown_url

__all__ = [
    "atomic_output_dir",
    "write_parquet",
    "read_parquet",
    "write_csv",
    "write_manifest",
    "file_sha256",
    "publish_to_database",
    "DATABASE_TABLES",
]

logger = logging.getLogger(__name__)

# Tables written by publish_to_database, in the order they are written.
DATABASE_TABLES = ("credit_limits", "risk_flags", "reason_codes", "effective_limits")
PARQUET_COMPRESSION = "zstd"

register({
    "publish.unreadable_parquet": {
        "en": "Cannot read the Parquet file {path} ({reason}). Check the path, or run the stage that writes it (`dvc repro`).",
        "zh_CN": "无法读取 Parquet 文件 {path}（{reason}）。请检查路径，或运行生成该文件的阶段（`dvc repro`）。",
    },
    "publish.swap_failed": {
        "en": (
            "Could not move the finished output {temp_dir} to {final_dir}: {error}. "
            "The previous output was kept. Check permissions and free space, then rerun."
        ),
        "zh_CN": "无法将已完成的输出 {temp_dir} 移动到 {final_dir}：{error}。原有输出已保留。请检查权限和磁盘空间后重新运行。",
    },
    "publish.not_a_directory": {
        "en": "The output path {final_dir} exists but is not a folder. Remove or rename it, then rerun.",
        "zh_CN": "输出路径 {final_dir} 已存在但不是文件夹。请删除或重命名后重新运行。",
    },
    "publish.write_failed": {
        "en": "Could not write {path}: {error}. Check the column types and that the folder is writable.",
        "zh_CN": "无法写入 {path}：{error}。请检查列类型以及文件夹是否可写。",
    },
    "publish.manifest_value": {
        "en": (
            "The manifest entry {entry} holds a value of type {kind}, which JSON cannot store. "
            "Convert it to text, a number, a list or a mapping."
        ),
        "zh_CN": "清单项 {entry} 的类型为 {kind}，无法写入 JSON。请转换为文本、数值、列表或映射。",
    },
    "publish.unknown_table": {
        "en": "Cannot publish table {table}: the database takes only {known}. Rename the output table.",
        "zh_CN": "无法发布表 {table}：数据库只接收 {known}。请更正输出表名。",
    },
    "publish.column_mismatch": {
        "en": (
            "Cannot publish table {table}: its column {column} holds {found}, but this run is {expected}. "
            "Publish the outputs of the matching run."
        ),
        "zh_CN": "无法发布表 {table}：其 {column} 列的值为 {found}，而本次运行为 {expected}。请发布对应运行的输出。",
    },
    "publish.unsupported_column": {
        "en": (
            "Cannot publish table {table}: column {column} holds {kind} values, which have no SQL type here. "
            "Convert the column to text, numbers, booleans or dates."
        ),
        "zh_CN": "无法发布表 {table}：列 {column} 的值类型为 {kind}，没有对应的 SQL 类型。请将该列转换为文本、数值、布尔值或日期。",
    },
    "publish.invalid_url": {
        "en": (
            "The {scheme} database URL cannot be used: {error}. Check the URL form "
            "(for example sqlite:///data/scores/creditlimit.db) and that its driver is installed."
        ),
        "zh_CN": "无法使用 {scheme} 数据库 URL：{error}。请检查 URL 格式（例如 sqlite:///data/scores/creditlimit.db）以及对应驱动是否已安装。",
    },
    "publish.database_failed": {
        "en": "Publishing to {url} failed and was rolled back, so the database is unchanged: {error}",
        "zh_CN": "发布到 {url} 失败并已回滚，数据库未作修改：{error}",
    },
})


# ---------------------------------------------------------------- folders and files


@contextlib.contextmanager
def atomic_output_dir(final_dir: Path, *, checkpoint_name: str = "outputs:before_swap") -> Iterator[Path]:
    """Yield a temporary folder that replaces ``final_dir`` when the block succeeds.

    ``checkpoint_name`` names the fault-injection point just before the swap (see
    :mod:`creditlimit.checkpoints`).

    The temporary folder is ``.<name>.tmp-<pid>`` beside ``final_dir``, so the
    final rename stays on one file system. On success the previous
    ``final_dir`` (if any) is renamed away, the new folder renamed in, and the
    old one deleted. On any exception the temporary folder is deleted, the
    previous ``final_dir`` is left untouched and the exception propagates.

    Raises
    ------
    PublishError
        If ``final_dir`` exists and is not a folder, or the swap fails (the
        previous output is then restored).

    Notes
    -----
    On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` call, so readers see
    either the previous or the new folder, never neither. Where that call is not
    available, two renames leave ``final_dir`` briefly absent; a crash in that
    instant leaves the previous output at ``.<name>.old-<pid>``, and the next
    call for the same folder puts it back before doing anything else. Temporary
    folders of processes that no longer run are removed then too.
    """
    final_dir = Path(final_dir)
    if final_dir.exists() and not final_dir.is_dir():
        raise PublishError("publish.not_a_directory", final_dir=final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    _recover_leftovers(final_dir)
    temp_dir = final_dir.parent / f".{final_dir.name}.tmp-{os.getpid()}"
    if temp_dir.exists():
        # Left over from an earlier crashed run that had the same process id.
        shutil.rmtree(temp_dir)
    temp_dir.mkdir()

    try:
        yield temp_dir
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        logger.warning("discarded the output for %s after an error, previous output kept", final_dir)
        raise
    checkpoint(checkpoint_name)
    _swap_in(temp_dir, final_dir)
    logger.info("published output folder %s", final_dir)


def _recover_leftovers(final_dir: Path) -> None:
    """Restore a previous output stranded by a crash mid-swap; remove dead runs' temporary folders."""
    for old_dir in sorted(final_dir.parent.glob(f".{final_dir.name}.old-*")):
        if not final_dir.exists():
            logger.warning("restoring %s from %s, left by a run that stopped mid-swap", final_dir, old_dir)
            os.rename(old_dir, final_dir)
        else:
            shutil.rmtree(old_dir, ignore_errors=True)
    for temp_dir in final_dir.parent.glob(f".{final_dir.name}.tmp-*"):
        pid = temp_dir.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _process_alive(int(pid)):
            logger.info("removing %s, left by a run that did not finish", temp_dir)
            shutil.rmtree(temp_dir, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_in(temp_dir: Path, final_dir: Path) -> None:
    if final_dir.exists() and _exchange(temp_dir, final_dir):
        # temp_dir now contains the previous output.
        shutil.rmtree(temp_dir)
        return
    old_dir = final_dir.parent / f".{final_dir.name}.old-{os.getpid()}"
    had_previous = final_dir.exists()
    try:
        if had_previous:
            if old_dir.exists():
                shutil.rmtree(old_dir)
            os.rename(final_dir, old_dir)
        os.rename(temp_dir, final_dir)
    except OSError as error:
        if had_previous and old_dir.exists() and not final_dir.exists():
            os.rename(old_dir, final_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise PublishError(
            "publish.swap_failed", temp_dir=temp_dir, final_dir=final_dir, error=error
        ) from error
    if had_previous:
        shutil.rmtree(old_dir)


_RENAME_EXCHANGE = 2  # from <linux/fs.h>
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux renameat2; return False where unsupported."""
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise PublishError("publish.swap_failed", temp_dir=first, final_dir=second, error=os.strerror(error))


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to Parquet so that equal frames give byte-identical files.

    Rows keep the given order. The index is not written, so frames that differ
    only in their index give the same file. Compression is zstd, and the other
    writer options are pyarrow's defaults. The file appears under ``path`` only
    once complete.

    Raises
    ------
    PublishError
        If a column cannot be converted to Arrow or the file cannot be written.
    """
    path = Path(path)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        with _replace_when_done(path) as temp_path:
            pq.write_table(table, temp_path, compression=PARQUET_COMPRESSION)
    except (pa.ArrowException, OSError) as error:
        raise PublishError("publish.write_failed", path=path, error=error) from error


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file with Arrow dates as datetime64 columns.

    ``pandas.read_parquet`` in pandas 3 turns Arrow ``date32`` columns into
    objects, so the file is read through pyarrow with ``date_as_object=False``.

    Raises
    ------
    InputDataError
        If the file is missing or is not a readable Parquet file.
    """
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        reason = "not found" if not Path(path).exists() else str(error).splitlines()[0]
        raise InputDataError("publish.unreadable_parquet", path=path, reason=reason) from error
    return table.to_pandas(date_as_object=False)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as UTF-8 CSV with a byte-order mark and a header row, through ``pyarrow.csv``.

    Missing values are empty fields. Rows keep the given order, and the index is
    not written.

    Raises
    ------
    PublishError
        If a column cannot be converted to Arrow or the file cannot be written.
    """
    path = Path(path)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        with _replace_when_done(path) as temp_path:
            # A byte-order mark lets Excel, which Chinese users open CSV files in,
            # read the UTF-8 text instead of guessing a legacy code page.
            with open(temp_path, "wb") as handle:
                handle.write(codecs.BOM_UTF8)
                pa_csv.write_csv(table, handle)
    except (pa.ArrowException, OSError) as error:
        raise PublishError("publish.write_failed", path=path, error=error) from error


def write_manifest(manifest: Mapping[str, object], path: Path, *, sort_keys: bool = True) -> None:
    """Write ``manifest`` as JSON with sorted keys, indent 2 and a trailing newline.

    Dates become ISO text, paths text, numpy scalars plain numbers, tuples lists
    and NaN or infinite floats null. Non-ASCII text is written as is (UTF-8).
    ``sort_keys=False`` keeps the mappings' own order (params whose order matters).

    Raises
    ------
    PublishError
        If a value has no JSON form, or the file cannot be written.
    """
    path = Path(path)
    text = json.dumps(_json_ready(manifest, "manifest"), sort_keys=sort_keys, indent=2, ensure_ascii=False)
    try:
        with _replace_when_done(path) as temp_path:
            temp_path.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise PublishError("publish.write_failed", path=path, error=error) from error


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _replace_when_done(path: Path) -> Iterator[Path]:
    """Yield a temporary file name beside ``path`` and move it onto ``path`` on success."""
    temp_path = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        yield temp_path
        os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


def _json_ready(value: object, key: str) -> object:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    raise PublishError("publish.manifest_value", entry=key, kind=type(value).__name__)


# ---------------------------------------------------------------- database


def publish_to_database(
    url: str, tables: Mapping[str, pd.DataFrame], *, as_of: date, run_id: str
) -> dict[str, int]:
    """Replace the rows of ``as_of`` in the output tables, all in one transaction.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL, for example ``sqlite:///data/scores/creditlimit.db``
        or a PostgreSQL URL. A SQLite file's folder is created when missing.
    tables : mapping of str to pandas.DataFrame or iterable of pandas.DataFrame
        Frames keyed by table name, a subset of ``DATABASE_TABLES``. A table may
        also be an iterable of frames (the parts of a large run, read one at a
        time); its first part creates the table when it does not exist.
    as_of : datetime.date
        Run date, stored in an ``as_of`` column of every table.
    run_id : str
        Run identifier, stored in a ``run_id`` column of every table.

    Returns
    -------
    dict of str to int
        Rows inserted per table.

    Raises
    ------
    PublishError
        If a table name is unknown, a frame's own ``as_of`` or ``run_id`` differs,
        a column has no SQL type or is missing from an existing table, or the
        database fails. Nothing is changed in any of these cases.

    Notes
    -----
    A table is created on first use from the frame's column types. Rows of
    other ``as_of`` dates stay, so earlier runs remain queryable. On SQLite the
    transaction also covers CREATE TABLE, because SQLAlchemy is made to emit
    BEGIN itself (the sqlite3 driver would otherwise commit DDL on its own).
    """
    as_of = pd.Timestamp(as_of).date()
    unknown = [name for name in tables if name not in DATABASE_TABLES]
    if unknown:
        raise PublishError("publish.unknown_table", table=unknown[0], known=", ".join(DATABASE_TABLES))
    prepared = {name: _parts(tables[name]) for name in DATABASE_TABLES if name in tables}

    try:
        engine = create_database_engine(url)
    except (sa.exc.ArgumentError, ImportError) as error:
        # Only the scheme is shown, because an unparsed URL may contain a password.
        raise PublishError("publish.invalid_url", scheme=url.split(":", 1)[0], error=error) from error
    url_text = shown_url(engine)
    counts: dict[str, int] = {}
    try:
        with engine.begin() as connection:
            for name, parts in prepared.items():
                counts[name] = _replace_rows(connection, name, parts, as_of, run_id)
                checkpoint("database:in_transaction")
    except sa.exc.SQLAlchemyError as error:
        raise PublishError("publish.database_failed", url=url_text, error=error) from error
    finally:
        engine.dispose()
    logger.info("published %s rows as of %s (run %s) to %s", counts, as_of, run_id, url_text)
    return counts


def _with_run_columns(frame: pd.DataFrame, name: str, as_of: date, run_id: str) -> pd.DataFrame:
    """Return a copy with ``as_of`` and ``run_id`` columns, checking any that exist."""
    frame = frame.reset_index(drop=True).copy()
    expected = {"as_of": as_of, "run_id": run_id}
    if "as_of" in frame.columns:
        found = {d.date() for d in pd.to_datetime(frame["as_of"]).dropna().unique()} - {as_of}
        if found:
            raise PublishError("publish.column_mismatch", table=name, column="as_of",
                               found=min(found).isoformat(), expected=as_of.isoformat())
    if "run_id" in frame.columns:
        found_ids = set(frame["run_id"].dropna().astype(str)) - {run_id}
        if found_ids:
            raise PublishError("publish.column_mismatch", table=name, column="run_id",
                               found=sorted(found_ids)[0], expected=run_id)
    for column, value in expected.items():
        frame[column] = pd.Series([value] * len(frame), dtype=object)
    return frame


def _parts(table: pd.DataFrame | Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
    return [table] if isinstance(table, pd.DataFrame) else table


def _replace_rows(connection: sa.Connection, name: str, parts: Iterable[pd.DataFrame], as_of: date,
                  run_id: str) -> int:
    """Delete the rows of ``as_of`` in table ``name`` and insert the parts' rows; return how many."""
    table, deleted, inserted = None, 0, 0
    for part in parts:
        frame = _with_run_columns(part, name, as_of, run_id)
        if table is None:
            table = _existing_or_new_table(connection, name, frame)
            deleted = connection.execute(sa.delete(table).where(table.c.as_of == as_of)).rowcount
        extra = [column for column in frame.columns if column not in table.columns]
        if extra:
            table = _add_columns(connection, table, frame, extra)
        inserted += _insert(connection, table, frame)
    if table is None and sa.inspect(connection).has_table(name):
        # No part at all: the run has no rows for this table, so only the old ones go.
        table = sa.Table(name, sa.MetaData(), autoload_with=connection)
        deleted = connection.execute(sa.delete(table).where(table.c.as_of == as_of)).rowcount
    logger.info("table %s: replaced %d rows of %s with %d", name, deleted, as_of, inserted)
    return inserted


def _add_columns(connection: sa.Connection, table: sa.Table, frame: pd.DataFrame, columns: list[str]) -> sa.Table:
    """Add nullable columns that a newer version writes; earlier runs' rows hold NULL there.

    Runs inside the publishing transaction, so a later failure also undoes the
    ALTER TABLE (SQLite and PostgreSQL both roll back DDL).
    """
    preparer = connection.dialect.identifier_preparer
    for column in columns:
        sql_type = _sql_type(frame[column], table.name, column).compile(dialect=connection.dialect)
        connection.exec_driver_sql(
            f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN {preparer.quote(column)} {sql_type}"
        )
        logger.info("table %s: added column %s %s", table.name, column, sql_type)
    return sa.Table(table.name, sa.MetaData(), autoload_with=connection)


def _existing_or_new_table(connection: sa.Connection, name: str, frame: pd.DataFrame) -> sa.Table:
    metadata = sa.MetaData()
    if sa.inspect(connection).has_table(name):
        return sa.Table(name, metadata, autoload_with=connection)
    # as_of and run_id have fixed types, so an empty first frame cannot make them TEXT.
    fixed = {"as_of": sa.Date(), "run_id": sa.Text()}
    columns = [
        sa.Column(column, fixed.get(column) or _sql_type(frame[column], name, column)) for column in frame.columns
    ]
    table = sa.Table(name, metadata, *columns)
    table.create(connection)
    sa.Index(f"ix_{name}_as_of", table.c.as_of).create(connection)
    return table


def _sql_type(column: pd.Series, table: str, name: str) -> sa.types.TypeEngine:
    if pd.api.types.is_bool_dtype(column):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(column):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(column):
        return sa.Double()
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return sa.DateTime(timezone=True)
    if pd.api.types.is_datetime64_dtype(column):
        return sa.DateTime()
    kind = pd.api.types.infer_dtype(column, skipna=True)
    types = {"string": sa.Text, "empty": sa.Text, "date": sa.Date, "boolean": sa.Boolean,
             "integer": sa.BigInteger, "floating": sa.Double, "mixed-integer-float": sa.Double}
    if kind == "datetime":
        return sa.DateTime()
    if kind not in types:
        raise PublishError("publish.unsupported_column", table=table, column=name, kind=kind)
    return types[kind]()


def _insert(connection: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> int:
    """Insert the frame's rows with one executemany; return how many.

    Values are converted column by column, with the SQL type's own bind processor
    (dates as text on SQLite, for example), and passed to the driver as tuples.
    Per-row parameter dicts through SQLAlchemy cost several times the database's
    own work on a large run.
    """
    if frame.empty:
        return 0
    dialect = connection.dialect
    columns = []
    for name in frame.columns:
        values = _python_values(frame[name])
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            values = [None if value is None else processor(value) for value in values]
        columns.append(values)
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(str(name)) for name in frame.columns)}) "
           f"VALUES ({', '.join([marker] * len(columns))})")
    connection.exec_driver_sql(sql, list(zip(*columns)))
    return len(frame)


def _python_values(column: pd.Series) -> list[object]:
    """Turn a column into Python values with None for every missing value."""
    if column.dtype != object:
        try:
            # Arrow converts a typed column to Python values many times faster than pandas does.
            return pa.Array.from_pandas(column).to_pylist()
        except (pa.ArrowException, TypeError):
            pass
    values = column.astype(object).where(column.notna(), None).tolist()
    if pd.api.types.is_datetime64_any_dtype(column):
        values = [None if v is None else v.to_pydatetime() for v in values]
    return [v.item() if isinstance(v, np.generic) else v for v in values]
