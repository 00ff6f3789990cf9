"""End-to-end: `creditlimit rescore` under faults (SIGKILL at checkpoints), reruns and locks."""

import hashlib
import shutil
import signal
import sqlite3

import pandas as pd
import pytest

from pipeline_workspace import TINY_OVERLAY, make_workspace, run_in

pytestmark = pytest.mark.slow

AS_OF = TINY_OVERLAY["score.as_of"]
OUTPUT_FOLDERS = ("data/interim", "data/scores", "data/reports")
KILL_POINTS = ("validate:before_swap", "validate:after", "outputs:before_swap", "database:in_transaction",
               "report:before")


# Copies of the template share its MLflow store: the registry records absolute
# artifact paths, so a copy links its mlartifacts folder to the template's.
SHARED_STORE: dict = {}


def rescore(workspace, *extra, check=True, env=None):
    return run_in(workspace, "creditlimit", "rescore", "--as-of", AS_OF, *extra, check=check,
                  extra_env={**SHARED_STORE.get(workspace, {}), **(env or {})})


def copy_workspace(template, target):
    shutil.copytree(template, target, symlinks=True, ignore=shutil.ignore_patterns("mlartifacts", "mlflow.db"))
    (target / "mlartifacts").symlink_to(template / "mlartifacts")
    SHARED_STORE[target] = {"MLFLOW_TRACKING_URI": f"sqlite:///{template / 'mlflow.db'}"}
    return target


