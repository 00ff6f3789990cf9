import sqlite3

import pytest

from creditlimit.errors import PublishError
from creditlimit.serving.ledger import (
    GENESIS_HASH, append_records, ledger_head, read_records, record_hash, verify_ledger,
)


def _decision(number: int, **extra) -> dict:
    return {"decision_id": f"D{number:03d}", "kind": "proposed", "customer_id": f"C{number:03d}",
            "limit_before": 1000.0 * number, "limit_after": 900.0 * number, "action": "decrease",
            **extra}


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    append_records(url, [_decision(n) for n in range(1, 4)])
    append_records(url, [_decision(n) for n in range(4, 7)])
    return url, path


def _execute(path, sql, *args):
    with sqlite3.connect(path) as connection:
        connection.execute(sql, args)


def test_intact_ledger_verifies(ledger):
    url, _ = ledger
    assert verify_ledger(url) is None
    head = ledger_head(url)
    assert head.count == 6
    assert head.last_hash == read_records(url)[-1]["hash"]


def test_chain_links_each_record_to_previous(ledger):
    url, _ = ledger
    records = read_records(url)
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[0]["decision_id"] == "D001"
    assert records[3]["limit_after"] == 3600.0


def test_hash_covers_previous_hash():
    assert record_hash(GENESIS_HASH, "{}") != record_hash("1" * 64, "{}")


def test_empty_ledger_verifies(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    append_records(url, [])
    assert verify_ledger(url) is None
    assert ledger_head(url).count == 0


def test_edited_payload_detected(ledger):
    url, path = ledger
    _execute(path, "UPDATE decision_ledger SET payload = replace(payload, '3600.0', '9999.0') WHERE seq = 4")
    problem = verify_ledger(url)
    assert problem.seq == 4
    assert problem.key == "ledger.problem.bad_hash"
    assert "D004" in problem.text("en")
    assert "已被修改" in problem.text("zh_CN")


def test_edited_column_detected(ledger):
    url, path = ledger
    _execute(path, "UPDATE decision_ledger SET customer_id = 'C999' WHERE seq = 2")
    problem = verify_ledger(url)
    assert problem.seq == 2
    assert problem.key == "ledger.problem.column_mismatch"


def test_removed_record_detected(ledger):
    url, path = ledger
    _execute(path, "DELETE FROM decision_ledger WHERE seq = 3")
    problem = verify_ledger(url)
    assert problem.key == "ledger.problem.bad_seq"
    assert problem.seq == 4


def test_removed_and_renumbered_detected(ledger):
    url, path = ledger
    _execute(path, "DELETE FROM decision_ledger WHERE seq = 3")
    for seq in (4, 5, 6):
        _execute(path, "UPDATE decision_ledger SET seq = ? WHERE seq = ?", seq - 1, seq)
    problem = verify_ledger(url)
    assert problem.key == "ledger.problem.bad_link"
    assert problem.seq == 3


def test_reordered_records_detected(ledger):
    url, path = ledger
    _execute(path, "UPDATE decision_ledger SET seq = 100 WHERE seq = 2")
    _execute(path, "UPDATE decision_ledger SET seq = 2 WHERE seq = 3")
    _execute(path, "UPDATE decision_ledger SET seq = 3 WHERE seq = 100")
    problem = verify_ledger(url)
    assert problem.key == "ledger.problem.bad_link"
    assert problem.seq == 2


def test_inserted_record_detected(ledger):
    url, path = ledger
    for seq in (6, 5, 4):
        _execute(path, "UPDATE decision_ledger SET seq = ? WHERE seq = ?", seq + 1, seq)
    payload = '{"decision_id":"FAKE","kind":"approved"}'
    # The forger computes a valid hash for the new record, but the next one still
    # names the old predecessor.
    with sqlite3.connect(path) as connection:
        prev = connection.execute("SELECT hash FROM decision_ledger WHERE seq = 3").fetchone()[0]
        connection.execute(
            "INSERT INTO decision_ledger VALUES (4, 'FAKE', 'approved', NULL, NULL, ?, ?, ?)",
            (payload, prev, record_hash(prev, payload)),
        )
    problem = verify_ledger(url)
    assert problem.key == "ledger.problem.bad_link"
    assert problem.seq == 5


def test_truncated_tail_detected(ledger):
    url, path = ledger
    _execute(path, "DELETE FROM decision_ledger WHERE seq = 6")
    problem = verify_ledger(url)
    assert problem.key == "ledger.problem.head_mismatch"
    assert "6" in problem.text("en")


def test_rewritten_chain_caught_by_anchor(ledger):
    url, path = ledger
    anchor = {"run_id": "r1", "count": 6, "hash": ledger_head(url).last_hash}
    _execute(path, "DELETE FROM decision_ledger")
    _execute(path, "DELETE FROM ledger_head")
    append_records(url, [_decision(n) for n in range(1, 7)][::-1])
    assert verify_ledger(url) is None
    problem = verify_ledger(url, anchors=[anchor])
    assert problem.key == "ledger.problem.anchor_mismatch"
    assert "r1" in problem.text("en")


def test_append_rejects_missing_decision_id(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    with pytest.raises(PublishError, match="decision_id"):
        append_records(url, [{"kind": "proposed"}])
    assert ledger_head(url).count == 0


def test_append_rejects_nan(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    with pytest.raises(PublishError, match="limit_after"):
        append_records(url, [_decision(1, limit_after=float("nan"))])


def test_read_records_by_customer(ledger):
    url, _ = ledger
    records = read_records(url, customer_id="C005")
    assert [r["decision_id"] for r in records] == ["D005"]


def test_verify_missing_ledger_is_error(tmp_path):
    from creditlimit.errors import InputDataError

    with pytest.raises(InputDataError, match="does not exist"):
        verify_ledger(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


def test_verify_damaged_ledger_is_error(ledger):
    from creditlimit.errors import InputDataError

    url, path = ledger
    _execute(path, "DROP TABLE ledger_head")
    with pytest.raises(InputDataError, match="cannot be read as a ledger"):
        verify_ledger(url)


def test_large_append_streams_and_verifies(tmp_path):
    """A generator of more records than one insert chunk is chained and verified like a list."""
    from creditlimit.serving.ledger import INSERT_CHUNK, last_record

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    total = INSERT_CHUNK * 2 + 7
    head = append_records(url, (_decision(n, run_id="R1") for n in range(total)))
    assert head.count == total
    assert verify_ledger(url) is None
    count, last = last_record(url, run_id="R1", kind="proposed")
    assert (count, last["seq"], last["hash"]) == (total, total, head.last_hash)


def test_bad_record_late_in_a_stream_writes_nothing(tmp_path):
    """A record that fails its check after a full insert chunk rolls the whole append back."""
    from creditlimit.serving.ledger import INSERT_CHUNK

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    append_records(url, [_decision(1)])
    records = [_decision(n) for n in range(2, INSERT_CHUNK + 10)] + [{"decision_id": "", "kind": "proposed"}]
    with pytest.raises(PublishError):
        append_records(url, iter(records))
    assert ledger_head(url).count == 1
    assert len(read_records(url)) == 1
