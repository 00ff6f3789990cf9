"""Tamper-evident, append-only ledger of limit decisions.

Every record is stored as canonical JSON (sorted keys, no spaces, UTF-8) in a
``decision_ledger`` table, next to its sequence number, its ``prev_hash`` and its
own ``hash`` = SHA-256 of ``prev_hash`` + newline + the canonical JSON. Editing a
record breaks its own hash. Removing, reordering or inserting records breaks the
sequence or the chain at the first record after the change. The ``ledger_head``
row contains the count and last hash, written in the same transaction as the
records, so removing records from the end is detected too. Someone who rewrites
the whole chain and the head is caught only against an outside copy of a head
hash: each scoring run stores the head in its manifest, and :func:`verify_ledger`
checks those anchors when given.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from creditlimit.errors import InputDataError, PublishError
from creditlimit.i18n import register
from creditlimit.serving.database import create_database_engine, shown_url

__all__ = [
    "GENESIS_HASH",
    "LedgerHead",
    "LedgerProblem",
    "append_records",
    "canonical_json",
    "iter_records",
    "last_record",
    "ledger_head",
    "read_records",
    "record_hash",
    "verify_ledger",
]

GENESIS_HASH = "0" * 64
# Rows per INSERT when appending and per fetch when reading.
INSERT_CHUNK = 10_000

_METADATA = sa.MetaData()
_RECORDS = sa.Table(
    "decision_ledger", _METADATA,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("decision_id", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("customer_id", sa.String(200), index=True),
    sa.Column("run_id", sa.String(200), index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
_HEAD = sa.Table(
    "ledger_head", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
)

register({
    "ledger.not_json_ready": {
        "en": "Ledger record field '{field}' has a value that cannot be stored as JSON: {value!r}.",
        "zh_CN": "台账记录字段“{field}”的取值无法保存为 JSON：{value!r}。",
    },
    "ledger.missing_field": {
        "en": "Ledger record lacks the required field '{field}': {record}.",
        "zh_CN": "台账记录缺少必需字段“{field}”：{record}。",
    },
    "ledger.database_failed": {
        "en": "Writing to the decision ledger at {url} failed: {error}. Nothing was appended.",
        "zh_CN": "写入决策台账 {url} 失败：{error}。未追加任何记录。",
    },
    "ledger.not_found": {
        "en": "The decision ledger {path} does not exist. Check ledger.database_url in params.yaml; a scoring run creates it.",
        "zh_CN": "决策台账 {path} 不存在。请检查 params.yaml 中的 ledger.database_url；评分运行会创建该台账。",
    },
    "ledger.unreadable": {
        "en": "The decision ledger at {url} cannot be read as a ledger: {error}. Restore it from a backup.",
        "zh_CN": "无法将 {url} 读取为决策台账：{error}。请从备份恢复。",
    },
    "ledger.problem.bad_hash": {
        "en": "record {seq} (decision {decision_id}) was edited: its hash does not match its content",
        "zh_CN": "第 {seq} 条记录（决策 {decision_id}）已被修改：哈希值与内容不符",
    },
    "ledger.problem.bad_link": {
        "en": "record {seq} (decision {decision_id}) does not follow the record before it: a record was removed, inserted or moved before it",
        "zh_CN": "第 {seq} 条记录（决策 {decision_id}）与前一条记录不衔接：其前方有记录被删除、插入或移动",
    },
    "ledger.problem.bad_seq": {
        "en": "record at position {position} has sequence number {seq}, expected {expected}: a record was removed, inserted or moved",
        "zh_CN": "第 {position} 个位置的记录序号为 {seq}，应为 {expected}：有记录被删除、插入或移动",
    },
    "ledger.problem.column_mismatch": {
        "en": "record {seq} (decision {decision_id}) was edited: column '{column}' differs from the hashed content",
        "zh_CN": "第 {seq} 条记录（决策 {decision_id}）已被修改：列“{column}”与已计算哈希的内容不符",
    },
    "ledger.problem.head_mismatch": {
        "en": "the ledger head names {head_count} records ending in hash {head_hash}, but the table has {count} records ending in {last_hash}: records were removed from or added to the end",
        "zh_CN": "台账头记录为 {head_count} 条、末尾哈希 {head_hash}，但表中有 {count} 条、末尾哈希 {last_hash}：末尾有记录被删除或添加",
    },
    "ledger.problem.anchor_mismatch": {
        "en": "run {run_id} recorded the ledger at {count} records with hash {expected}, but record {count} now has hash {found}",
        "zh_CN": "运行 {run_id} 记录台账时为 {count} 条、哈希 {expected}，但第 {count} 条记录现在的哈希为 {found}",
    },
})

# Fields every record carries; the rest of a record is free-form but JSON-ready.
_REQUIRED = ("decision_id", "kind")


@dataclass(frozen=True)
class LedgerHead:
    """Number of records and the hash of the last one (GENESIS_HASH when empty)."""

    count: int
    last_hash: str


@dataclass(frozen=True)
class LedgerProblem:
    """The first inconsistency found by :func:`verify_ledger`, as a catalog message."""

    seq: int | None
    key: str
    params: dict

    def text(self, locale: str | None = None) -> str:
        from creditlimit.i18n import translate

        return translate(self.key, locale, **self.params)


def canonical_json(record: Mapping[str, object]) -> str:
    """Serialise ``record`` the one way that hashing uses."""
    for field, value in record.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise PublishError("ledger.not_json_ready", field=field, value=value)
    try:
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as error:
        raise PublishError("ledger.not_json_ready", field="?", value=str(error)) from error


def record_hash(prev_hash: str, payload: str) -> str:
    """Hash of one record: SHA-256 over the previous hash, a newline and the payload."""
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode("utf-8")).hexdigest()


def append_records(url: str, records: Iterable[Mapping[str, object]]) -> LedgerHead:
    """Append ``records`` in order, in one transaction, and return the new head.

    Each record needs ``decision_id`` and ``kind``; ``customer_id`` is indexed
    when present. The head row is read and written in the same transaction, so
    concurrent writers cannot fork the chain (SQLite takes the write lock at
    BEGIN; PostgreSQL locks the head row with SELECT ... FOR UPDATE). Records are
    inserted ``INSERT_CHUNK`` at a time, so an iterator of a million records never
    sits in memory whole. A record that fails its check rolls all of them back.
    """
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            _METADATA.create_all(connection)
            head = _locked_head(connection)
            count, last_hash, rows = head.count, head.last_hash, []
            for record in records:
                payload = _checked_payload(record)
                digest = record_hash(last_hash, payload)
                count += 1
                rows.append({
                    "seq": count, "decision_id": str(record["decision_id"]),
                    "kind": str(record["kind"]), "customer_id": _optional_text(record.get("customer_id")),
                    "run_id": _optional_text(record.get("run_id")),
                    "payload": payload, "prev_hash": last_hash, "hash": digest,
                })
                last_hash = digest
                if len(rows) == INSERT_CHUNK:
                    connection.execute(_RECORDS.insert(), rows)
                    rows = []
            if rows:
                connection.execute(_RECORDS.insert(), rows)
            new_head = LedgerHead(count=count, last_hash=last_hash)
            _write_head(connection, new_head)
    except sa.exc.SQLAlchemyError as error:
        raise PublishError("ledger.database_failed", url=shown_url(engine), error=error) from error
    finally:
        engine.dispose()
    return new_head


def ledger_head(url: str) -> LedgerHead:
    """Read the stored head (an empty ledger has count 0 and GENESIS_HASH)."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(_HEAD.name):
                return LedgerHead(0, GENESIS_HASH)
            row = connection.execute(sa.select(_HEAD.c.count, _HEAD.c.last_hash)).first()
    finally:
        engine.dispose()
    return LedgerHead(0, GENESIS_HASH) if row is None else LedgerHead(int(row.count), row.last_hash)


