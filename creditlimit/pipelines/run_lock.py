"""An exclusive lock per output folder, so two rescoring runs never write the same outputs.

The lock is an ``fcntl.flock`` on ``<folder>/.run.lock``. The kernel releases it
when the holding process ends, even by SIGKILL, so a lock can never stay held by
a dead process. The file also stores the holder's pid, host, command and start
time. A file left behind by a process that died without releasing is reported as
stale (the previous run did not finish) and then taken over.
NOTE: flock is advisory and local; on a network file system shared by several
hosts it may not exclude runs on other hosts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from creditlimit.errors import CreditLimitError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.json_logs import announce

__all__ = ["LockHeldError", "RunLock", "run_lock"]

log = logging.getLogger(__name__)

LOCK_NAME = ".run.lock"

register({
    "lock.held": {
        "en": "Another run holds the lock on {folder} (pid {pid} on {host}, started {started}: {command}). Wait for it to finish; do not delete the lock file.",
        "zh_CN": "另一个运行正持有 {folder} 的锁（{host} 上的进程 {pid}，开始于 {started}：{command}）。请等待其完成；不要删除锁文件。",
    },
    "lock.stale": {
        "en": "A stale lock on {folder} was left by pid {pid} on {host} (started {started}), which ended without finishing. Taking it over. Each output that run may have written is wholly old or wholly new; if it was another date or input, rerun its command to finish it: {command}",
        "zh_CN": "{folder} 上有进程 {pid}（{host}，开始于 {started}）遗留的失效锁，该进程未完成即退出。现接管该锁。那次运行可能写出的每项结果要么完全是旧的、要么完全是新的；如果它处理的是其他日期或输入，请重新运行其命令以完成它：{command}",
    },
})


class LockHeldError(CreditLimitError):
    """Another live process holds the run lock."""

    exit_code = 5


@dataclass(frozen=True)
class RunLock:
    """A held lock: its file and, when one was found, the stale holder's record."""

    path: Path
    stale_holder: dict | None


# Folders whose lock this process holds, with how many blocks hold it.
_HELD: dict[Path, int] = {}


@contextlib.contextmanager
def run_lock(folder: Path, *, command: str | None = None) -> Iterator[RunLock]:
    """Hold the exclusive lock on ``folder`` for the duration of the block.

    A block inside another block on the same folder in this process (``rescore``
    calling the score stage) reuses the outer lock.

    Raises
    ------
    LockHeldError
        If another live process has the lock (exit code 5).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield RunLock(path=path, stale_holder=None)
        finally:
            _HELD[key] -= 1
        return
    with _locked(path, folder, command) as lock:
        _HELD[key] = 1
        try:
            yield lock
        finally:
            del _HELD[key]


@contextlib.contextmanager
def _locked(path: Path, folder: Path, command: str | None) -> Iterator[RunLock]:
    """Take the flock on ``path``, report a stale holder, and release it at the end."""
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in finally
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(handle)
            raise LockHeldError("lock.held", folder=folder, **_shown(holder)) from None

        stale = _read_holder(handle)
        if stale:
            announce(translate("lock.stale", folder=folder, **_shown(stale)), warning=True)
        _write_holder(handle, command)
        try:
            yield RunLock(path=path, stale_holder=stale or None)
        finally:
            # Empty the file before unlocking: an empty file means the last run finished.
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _read_holder(handle) -> dict:
    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return {}
    try:
        holder = json.loads(text)
    except json.JSONDecodeError:
        return {"pid": "?", "host": "?", "started": "?", "command": text[:200]}
    return holder if isinstance(holder, dict) else {}


def _write_holder(handle, command: str | None) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command or " ".join(sys.argv),
    }
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(holder, sort_keys=True))
    handle.flush()
    os.fsync(handle.fileno())


def _shown(holder: dict) -> dict[str, object]:
    return {key: holder.get(key, "?") for key in ("pid", "host", "started", "command")}
