"""The pagerduty: and email: sections: errors with their path and line, and the warning about paging commanders."""

from __future__ import annotations

from domain.config.loader import check_config_text
from domain.config.rules import config_warnings

GOOD = """\
pagerduty:
  from_email: warroom-bot@example.com
  services:
    - {name: db, id: PDB1234, routing_key_env: PD_DB_KEY}
    - {name: api, id: PAPI123}
  commander_service: api
email:
  from_address: warroom@example.com
"""


def test_a_good_section_is_valid_without_warnings():
    config, errors = check_config_text(GOOD)
    assert errors == [] and config is not None
    assert config.pagerduty.service("DB").routing_key_env == "PD_DB_KEY"
    assert config.email.reports and config.email.status_changes
    assert not [w for w in config_warnings(config) if w.startswith("pagerduty")]


def test_errors_name_the_value_and_line():
    text = """\
pagerduty:
  from_email: warroom-bot@example.com
  api_token_env: my secret token
  api_url: api.pagerduty.com
  services:
    - {name: db, id: db-service}
    - {name: DB, id: PDB1234, routing_key_env: "key-in-place"}
  commander_service: web
email:
  subject_prefix: "[x]"
"""
    _, errors = check_config_text(text)
    found = {(e.path, e.line) for e in errors}
    assert ("pagerduty.api_token_env", 3) in found
    assert ("pagerduty.api_url", 4) in found
    assert ("pagerduty.services[0].id", 6) in found
    assert ("pagerduty.services[1].routing_key_env", 7) in found
    assert ("email.from_address", 9) in found or ("email", 9) in found
    messages = " ".join(e.message for e in errors)
    assert "not the secret" in messages and "PagerDuty id" in messages


def test_duplicate_services_and_unknown_commander_service():
    _, errors = check_config_text("pagerduty:\n  from_email: a@b.c\n  services:\n    - {name: db, id: PDB1234}\n"
                                  "    - {name: DB, id: PDB1235}\n  commander_service: web\n")
    assert any("services named twice: db" in e.message for e in errors)
    _, errors = check_config_text("pagerduty:\n  from_email: a@b.c\n  services: [{name: db, id: PDB1234}]\n"
                                  "  commander_service: web\n")
    assert any("commander_service 'web' is not one of the services" in e.message for e in errors)


def test_warns_when_commanders_cannot_be_paged():
    config, _ = check_config_text("pagerduty:\n  from_email: a@b.c\n  services: [{name: db, id: PDB1234}]\n")
    (warning,) = [w for w in config_warnings(config) if w.startswith("pagerduty")]
    assert "default/High" in warning and "commander_service" in warning