def read_records(url: str, *, customer_id: str | None = None, run_id: str | None = None,
                 decision_id: str | None = None, kinds: Sequence[str] | None = None) -> list[dict]:
    """Read records in sequence order, each with ``seq`` and ``hash`` added, optionally filtered by indexed columns."""
    return list(iter_records(url, customer_id=customer_id, run_id=run_id, decision_id=decision_id, kinds=kinds))


def iter_records(url: str, *, customer_id: str | None = None, run_id: str | None = None,
                 decision_id: str | None = None, kinds: Sequence[str] | None = None) -> Iterator[dict]:
    """Yield the records :func:`read_records` returns, fetched ``INSERT_CHUNK`` rows at a time."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(_RECORDS.name):
                return
            query = sa.select(_RECORDS).order_by(_RECORDS.c.seq)
            for column, value in (("customer_id", customer_id), ("run_id", run_id), ("decision_id", decision_id)):
                if value is not None:
                    query = query.where(_RECORDS.c[column] == value)
            if kinds is not None:
                query = query.where(_RECORDS.c.kind.in_(list(kinds)))
            result = connection.execution_options(yield_per=INSERT_CHUNK).execute(query)
            for row in result:
                yield {**json.loads(row.payload), "seq": int(row.seq), "hash": row.hash}
    finally:
        engine.dispose()


def last_record(url: str, *, run_id: str, kind: str) -> tuple[int, dict] | None:
    """Return how many records of ``kind`` a run has and the last of them, or None when it has none."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(_RECORDS.name):
                return None
            selected = _RECORDS.c.run_id == run_id, _RECORDS.c.kind == kind
            count, last_seq = connection.execute(
                sa.select(sa.func.count(), sa.func.max(_RECORDS.c.seq)).where(*selected)).one()
            if not count:
                return None
            row = connection.execute(sa.select(_RECORDS).where(_RECORDS.c.seq == last_seq)).one()
    finally:
        engine.dispose()
    return int(count), {**json.loads(row.payload), "seq": int(row.seq), "hash": row.hash}


