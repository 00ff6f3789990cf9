"""Named points in a run where a fault-injection test may kill the process.

When the environment variable ``CREDITLIMIT_KILL_AT`` equals a checkpoint's name,
the process sends itself SIGKILL there, with no cleanup, like a power cut or an
out-of-memory kill. Tests use it to show that no partial output is ever visible
and that a rerun completes. Unset (the normal case), a checkpoint does nothing.
"""

from __future__ import annotations

import logging
import os
import signal

__all__ = ["KILL_AT_VARIABLE", "checkpoint"]

KILL_AT_VARIABLE = "CREDITLIMIT_KILL_AT"

log = logging.getLogger(__name__)


def checkpoint(name: str) -> None:
    """Kill the process here when ``CREDITLIMIT_KILL_AT`` names this checkpoint."""
    if os.environ.get(KILL_AT_VARIABLE) == name:
        log.warning("killing the process at checkpoint %s (%s is set)", name, KILL_AT_VARIABLE)
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)
