"""`config validate` finds every name that refers to nothing (path and line) and warns about engagement that
would engage nobody; run as the operator runs it."""

import subprocess
import sys

from domain.config.loader import parse_config
from domain.config.rules import config_warnings

DANGLING = """\
notification_channels:
  - {name: incidents, channel: C012AB3CD, incident_types: [Reliability, Outage], priorities: [high, P1]}
engagement:
  individuals:
    - {name: Dana, user: U0DBA1234, incident_types: [Securty]}
  teams:
    - {name: Payments, members: [U0PAY1234], priorities: [Critical, Sev0]}
  services:
    - {name: db, terms: [postgres], incident_types: [privacy], priorities: [Urgent]}
"""


def _validate(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "config", "validate", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_type_and_priority_names_that_name_nothing_are_errors_with_path_and_line(tmp_path):
    path = tmp_path / "warroom.yaml"
    path.write_text(DANGLING)
    out = _validate(path)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"{path}: 5 error(s)"
    assert "Traceback" not in out.stdout + out.stderr
    errors = [line.strip() for line in lines[1:]]
    expected = [
        ("line 2", "notification_channels[0].incident_types", "'Outage' is not an incident type of any project"),
        ("line 2", "notification_channels[0].priorities", "'P1' is not an incident priority of any project"),
        ("line 5", "engagement.individuals[0].incident_types", "'Securty' is not an incident type"),
        ("line 7", "engagement.teams[0].priorities", "'Sev0' is not an incident priority"),
        ("line 9", "engagement.services[0].priorities", "'Urgent' is not an incident priority"),
    ]
    for line, where, message in expected:
        assert any(line in e and where in e and message in e for e in errors), (where, errors)
    # Matched ignoring case, as incidents are: `high` and `privacy` name real ones.
    assert not any("'high'" in e or "'privacy'" in e or "Reliability" in e for e in errors)


def test_names_of_another_project_count():
    config = parse_config("projects:\n"
                          "  - {name: a, default: true, incident_types: [{name: T, default: true}],"
                          " incident_priorities: [{name: P, default: true}], incident_severities: [{name: S, default: true}]}\n"
                          "  - {name: b, incident_types: [{name: Outage, default: true}],"
                          " incident_priorities: [{name: P1, default: true}], incident_severities: [{name: S, default: true}]}\n"
                          "notification_channels: [{name: n, channel: C1, incident_types: [Outage], priorities: [P1]}]\n")
    assert config.notification_channels[0].incident_types == ["Outage"]


def test_an_engagement_service_or_case_type_without_schedule_is_warned_about(tmp_path):
    path = tmp_path / "warroom.yaml"
    path.write_text("engagement:\n  services:\n    - {name: db, terms: [postgres]}\n    - {name: Web, terms: [nginx]}\n"
                    "oncall:\n  schedules:\n    web: [U0WEB1234]\n"
                    "cases:\n  types:\n    - {name: Triage, default: true, oncall_service: secops}\n")
    out = _validate(path)
    assert out.returncode == 0, "warnings do not make a config invalid"
    assert f"{path}: valid" in out.stdout
    assert ("warning: engagement.services[0] (db): no on-call schedule (oncall.schedules.db), "
            "so matching incidents engage nobody") in out.stdout
    assert "services[1]" not in out.stdout, "schedules are matched ignoring case"
    assert "warning: cases.types[0] (Triage): oncall_service 'secops' has no on-call schedule" in out.stdout
    config = parse_config(path.read_text().replace("web: [U0WEB1234]", "web: [U0WEB1234]\n    db: [U0DBA1234]\n"
                                                   "    secops: [U0SEC1234]"))
    assert config_warnings(config) == []


def test_notification_channels_match_names_ignoring_case_as_validated():
    from datetime import UTC, datetime

    from domain.announcements.service import matches
    from domain.config.notifications import NotificationChannelConfig
    from domain.incidents.notices import IncidentFacts

    facts = IncidentFacts("INC-1", "t", "", "Active", "Open", "Reliability", "High", "Minor", "U1", "U1", "C1",
                          datetime.now(UTC), "default")
    channel = NotificationChannelConfig(name="n", channel="C9", incident_types=["reliability"], priorities=["HIGH"])
    assert matches(channel, facts)
    assert not matches(channel.model_copy(update={"priorities": ["Low"]}), facts)
