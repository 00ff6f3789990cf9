import json
import os
import signal
import subprocess
import sys

import pytest

from creditlimit.pipelines.run_lock import LOCK_NAME, LockHeldError, run_lock

HOLD_SCRIPT = """
import sys, time
from pathlib import Path
from creditlimit.pipelines.run_lock import run_lock
with run_lock(Path(sys.argv[1]), command="holder"):
    print("locked", flush=True)
    time.sleep(60)
"""


def _start_holder(folder):
    process = subprocess.Popen([sys.executable, "-c", HOLD_SCRIPT, str(folder)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_lock_is_exclusive_across_processes(tmp_path):
    holder = _start_holder(tmp_path)
    try:
        with pytest.raises(LockHeldError) as error:
            with run_lock(tmp_path):
                pass
        assert str(holder.pid) in str(error.value)
        assert error.value.exit_code == 5
    finally:
        holder.kill()
        holder.wait()


def test_killed_holder_leaves_stale_lock_that_is_reported(tmp_path, capsys):
    holder = _start_holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with run_lock(tmp_path) as lock:
        assert lock.stale_holder["pid"] == holder.pid
        assert lock.stale_holder["command"] == "holder"
    assert "stale lock" in capsys.readouterr().err


def test_finished_run_leaves_no_stale_lock(tmp_path):
    with run_lock(tmp_path, command="first"):
        recorded = json.loads((tmp_path / LOCK_NAME).read_text())
        assert recorded["pid"] == os.getpid()
    with run_lock(tmp_path) as lock:
        assert lock.stale_holder is None


def test_lock_released_after_error(tmp_path):
    with pytest.raises(RuntimeError):
        with run_lock(tmp_path):
            raise RuntimeError("boom")
    with run_lock(tmp_path) as lock:
        assert lock.stale_holder is None


def test_nested_block_reuses_the_lock(tmp_path):
    """A block inside a block on the same folder keeps the outer lock until the outer one ends."""
    with run_lock(tmp_path, command="outer"):
        with run_lock(tmp_path / ".", command="inner") as inner:
            assert inner.stale_holder is None
        recorded = json.loads((tmp_path / LOCK_NAME).read_text())
        assert recorded["command"] == "outer"
    assert (tmp_path / LOCK_NAME).read_text() == ""


def test_score_stage_takes_the_lock(tmp_path):
    """The score stage exits with code 5 while another process holds the lock of its outputs."""
    from creditlimit.pipelines import score

    holder = _start_holder(tmp_path)
    try:
        with pytest.raises(LockHeldError) as error:
            score.run(params_path=tmp_path / "params.yaml", as_of=None, clean_dir=tmp_path / "clean",
                      scores_root=tmp_path, model_alias=None)
        assert "holder" in str(error.value)
        assert error.value.exit_code == 5
    finally:
        holder.kill()
        holder.wait()