def visible_state(workspace) -> dict[str, str]:
    """Hash every visible output file and the published database tables."""
    state = {}
    for folder in OUTPUT_FOLDERS:
        root = workspace / folder
        for path in sorted(root.rglob("*")) if root.exists() else []:
            relative = path.relative_to(workspace).as_posix()
            hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
            # The database is compared by content below; a SQLite journal left by a
            # killed transaction is rolled back when the database is next opened.
            internal = path.suffix in (".db", ".jsonl", ".lock") or path.name.endswith(("-journal", "-wal", "-shm"))
            if path.is_file() and not hidden and not internal:
                state[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    for table, rows in database_rows(workspace).items():
        state[f"db:{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return state


def database_rows(workspace) -> dict[str, list]:
    path = workspace / "data" / "scores" / "creditlimit.db"
    if not path.exists():
        return {}
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                for table in sorted(tables)}


def change_inputs(workspace) -> None:
    """Drop one payment so that the next run's inputs, run id and outputs differ."""
    path = workspace / "data" / "raw" / "sample" / "payments.parquet"
    payments = pd.read_parquet(path)
    payments.iloc[1:].to_parquet(path, index=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A workspace with a trained champion and one finished rescoring run."""
    workspace = make_workspace(tmp_path_factory.mktemp("rescore"), TINY_OVERLAY)
    run_in(workspace, "dvc", "repro", "train")
    rescore(workspace)
    return workspace


@pytest.fixture(scope="module")
def reference_after_change(template, tmp_path_factory):
    """Visible state of an uninterrupted run on the changed inputs."""
    workspace = copy_workspace(template, tmp_path_factory.mktemp("reference") / "workspace")
    change_inputs(workspace)
    rescore(workspace)
    return visible_state(workspace)


@pytest.fixture
def workspace(template, tmp_path):
    return copy_workspace(template, tmp_path / "workspace")


def test_rescore_rerun_is_byte_identical(workspace):
    before = visible_state(workspace)
    ledger_before = ledger_count(workspace)
    rescore(workspace)
    assert visible_state(workspace) == before
    assert ledger_count(workspace) == ledger_before


def units(state: dict[str, str]) -> dict[str, dict[str, str]]:
    """Group a visible state by publishing unit: validation outputs, each run folder, the report folder, the database."""
    grouped: dict[str, dict[str, str]] = {}
    for key, value in state.items():
        if key.startswith("db:"):
            unit = "database"
        elif key.startswith("data/interim/"):
            unit = "data/interim"
        else:
            parts = key.split("/")
            unit = "/".join(parts[:3])
        grouped.setdefault(unit, {})[key] = value
    return grouped


@pytest.mark.parametrize("point", KILL_POINTS)
def test_rescore_killed_leaves_previous_outputs(workspace, reference_after_change, point):
    """Each output folder and the database is wholly old or wholly new after a kill; a rerun completes."""
    before = units(visible_state(workspace))
    after = units(reference_after_change)
    change_inputs(workspace)
    killed = rescore(workspace, check=False, env={"CREDITLIMIT_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    after_kill = units(visible_state(workspace))
    assert set(after_kill) == set(before)
    for unit, files in after_kill.items():
        assert files in (before[unit], after[unit]), f"{unit} is partly written after a kill at {point}"
    if point in ("validate:before_swap", "validate:after", "outputs:before_swap"):
        assert after_kill[f"data/scores/as_of={AS_OF}"] == before[f"data/scores/as_of={AS_OF}"]
    if point == "validate:before_swap":
        assert after_kill == before
    rescore(workspace)
    assert visible_state(workspace) == reference_after_change


def test_rescore_lock_held_exit_code(workspace):
    import fcntl

    lock_path = workspace / "data" / "scores" / ".run.lock"
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = rescore(workspace, check=False)
    assert result.returncode == 5
    assert "holds the lock" in result.stderr


def test_rescore_bad_input_exit_code(workspace):
    (workspace / "data" / "raw" / "sample" / "invoices.parquet").write_bytes(b"not a parquet file")
    before = visible_state(workspace)
    result = rescore(workspace, check=False)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "invoices.parquet" in result.stderr
    assert visible_state(workspace) == before


def test_rescore_json_logs(workspace):
    """With --log-format json every line on stderr is JSON, the summary included, and stdout is empty."""
    import json

    result = rescore(workspace, "--log-format", "json", "--no-progress")
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert {"validate", "score", "report"} <= {entry.get("step") for entry in entries}
    summary = [entry for entry in entries if "report" in entry]
    assert len(summary) == 1
    assert summary[0]["as_of"] == AS_OF
    assert result.stdout == ""


def test_rescore_json_logs_failure(workspace):
    """A failed run in JSON mode ends with one JSON error line carrying the exit code, in zh_CN too."""
    import json

    (workspace / "data" / "raw" / "sample" / "invoices.parquet").write_bytes(b"not a parquet file")
    result = rescore(workspace, "--log-format", "json", "--no-progress", check=False,
                     env={"CREDITLIMIT_LANG": "zh_CN"})
    assert result.returncode == 3
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    error = entries[-1]
    assert error["level"] == "ERROR"
    assert error["exit_code"] == 3
    assert "invoices.parquet" in error["message"]
    assert "错误" in error["message"]


def ledger_count(workspace) -> int:
    path = workspace / "data" / "ledger" / "ledger.db"
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM decision_ledger").fetchone()[0]


def run_id_of(workspace) -> str:
    import json

    manifest = workspace / "data" / "scores" / f"as_of={AS_OF}" / "manifest.json"
    return json.loads(manifest.read_text())["run_id"]


def creditlimit(workspace, *args, check=True):
    return run_in(workspace, "creditlimit", *args, check=check, extra_env=SHARED_STORE.get(workspace, {}))


def test_replay_reproduces_run(workspace):
    result = creditlimit(workspace, "replay", run_id_of(workspace))
    assert "byte-identical" in result.stdout


def test_replay_detects_changed_output(workspace):
    limits = workspace / "data" / "scores" / f"as_of={AS_OF}" / "limits.csv"
    limits.write_bytes(limits.read_bytes().replace(b"increase", b"decrease", 1))
    result = creditlimit(workspace, "replay", run_id_of(workspace), check=False)
    assert result.returncode == 3
    assert "limits.csv" in result.stderr


def test_lineage_names_inputs_model_and_ledger(workspace):
    import json

    result = creditlimit(workspace, "lineage", "C000001", "--as-of", AS_OF)
    chain = json.loads(result.stdout)
    assert chain["run"]["run_id"] == run_id_of(workspace)
    assert set(chain["inputs"]) >= {"customers", "invoices", "payments"}
    raw_payments = workspace / "data" / "raw" / "sample" / chain["raw_inputs"]["payments"]["source"]
    assert chain["raw_inputs"]["payments"]["sha256"] == hashlib.sha256(raw_payments.read_bytes()).hexdigest()
    assert chain["model"]["uri"].startswith("models:/")
    assert chain["ledger"][0]["decision_id"] == f"{run_id_of(workspace)}-C000001"
    assert "binding_rule" in json.dumps(chain["calculation_log"])


def test_approval_becomes_effective(workspace):
    queue = creditlimit(workspace, "approvals").stdout
    decision_id = queue.splitlines()[1].split()[0]
    customer = decision_id.rsplit("-", 1)[1]
    assert customer not in effective_customers(workspace)
    maker = creditlimit(workspace, "approve", decision_id, "--by", "creditlimit-scheduler", check=False)
    assert maker.returncode == 2
    creditlimit(workspace, "approve", decision_id, "--by", "Li Wei")
    assert customer in effective_customers(workspace)
    assert "intact" in creditlimit(workspace, "audit", "verify").stdout


def test_audit_verify_names_edited_record(workspace):
    path = workspace / "data" / "ledger" / "ledger.db"
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE decision_ledger SET payload = replace(payload, 'increase', 'decrease') "
                           "WHERE seq = (SELECT min(seq) FROM decision_ledger WHERE payload LIKE '%increase%')")
    result = creditlimit(workspace, "audit", "verify", check=False)
    assert result.returncode == 3
    assert "was edited" in result.stderr


def effective_customers(workspace) -> set[str]:
    """Customers whose limit in force comes from a decision of the run (not the unchanged earlier limit)."""
    with sqlite3.connect(workspace / "data" / "scores" / "creditlimit.db") as connection:
        rows = connection.execute("SELECT customer_id FROM effective_limits "
                                  "WHERE as_of = ? AND approved_by != 'unchanged'", (AS_OF,))
        return {row[0] for row in rows}
