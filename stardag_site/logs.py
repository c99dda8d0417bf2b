"""Log output: plain lines for people, or one JSON object per line (``LOG_FORMAT=json``) for a
log pipeline. Every record made while a request is served carries that request's id.

No Django import at module level: ``stardag_site/gunicorn.conf.py`` uses the JSON formatter for
gunicorn's own lines before Django is set up.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "stardag_request_id", default=None
)

# Attributes of the request log line (``stardag.request``) copied into the JSON object.
REQUEST_FIELDS = ("method", "path", "route", "status", "duration_ms", "credential_kind",
                  "credential_id", "user_id", "remote_addr", "db_queries")
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request being served (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return True


class DropResponseEchoes(logging.Filter):
    """For ``django.request``: keep records that carry a traceback, drop the rest.

    Django logs every 4xx/5xx response ("Not Found: /x", "Internal Server Error: /x") after the
    fact. The request line already has the status, and an unhandled error has been logged once
    with its traceback (by the API's exception handler or by Django itself): these echoes would
    log each error twice.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return bool(record.exc_info)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the request fields
    when present, any other ``extra`` values, and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """``LOGGING`` for Django: stderr, plain or JSON, request ids everywhere."""
    formatter = ({"()": "stardag_site.logs.JsonFormatter"} if fmt == "json"
                 else {"format": PLAIN_FORMAT})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "stardag_site.logs.RequestIdFilter"},
            "drop_response_echoes": {"()": "stardag_site.logs.DropResponseEchoes"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "default",
                        "level": level, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "django.request": {"filters": ["drop_response_echoes"]},
            # The request line replaces runserver's own access line.
            "django.server": {"level": "WARNING"},
        },
    }
