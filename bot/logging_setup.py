"""Logging set-up: text or JSON lines, with Slack tokens redacted from every record."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

QUIET_AT_INFO = ("alembic", "apscheduler")
_TOKEN = re.compile(r"xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


def redact(text: str) -> str:
    """Replace anything shaped like a Slack token."""
    return _TOKEN.sub("[redacted-token]", text)


class RedactingFilter(logging.Filter):
    """Render the message once and scrub tokens (slack_sdk logs request headers at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def iso_time(created: float) -> str:
    """ISO 8601 in UTC with milliseconds and the zone: 2026-03-01T12:00:00.123+00:00."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Install one root handler; safe to call more than once."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that narrate routine work at INFO (each scheduled run, each migration context):
    # heard only when debugging.
    for name in QUIET_AT_INFO:
        logging.getLogger(name).setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
