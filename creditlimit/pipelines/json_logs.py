"""JSON log lines for schedulers: one object per line on standard error.

With ``--log-format json`` every line ``rescore`` writes is a JSON object on
standard error: the step logs, Python warnings (through the ``py.warnings``
logger), each stage's summary, the closing summary and the error that ends a
failed run with its exit code. Standard output stays empty.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

__all__ = ["JsonLogFormatter", "use_json_logs", "json_logs_enabled", "announce"]

# Extra attributes of a log record that become keys of its JSON object.
EXTRA_KEYS = ("step", "as_of", "run_id", "seconds", "scores", "report", "exit_code", "category")


class JsonLogFormatter(logging.Formatter):
    """Format each log record as one JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage().strip(),
        }
        for key in EXTRA_KEYS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_json_logs() -> None:
    """Switch every handler of the root logger to JSON lines and log warnings through it."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonLogFormatter())
    logging.captureWarnings(True)


def json_logs_enabled() -> bool:
    """Return whether :func:`use_json_logs` has switched the root logger's handlers."""
    handlers = logging.getLogger().handlers
    return bool(handlers) and all(isinstance(handler.formatter, JsonLogFormatter) for handler in handlers)


def announce(message: str, *, warning: bool = False, **fields: object) -> None:
    """Tell the user ``message``: printed as text, or a JSON log line in JSON mode.

    Text goes to standard output, or to standard error when ``warning``. In JSON
    mode the message becomes a record of the ``creditlimit.summary`` logger with
    ``fields`` as extra keys (see :data:`EXTRA_KEYS`).
    """
    if json_logs_enabled():
        level = logging.WARNING if warning else logging.INFO
        logging.getLogger("creditlimit.summary").log(level, message, extra=fields)
    else:
        print(message, file=sys.stderr if warning else sys.stdout)