def verify_ledger(url: str, anchors: Sequence[Mapping[str, object]] = ()) -> LedgerProblem | None:
    """Walk the chain and return the first problem, or None when the ledger is intact.

    ``anchors`` are heads recorded elsewhere (``run_id``, ``count``, ``hash``), for
    example in run manifests; each must still match the chain at that position.

    Raises
    ------
    InputDataError
        If the ledger database does not exist or cannot be read as a ledger.
    """
    _require_existing_sqlite(url)
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(_RECORDS.name):
                rows, head = [], LedgerHead(0, GENESIS_HASH)
            else:
                # Physical order (rowid/ctid is not portable): sort by seq, and the
                # seq check below catches records whose number was changed.
                rows = connection.execute(sa.select(_RECORDS).order_by(_RECORDS.c.seq)).all()
                stored = connection.execute(sa.select(_HEAD.c.count, _HEAD.c.last_hash)).first()
                head = LedgerHead(0, GENESIS_HASH) if stored is None else LedgerHead(int(stored.count), stored.last_hash)
    except sa.exc.SQLAlchemyError as error:
        raise InputDataError("ledger.unreadable", url=shown_url(engine), error=error) from error
    finally:
        engine.dispose()
    return _chain_problem(rows) or _head_problem(rows, head) or _anchor_problem(rows, anchors)


def _require_existing_sqlite(url: str) -> None:
    """Raise when a SQLite ledger file is missing, rather than create an empty one."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(parsed.database).is_file():
            raise InputDataError("ledger.not_found", path=parsed.database)


def _chain_problem(rows) -> LedgerProblem | None:
    previous = GENESIS_HASH
    for position, row in enumerate(rows, start=1):
        names = {"seq": int(row.seq), "decision_id": row.decision_id}
        if int(row.seq) != position:
            return LedgerProblem(int(row.seq), "ledger.problem.bad_seq",
                                 {"position": position, "seq": int(row.seq), "expected": position})
        if record_hash(row.prev_hash, row.payload) != row.hash:
            return LedgerProblem(int(row.seq), "ledger.problem.bad_hash", names)
        if row.prev_hash != previous:
            return LedgerProblem(int(row.seq), "ledger.problem.bad_link", names)
        column = _column_mismatch(row)
        if column:
            return LedgerProblem(int(row.seq), "ledger.problem.column_mismatch", {**names, "column": column})
        previous = row.hash
    return None


def _column_mismatch(row) -> str | None:
    payload = json.loads(row.payload)
    for column in ("decision_id", "kind", "customer_id", "run_id"):
        expected = _optional_text(payload.get(column))
        if getattr(row, column) != expected:
            return column
    return None


def _head_problem(rows, head: LedgerHead) -> LedgerProblem | None:
    last_hash = rows[-1].hash if rows else GENESIS_HASH
    if head.count == len(rows) and head.last_hash == last_hash:
        return None
    return LedgerProblem(None, "ledger.problem.head_mismatch", {
        "head_count": head.count, "head_hash": head.last_hash[:12],
        "count": len(rows), "last_hash": last_hash[:12],
    })


def _anchor_problem(rows, anchors: Sequence[Mapping[str, object]]) -> LedgerProblem | None:
    hashes = [row.hash for row in rows]
    for anchor in anchors:
        count, expected = int(anchor["count"]), str(anchor["hash"])
        if count == 0:
            continue
        found = hashes[count - 1] if count <= len(hashes) else "(missing)"
        if found != expected:
            return LedgerProblem(count, "ledger.problem.anchor_mismatch", {
                "run_id": anchor.get("run_id", "?"), "count": count,
                "expected": expected[:12], "found": found[:12],
            })
    return None


def _checked_payload(record: Mapping[str, object]) -> str:
    for field in _REQUIRED:
        if record.get(field) in (None, ""):
            raise PublishError("ledger.missing_field", field=field, record=dict(record))
    return canonical_json(dict(record))


def _locked_head(connection: sa.Connection) -> LedgerHead:
    query = sa.select(_HEAD.c.count, _HEAD.c.last_hash).where(_HEAD.c.id == 1)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    return LedgerHead(0, GENESIS_HASH) if row is None else LedgerHead(int(row.count), row.last_hash)


def _write_head(connection: sa.Connection, new: LedgerHead) -> None:
    values = {"count": new.count, "last_hash": new.last_hash}
    updated = connection.execute(_HEAD.update().where(_HEAD.c.id == 1), values).rowcount
    if not updated:
        connection.execute(_HEAD.insert(), {"id": 1, **values})


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)
