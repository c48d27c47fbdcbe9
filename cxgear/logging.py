"""Log lines: JSON objects for production's collectors, or short lines a person reads
at the console of ``make run`` (``LOG_FORMAT``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from django.core.exceptions import ImproperlyConfigured

from conversations.activity import ACTIVITY

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class HumanFormatter(logging.Formatter):
    """``14:02:11  chat 17 assigned to ana@demo.cxgear.test``: the time and the message;
    anything but an activity line also names its level and logger."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{when}  {record.getMessage()}"
        if record.name != ACTIVITY or record.levelno >= logging.WARNING:
            line = f"{when}  {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def logging_config(*, log_format: str, level: str) -> dict[str, object]:
    """Django's ``LOGGING``: JSON lines of everything at ``level``, or (``human``) the
    activity at ``level`` and only warnings and errors of the rest."""
    formatters = {"json": JsonFormatter, "human": HumanFormatter}
    if log_format not in formatters:
        raise ImproperlyConfigured(f"LOG_FORMAT must be json or human, not {log_format!r}")
    formatter = formatters[log_format]
    human = log_format == "human"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "line"}},
        "root": {"handlers": ["stdout"], "level": "WARNING" if human else level},
        "loggers": {
            ACTIVITY: {"level": level},
            "django.db.backends": {"level": "WARNING"},
            "daphne": {"level": "WARNING"},
        },
    }
