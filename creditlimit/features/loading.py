"""Read the canonical input tables as text from a raw folder or from a SQL database.

Loading decides nothing about values: every value is kept as the text the source
holds, and validation decides what is missing or invalid. Loading only checks the
shape of each table. A missing table, an empty or unreadable file, a header that
cannot be parsed or a missing required column raises
:class:`~creditlimit.errors.InputDataError`. Unknown extra columns are logged once
and dropped, and absent optional columns are added with every value missing.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import logging
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy
import sqlalchemy.exc

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.contract import TABLE_ORDER, TABLES
from creditlimit.i18n import register

__all__ = ["ENCODINGS", "RawTable", "read_raw_folder", "read_table_file", "read_sql_tables"]

logger = logging.getLogger(__name__)

ENCODINGS = ("auto", "utf-8", "gb18030")
"""Values of ``data.encoding``. ``auto`` reads UTF-8 and falls back to GB18030."""

# Spellings accepted for each encoding. GB18030 is a superset of GBK and GB2312,
# the encodings Chinese Excel uses for "CSV (comma delimited)".
_ENCODING_NAMES = {
    "auto": "auto", "utf-8": "utf-8", "utf8": "utf-8",
    "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030",
}
# Python codec per encoding; utf-8-sig also accepts a byte order mark.
_CODECS = {"utf-8": "utf-8-sig", "gb18030": "gb18030"}
# Bytes read from the start of a CSV file to recognise a file that is not text.
_HEAD_BYTES = 8192

register({
    "validation.raw_dir_not_found": {
        "en": "{folder}: the raw data folder does not exist or is not a folder. "
              "Pass the folder that contains the input tables with --raw, or set data.raw_dir "
              "in params.yaml.",
        "zh_CN": "{folder}：原始数据文件夹不存在或不是文件夹。"
                 "请用 --raw 指定存放输入表的文件夹，或在 params.yaml 中设置 data.raw_dir。",
    },
    "validation.missing_table_file": {
        "en": "{folder}: input tables are missing: {tables}. Add the files {expected} "
              "to this folder (an empty table needs only its header row).",
        "zh_CN": "{folder}：缺少输入表 {tables}。请在该文件夹中添加文件 {expected}"
                 "（空表只需表头行）。",
    },
    "validation.ambiguous_table_file": {
        "en": "{folder}: table '{table}' is present twice, as {files}. "
              "Keep one of the two files and remove the other.",
        "zh_CN": "{folder}：表“{table}”同时存在两个文件 {files}。请只保留其中一个文件。",
    },
    "validation.empty_file": {
        "en": "{file}: the file is empty (0 bytes). Export the table again. "
              "A table without rows still needs its header row.",
        "zh_CN": "{file}：文件为空（0 字节）。请重新导出该表；没有数据行的表也必须包含表头行。",
    },
    "validation.bad_header": {
        "en": "{file}: the header row cannot be parsed ({problem}). The first line must "
              "list the column names, separated by commas.",
        "zh_CN": "{file}：无法解析表头行（{problem}）。第一行必须是以逗号分隔的列名。",
    },
    "validation.empty_column_name": {
        "en": "{file}: column {position} has no name in the header. "
              "Name the column or remove it.",
        "zh_CN": "{file}：表头中第 {position} 列没有列名。请为该列命名或删除该列。",
    },
    "validation.duplicate_column": {
        "en": "{file}: column '{column}' appears more than once in the header. "
              "Keep one column of that name.",
        "zh_CN": "{file}：表头中列“{column}”出现了不止一次。请只保留一个同名列。",
    },
    "validation.not_utf8": {
        "en": "{file} line {line}: the text is not valid UTF-8 (byte {byte} cannot be "
              "decoded, so the file may be saved as GBK or another legacy encoding). "
              "Save the file as UTF-8 (in Excel: 'CSV UTF-8') and run again, or set "
              "data.encoding in params.yaml to the file's encoding (auto, utf-8 or gb18030).",
        "zh_CN": "{file} 第 {line} 行：文本不是有效的 UTF-8 编码（无法解码字节 {byte}，"
                 "文件可能以 GBK 等旧编码保存）。请将文件另存为 UTF-8"
                 "（Excel 中选择“CSV UTF-8”）后重新运行，或在 params.yaml 中将 "
                 "data.encoding 设为该文件的编码（auto、utf-8 或 gb18030）。",
    },
    "validation.undecodable": {
        "en": "{file} line {line}: the text is neither UTF-8 nor GB18030/GBK (byte {byte} "
              "cannot be decoded). Save the file as UTF-8 (in Excel: 'CSV UTF-8') and run again.",
        "zh_CN": "{file} 第 {line} 行：文本既不是 UTF-8 也不是 GB18030/GBK 编码（无法解码字节 "
                 "{byte}）。请将文件另存为 UTF-8（Excel 中选择“CSV UTF-8”）后重新运行。",
    },
    "validation.invalid_encoding": {
        "en": "data.encoding must be one of {allowed}; got {value!r}. Correct it in params.yaml.",
        "zh_CN": "data.encoding 必须是 {allowed} 之一，实际为 {value!r}。请在 params.yaml 中更正。",
    },
    "validation.unreadable_file": {
        "en": "{file}: the file cannot be opened ({problem}). Check that the file exists "
              "and that the user running creditlimit may read it.",
        "zh_CN": "{file}：无法打开该文件（{problem}）。请检查文件是否存在，"
                 "以及运行 creditlimit 的用户是否有读取权限。",
    },
    "validation.binary_file": {
        "en": "{file}: the file is not text but binary data (it contains NUL bytes at "
              "byte {offset}), so it is not a CSV file. Export the table again as "
              "comma-separated UTF-8 text.",
        "zh_CN": "{file}：该文件不是文本而是二进制数据（第 {offset} 字节处含 NUL 字节），"
                 "因此不是 CSV 文件。请将该表重新导出为逗号分隔的 UTF-8 文本文件。",
    },
    "validation.excel_workbook": {
        "en": "{file}: the file is an Excel workbook, not a CSV file. Open it in Excel and "
              "save it as 'CSV UTF-8 (comma delimited)'.",
        "zh_CN": "{file}：该文件是 Excel 工作簿，不是 CSV 文件。请在 Excel 中打开它，"
                 "并另存为“CSV UTF-8（逗号分隔）”。",
    },
    "validation.parquet_named_csv": {
        "en": "{file}: the file is a Parquet file with a .csv name. Rename it to "
              "{expected}.",
        "zh_CN": "{file}：该文件是 Parquet 文件，却以 .csv 命名。请将其重命名为 {expected}。",
    },
    "validation.utf16_file": {
        "en": "{file}: the file is encoded as UTF-16 (Excel 'Unicode Text'). Save it as "
              "'CSV UTF-8 (comma delimited)' instead.",
        "zh_CN": "{file}：该文件为 UTF-16 编码（Excel 的“Unicode 文本”）。"
                 "请改为另存为“CSV UTF-8（逗号分隔）”。",
    },
    "validation.csv_field_count": {
        "en": "{file} line {line}: the row has {count} fields but the header has "
              "{expected}. Put values that contain commas in double quotes, "
              "or remove the extra fields.",
        "zh_CN": "{file} 第 {line} 行：该行有 {count} 个字段，而表头有 {expected} 个。"
                 "请用双引号括起包含逗号的值，或删除多余的字段。",
    },
    "validation.csv_parse_error": {
        "en": "{file}: the file cannot be parsed as CSV ({problem}). Check the quoting "
              "near the reported line and export the table again as comma-separated UTF-8.",
        "zh_CN": "{file}：无法按 CSV 解析该文件（{problem}）。请检查报告行附近的引号，"
                 "并将该表重新导出为逗号分隔的 UTF-8 文件。",
    },
    "validation.unreadable_parquet": {
        "en": "{file}: the file cannot be read as Parquet ({problem}). "
              "Export the table again as Parquet or as CSV.",
        "zh_CN": "{file}：无法按 Parquet 读取该文件（{problem}）。"
                 "请将该表重新导出为 Parquet 或 CSV 文件。",
    },
    "validation.unsupported_column_type": {
        "en": "{file}: column '{column}' has the type {type}, which cannot be read as "
              "a single value per row. Store it as text, a number, a date or a boolean.",
        "zh_CN": "{file}：列“{column}”的类型为 {type}，无法按每行一个值读取。"
                 "请将其存储为文本、数字、日期或布尔值。",
    },
    "validation.missing_column": {
        "en": "{file}: required column '{column}' is missing. Add the column to the "
              "file. Table {table} requires {required}.",
        "zh_CN": "{file}：缺少必需列“{column}”。请在文件中添加该列；"
                 "表 {table} 的必需列为 {required}。",
    },
    "validation.missing_columns": {
        "en": "{file}: required columns are missing: {columns}. Add the columns to the "
              "file. Table {table} requires {required}.",
        "zh_CN": "{file}：缺少必需列 {columns}。请在文件中添加这些列；"
                 "表 {table} 的必需列为 {required}。",
    },
    "validation.wrong_delimiter": {
        "en": "{file}: the header '{header}' looks separated by '{delimiter}', but files must be "
              "comma-separated. Save the file as CSV with commas (in Excel: CSV UTF-8).",
        "zh_CN": "{file}：表头“{header}”似乎以“{delimiter}”分隔，但文件必须以逗号分隔。"
                 "请将文件另存为逗号分隔的 CSV（Excel 中选择“CSV UTF-8”）。",
    },
    "validation.invalid_database_url": {
        "en": "'{url}' is not a valid SQLAlchemy database URL ({problem}). "
              "Use a URL such as sqlite:///path/to/file.db.",
        "zh_CN": "“{url}”不是有效的 SQLAlchemy 数据库 URL（{problem}）。"
                 "请使用例如 sqlite:///path/to/file.db 的 URL。",
    },
    "validation.missing_sql_table": {
        "en": "{database}: tables are missing: {tables}. Create them with the "
              "columns of the data contract (an empty table is fine).",
        "zh_CN": "{database}：缺少数据表 {tables}。请按数据约定的列创建这些表（可以为空表）。",
    },
    "validation.sql_read_failed": {
        "en": "{database}: reading table '{table}' failed ({problem}). "
              "Check that the database is reachable and the table can be selected.",
        "zh_CN": "{database}：读取数据表“{table}”失败（{problem}）。"
                 "请检查数据库能否连接以及该表能否查询。",
    },
    "validation.sql_binary_value": {
        "en": "{file} row {row}: column '{column}' holds binary data that is not UTF-8 "
              "text. Store the value as text.",
        "zh_CN": "{file} 第 {row} 行：列“{column}”包含不是 UTF-8 文本的二进制数据。"
                 "请将该值存为文本。",
    },
})


@dataclass(frozen=True, eq=False)
class RawTable:
    """One canonical table as read, before validation.

    Attributes
    ----------
    name : str
        Table name, a key of :data:`~creditlimit.features.contract.TABLES`.
    frame : pandas.DataFrame
        Every contract column in contract order (absent optional columns are added
        with every value missing), dtype ``str``, with a RangeIndex. Values are the
        source text, unstripped. A value is missing only where the source contains
        a null (SQL or Parquet). CSV values are never missing, but may be empty text.
    source_file : str
        File path, or database URL (password hidden) followed by ``#<table>``.
    source_rows : numpy.ndarray of int64, shape (n_rows,)
        1-based row number of each row in the source. For CSV this is the line
        number with the header on line 1, so the first data row is 2. For Parquet
        and SQL it is the row position plus 1.
    extra_columns : tuple of str
        Unknown columns found in the source and dropped.
    encoding : str or None
        Encoding a CSV file was read with (``utf-8`` or ``gb18030``), None for
        Parquet and SQL.
    """

    name: str
    frame: pd.DataFrame
    source_file: str
    source_rows: np.ndarray
    extra_columns: tuple[str, ...] = ()
    encoding: str | None = None

    def __post_init__(self) -> None:
        if len(self.source_rows) != len(self.frame):
            raise ValueError(
                f"source_rows has {len(self.source_rows)} entries for {len(self.frame)} rows."
            )


def read_raw_folder(raw_dir: Path, *, encoding: str = "auto") -> dict[str, RawTable]:
    """Read ``<table>.csv`` or ``<table>.parquet`` for every canonical table.

    Parameters
    ----------
    raw_dir : pathlib.Path
        Folder with one file per table. Other files and folders (such as
        ``_truth/``) are ignored.
    encoding : {"auto", "utf-8", "gb18030"}, default "auto"
        Encoding of the CSV files (``data.encoding``). ``auto`` reads a file as
        UTF-8 and, when it is not UTF-8 but decodes as GB18030 (which includes
        GBK, the encoding of Chinese Excel's CSV export), as GB18030 with a
        warning. ``gbk`` and ``gb2312`` are accepted as ``gb18030``.

    Returns
    -------
    dict of str to RawTable
        One entry per table, in load order (``TABLE_ORDER``).

    Raises
    ------
    ParamsError
        If ``encoding`` is not one of :data:`ENCODINGS`.
    InputDataError
        If the folder does not exist, a table has no file or two files (CSV and
        Parquet), or a file is empty, unreadable, binary, not in the encoding, has
        a header that cannot be parsed or lacks a required column.
    """
    encoding = _check_encoding(encoding)
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputDataError("validation.raw_dir_not_found", folder=str(raw_dir))

    paths = {name: _find_table_file(raw_dir, name) for name in TABLE_ORDER}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        expected = ", ".join(f"{name}.csv / {name}.parquet" for name in missing)
        raise InputDataError(
            "validation.missing_table_file",
            folder=str(raw_dir), tables=", ".join(missing), expected=expected,
        )
    return {name: read_table_file(path, table=name, encoding=encoding) for name, path in paths.items()}


def read_table_file(path: Path, *, table: str, encoding: str = "auto") -> RawTable:
    """Read one table file (``.csv`` or ``.parquet``) as text.

    Parameters
    ----------
    path : pathlib.Path
        The file. CSV must be comma separated, with a header row, in ``encoding``
        (a UTF-8 byte order mark is accepted).
    table : str
        Canonical table name that selects the column contract.
    encoding : {"auto", "utf-8", "gb18030"}, default "auto"
        Encoding of a CSV file, as in :func:`read_raw_folder`.

    Returns
    -------
    RawTable

    Raises
    ------
    ParamsError
        If ``encoding`` is not one of :data:`ENCODINGS`.
    InputDataError
        If the file does not exist, cannot be opened, is empty, is binary (an
        Excel workbook, Parquet under a .csv name, UTF-16 text), cannot be parsed,
        is not in the encoding or lacks a required column.
    """
    encoding = _check_encoding(encoding)
    path = Path(path)
    if not path.is_file():
        raise InputDataError(
            "validation.missing_table_file", folder=str(path.parent), tables=table, expected=path.name
        )
    head = _read_head(path)
    if not head:
        raise InputDataError("validation.empty_file", file=str(path))
    if path.suffix == ".parquet":
        frame, source_rows, extra = _read_parquet(path, table)
        return _to_raw_table(table, frame, str(path), source_rows, extra_columns=extra)

    _check_text_file(path, head)
    try:
        frame, source_rows, used = _read_csv(path, encoding)
    except OSError as err:
        raise InputDataError("validation.unreadable_file", file=str(path), problem=str(err)) from None
    return _to_raw_table(table, frame, str(path), source_rows, encoding=used)


def read_sql_tables(url: str) -> dict[str, RawTable]:
    """Read every canonical table from a SQL database through SQLAlchemy.

    Values are fetched without SQLAlchemy type processing and turned into text:
    dates as ``YYYY-MM-DD``, booleans as ``true``/``false``, numbers as written by
    Python, and SQL NULL as missing. A timestamp at midnight becomes its date, and
    any other timestamp keeps its time, so validation rejects it as a date.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL, such as ``sqlite:///path/to/file.db``.

    Returns
    -------
    dict of str to RawTable
        One entry per table, in load order. Row numbers follow the order in which
        the database returns rows (no ORDER BY is applied).

    Raises
    ------
    ParamsError
        If ``url`` is not a valid SQLAlchemy URL.
    InputDataError
        If a table is missing, cannot be read or lacks a required column.
    """
    try:
        engine = sqlalchemy.create_engine(url)
    except (sqlalchemy.exc.ArgumentError, ImportError) as err:
        raise ParamsError("validation.invalid_database_url", url=url, problem=str(err)) from err
    database = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            return _read_sql_tables(connection, database)
    finally:
        engine.dispose()


# --- CSV ---------------------------------------------------------------------


def _read_head(path: Path) -> bytes:
    """Return the first bytes of ``path``, raising a clear error when it cannot be opened."""
    try:
        with path.open("rb") as handle:
            return handle.read(_HEAD_BYTES)
    except OSError as err:
        raise InputDataError(
            "validation.unreadable_file", file=str(path), problem=err.strerror or str(err)
        ) from None


def _check_text_file(path: Path, head: bytes) -> None:
    """Reject a .csv file whose first bytes show it is a workbook, Parquet, UTF-16 or binary."""
    file = str(path)
    # Signatures: ZIP (xlsx) and OLE2 (xls) containers, Parquet, UTF-16 byte order marks.
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputDataError("validation.excel_workbook", file=file)
    if head.startswith(b"PAR1"):
        raise InputDataError("validation.parquet_named_csv", file=file, expected=path.with_suffix(".parquet").name)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputDataError("validation.utf16_file", file=file)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputDataError("validation.binary_file", file=file, offset=nul + 1)


def _check_encoding(encoding: object) -> str:
    name = _ENCODING_NAMES.get(str(encoding).strip().lower()) if isinstance(encoding, str) else None
    if name is None:
        raise ParamsError("validation.invalid_encoding", value=encoding, allowed=", ".join(ENCODINGS))
    return name


def _read_csv(path: Path, encoding: str) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Read a CSV file in ``encoding``, or in UTF-8 then GB18030 for ``auto``."""
    if encoding != "auto":
        try:
            return (*_read_csv_as(path, _CODECS[encoding]), encoding)
        except UnicodeDecodeError:
            key = "validation.not_utf8" if encoding == "utf-8" else "validation.undecodable"
            raise _decode_error(path, key, _CODECS[encoding]) from None

    try:
        return (*_read_csv_as(path, _CODECS["utf-8"]), "utf-8")
    except UnicodeDecodeError:
        pass
    if not _decodes_as(path, _CODECS["gb18030"]):
        raise _decode_error(path, "validation.undecodable", _CODECS["utf-8"])
    logger.warning(
        "%s: the file is not UTF-8 but decodes as GB18030 (GBK), so it is read as GB18030; "
        "set data.encoding to pin the encoding", path,
    )
    return (*_read_csv_as(path, _CODECS["gb18030"]), "gb18030")


def _read_csv_as(path: Path, codec: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a CSV file with ``codec``; a UnicodeDecodeError propagates to the caller."""
    header = _read_csv_header(path, codec)
    try:
        # pandas warns and silently drops the surplus fields when the first data
        # row is longer than the header, so that warning is turned into an error.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, header=0, names=header, dtype=str, keep_default_na=False,
                na_filter=False, skip_blank_lines=False, index_col=False,
                encoding=codec,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        raise _csv_parse_error(path, len(header), err, codec) from None

    source_rows = _csv_line_numbers(frame)
    # Blank lines carry no record, so they are skipped but keep the numbering.
    blank = frame.eq("").all(axis=1).to_numpy()
    if blank.any():
        logger.warning("%s: skipped %d blank lines", path, int(blank.sum()))
        frame = frame.loc[~blank].reset_index(drop=True)
        source_rows = source_rows[~blank]
    return frame, source_rows


def _read_csv_header(path: Path, codec: str) -> list[str]:
    try:
        with path.open("r", encoding=codec, newline="") as handle:
            # strict: a stray or unclosed quote in the header is an error, not a name.
            header = next(csv.reader(handle, strict=True), None)
    except csv.Error as err:
        raise InputDataError("validation.bad_header", file=str(path), problem=str(err)) from None
    if header is None or not any(name.strip() for name in header):
        raise InputDataError("validation.bad_header", file=str(path), problem="the first line is blank")
    names = [name.strip() for name in header]
    _check_delimiter(names, str(path))
    _check_column_names(names, str(path))
    return names


def _check_delimiter(names: list[str], source_file: str) -> None:
    """Reject a header that is one name holding other delimiters, before any row is parsed."""
    if len(names) != 1:
        return
    for delimiter in (";", "\t", "|"):
        if delimiter in names[0]:
            raise InputDataError("validation.wrong_delimiter", file=source_file, header=names[0][:80],
                                 delimiter=delimiter.replace("\t", "\\t"))


def _csv_line_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Return the line on which each CSV record starts (header on line 1).

    A quoted value that contains line breaks spans several lines, so each record
    starts after the line breaks held by the records before it.
    """
    numbers = np.arange(2, len(frame) + 2, dtype=np.int64)
    if frame.empty:
        return numbers
    breaks = np.zeros(len(frame), dtype=np.int64)
    for column in frame.columns:
        breaks += frame[column].str.count("\n").fillna(0).to_numpy(dtype=np.int64)
    if breaks.any():
        numbers += np.concatenate(([0], np.cumsum(breaks)[:-1]))
    return numbers


def _decodes_as(path: Path, codec: str) -> bool:
    """Return whether the whole file decodes with ``codec``, reading it in chunks."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode_error(path: Path, key: str, codec: str) -> InputDataError:
    """Build error ``key`` naming the first line that ``codec`` cannot decode."""
    line_number = 0
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            try:
                line.decode(codec)
            except UnicodeDecodeError as err:
                return InputDataError(key, file=str(path), line=line_number, byte=f"0x{line[err.start]:02X}")
    # Every line decoded on its own, so the file changed after pandas failed to read it.
    return InputDataError(key, file=str(path), line=line_number, byte="?")


def _csv_parse_error(path: Path, expected: int, err: Exception, codec: str) -> InputDataError:
    with path.open("r", encoding=codec, newline="") as handle:
        reader = csv.reader(handle)
        try:
            for fields in reader:
                if len(fields) > expected:
                    return InputDataError(
                        "validation.csv_field_count", file=str(path),
                        line=reader.line_num, count=len(fields), expected=expected,
                    )
        except csv.Error:
            pass
    return InputDataError("validation.csv_parse_error", file=str(path), problem=str(err))


# --- Parquet -----------------------------------------------------------------


def _read_parquet(path: Path, table: str) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    try:
        stored_names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as err:
        raise InputDataError("validation.unreadable_parquet", file=str(path), problem=str(err)) from None
    names = [name.strip() for name in stored_names]
    _check_column_names(names, str(path))

    # Only contract columns are read, so an extra column of any type is harmless.
    contract = TABLES[table].columns
    columns_to_read = [stored for stored, name in zip(stored_names, names) if name in contract]
    extra = tuple(name for name in names if name not in contract)
    try:
        arrow_table = pq.read_table(path, columns=columns_to_read)
    except (pa.ArrowException, OSError) as err:
        raise InputDataError("validation.unreadable_parquet", file=str(path), problem=str(err)) from None

    columns = {}
    for stored, column in zip(columns_to_read, arrow_table.columns):
        name = stored.strip()
        text = _arrow_to_text(column, file=str(path), column_name=name)
        columns[name] = pd.Series(text.to_pandas(), dtype="str")
    frame = pd.DataFrame(columns, index=pd.RangeIndex(arrow_table.num_rows))
    return frame, np.arange(1, arrow_table.num_rows + 1, dtype=np.int64), extra


def _arrow_to_text(column: pa.ChunkedArray, *, file: str, column_name: str) -> pa.ChunkedArray:
    """Turn one Arrow column into text the way a CSV export would write it."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    kind = column.type
    if pa.types.is_floating(kind):
        # NaN is the float form of a missing value, not the text "nan".
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column)
    elif pa.types.is_timestamp(kind):
        return _timestamps_to_text(column)
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:
            return column.cast(pa.string())
        except pa.ArrowInvalid:
            raise InputDataError(
                "validation.unsupported_column_type", file=file, column=column_name, type=str(kind)
            ) from None
    elif pa.types.is_nested(kind):
        raise InputDataError(
            "validation.unsupported_column_type", file=file, column=column_name, type=str(kind)
        )
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        raise InputDataError(
            "validation.unsupported_column_type", file=file, column=column_name, type=str(kind)
        ) from None


def _timestamps_to_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Write midnight timestamps as their date and any other as an ISO timestamp."""
    if column.type.tz is not None:
        # Wall-clock time in the stored zone, so a date keeps its calendar day.
        column = pc.local_timestamp(column)
    day = pc.cast(column, pa.date32(), safe=False)
    at_midnight = pc.equal(pc.cast(day, column.type), column)
    seconds = pc.cast(column, pa.timestamp("s"), safe=False)
    return pc.if_else(at_midnight, pc.cast(day, pa.string()), pc.strftime(seconds, "%Y-%m-%dT%H:%M:%S"))


# --- SQL ---------------------------------------------------------------------


def _read_sql_tables(connection: sqlalchemy.Connection, database: str) -> dict[str, RawTable]:
    try:
        present = set(sqlalchemy.inspect(connection).get_table_names())
    except sqlalchemy.exc.SQLAlchemyError as err:
        raise InputDataError(
            "validation.sql_read_failed", database=database, table="*", problem=str(err)
        ) from None
    missing = [name for name in TABLE_ORDER if name not in present]
    if missing:
        raise InputDataError("validation.missing_sql_table", database=database, tables=", ".join(missing))

    tables = {}
    for name in TABLE_ORDER:
        quoted = connection.dialect.identifier_preparer.quote(name)
        try:
            result = connection.exec_driver_sql(f"SELECT * FROM {quoted}")
            names = [str(key).strip() for key in result.keys()]
            rows = result.fetchall()
        except sqlalchemy.exc.SQLAlchemyError as err:
            raise InputDataError(
                "validation.sql_read_failed", database=database, table=name, problem=str(err)
            ) from None
        source_file = f"{database}#{name}"
        _check_column_names(names, source_file)
        frame = _rows_to_text_frame(rows, names, source_file)
        source_rows = np.arange(1, len(rows) + 1, dtype=np.int64)
        tables[name] = _to_raw_table(name, frame, source_file, source_rows)
    return tables


def _rows_to_text_frame(rows: Sequence[Sequence[object]], names: list[str], source_file: str) -> pd.DataFrame:
    columns = {}
    for position, name in enumerate(names):
        values = [row[position] for row in rows]
        columns[name] = pd.Series(
            _python_values_to_text(values, source_file=source_file, column=name), dtype="str"
        )
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))


def _python_values_to_text(values: Iterable[object], *, source_file: str, column: str) -> list[str | None]:
    texts = []
    for row_number, value in enumerate(values, start=1):
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                raise InputDataError(
                    "validation.sql_binary_value", file=source_file, row=row_number, column=column
                ) from None
        texts.append(_python_value_to_text(value))
    return texts


def _python_value_to_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return None if math.isnan(value) else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return None if value.is_nan() else str(value)
    return str(value)


# --- Shared ------------------------------------------------------------------


def _find_table_file(raw_dir: Path, name: str) -> Path | None:
    candidates = [raw_dir / f"{name}.{suffix}" for suffix in ("csv", "parquet")]
    found = [path for path in candidates if path.is_file()]
    if len(found) > 1:
        raise InputDataError(
            "validation.ambiguous_table_file", folder=str(raw_dir), table=name,
            files=" / ".join(path.name for path in found),
        )
    return found[0] if found else None


def _check_column_names(names: Sequence[str], source_file: str) -> None:
    seen = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise InputDataError("validation.empty_column_name", file=source_file, position=position)
        if name in seen:
            raise InputDataError("validation.duplicate_column", file=source_file, column=name)
        seen.add(name)


def _to_raw_table(
    name: str,
    frame: pd.DataFrame,
    source_file: str,
    source_rows: np.ndarray,
    *,
    extra_columns: tuple[str, ...] | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Select the contract columns by name, add absent optional ones, drop the rest."""
    spec = TABLES[name]
    missing = [column for column in spec.required if column not in frame.columns]
    if len(missing) == 1:
        raise InputDataError(
            "validation.missing_column", file=source_file, table=name,
            column=missing[0], required=", ".join(spec.required),
        )
    if missing:
        raise InputDataError(
            "validation.missing_columns", file=source_file, table=name,
            columns=", ".join(missing), required=", ".join(spec.required),
        )

    if extra_columns is None:
        extra_columns = tuple(column for column in frame.columns if column not in spec.columns)
    if extra_columns:
        logger.warning(
            "%s: ignoring %d columns that are not in the %s contract: %s",
            source_file, len(extra_columns), name, ", ".join(extra_columns),
        )

    index = pd.RangeIndex(len(frame))
    columns = {}
    for column in spec.columns:
        if column in frame.columns:
            columns[column] = pd.Series(frame[column].to_numpy(), index=index, dtype="str")
        else:
            columns[column] = pd.Series([None] * len(frame), index=index, dtype="str")
    return RawTable(
        name=name,
        frame=pd.DataFrame(columns, index=index),
        source_file=source_file,
        source_rows=np.asarray(source_rows, dtype=np.int64),
        extra_columns=tuple(extra_columns),
        encoding=encoding,
    )
