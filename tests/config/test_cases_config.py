"""The cases section: restricted types, paging priorities, reminder intervals."""

import yaml

from domain.config.loader import check_config_text, parse_config
from domain.config.rules import config_warnings


def _errors(cases: dict) -> list[str]:
    return [f"{e.path}: {e.message}" for e in check_config_text(yaml.safe_dump({"cases": cases}, sort_keys=False))[1]]


def test_a_restricted_case_type_needs_its_channel():
    errors = _errors({"types": [{"name": "Insider", "default": True, "visibility": "Restricted"}]})
    assert errors and "conversation_target" in errors[0] and "Restricted" in errors[0]
    assert _errors({"types": [{"name": "Insider", "default": True, "visibility": "Restricted",
                               "conversation_target": "C0123456789"}]}) == []


def test_page_assignee_on_types_and_priorities_only_and_reminder_intervals_positive():
    bad = _errors({"severities": [{"name": "Low", "default": True, "page_assignee": True}]})
    assert bad and "page_assignee is for types and priorities" in bad[0]
    assert _errors({"priorities": [{"name": "P1", "default": True, "page_assignee": True}]}) == []
    bad = _errors({"types": [{"name": "T", "default": True, "triage_hours": 0}]})
    assert bad and "triage_hours" in bad[0]
    assert _errors({"types": [{"name": "T", "default": True, "triage_hours": None, "stale_days": 0.5}]}) == []


def test_a_signal_target_for_a_restricted_type_is_reported_as_ignored():
    config = parse_config(yaml.safe_dump({
        "cases": {"types": [{"name": "Insider", "default": True, "visibility": "Restricted",
                             "conversation_target": "C0123456789"}]},
        "signals": {"definitions": [{"name": "Badge", "case_type": "Insider", "conversation_target": "C0999999999"}]},
    }))
    assert any("conversation_target is ignored" in w and "Restricted" in w for w in config_warnings(config))
