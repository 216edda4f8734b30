"""Log lines operators read: JSON with an ISO time (milliseconds, zone), quiet libraries, the start-up line."""

import json
import logging
import re

from bot.logging_setup import JsonFormatter, configure_logging
from bot.runtime import command_prefix
from domain.config.loader import load_config


def test_json_lines_carry_iso_time_with_milliseconds_and_zone():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.created = 1_700_000_000.25
    line = json.loads(JsonFormatter().format(record))
    assert line["ts"] == "2023-11-14T22:13:20.250+00:00"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["ts"])
    assert line["msg"] == "hello there" and line["level"] == "INFO"


def test_scheduler_and_migrations_are_quiet_at_info_and_heard_when_debugging():
    try:
        configure_logging("INFO")
        assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
        assert not logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
        configure_logging("DEBUG")
        assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.DEBUG)
    finally:
        configure_logging("WARNING")


def test_commands_prefix_in_the_start_up_line():
    config = load_config(None)
    assert command_prefix(config) == "/dispatch-"
    config.commands.report_incident = "/acme-report"
    assert command_prefix(config) == "/"
