"""The `tickets:` section: absent means disabled; every mistake named by path."""

import subprocess
import sys

import yaml

from domain.config.loader import check_config_text, parse_config
from domain.config.rules import config_warnings

GOOD = {"server": "https://example.atlassian.net/", "user_email": "bot@example.com", "project_key": "INC",
        "priorities": {"High": "Highest", "Low": "Low"}}


def _errors(tickets: dict) -> dict[str, str]:
    return {e.path: e.message for e in check_config_text(yaml.safe_dump({"tickets": tickets}))[1]}


def test_absent_means_disabled():
    assert parse_config("{}").tickets is None


def test_good_section_with_defaults():
    tickets = parse_config(yaml.safe_dump({"tickets": GOOD})).tickets
    assert tickets is not None
    assert tickets.server == "https://example.atlassian.net" and tickets.api_token_env == "JIRA_API_TOKEN"
    assert tickets.issue_type == "Task" and tickets.labels == ["warroom"]
    assert tickets.transitions.Closed == "Done" and tickets.transitions.reopen == "Reopen"


def test_mistakes_are_named_by_path():
    errors = _errors({**GOOD, "server": "example.atlassian.net", "api_token_env": "abc-123 token",
                      "project_key": "inc", "labels": ["has space"], "priorities": {"P0": "Highest"}, "tokne": 1})
    assert set(errors) == {"tickets.server", "tickets.api_token_env", "tickets.project_key", "tickets.labels",
                           "tickets.tokne"}
    # The priority names are checked once the section itself is valid.
    errors = _errors({**GOOD, "priorities": {"P0": "Highest"}})
    assert set(errors) == {"tickets.priorities.P0"} and "not an incident priority" in errors["tickets.priorities.P0"]


def test_missing_required_keys():
    assert {"tickets.server", "tickets.user_email", "tickets.project_key"} <= set(_errors({}))


def test_no_priority_mapping_is_a_warning():
    config = parse_config(yaml.safe_dump({"tickets": {**GOOD, "priorities": {}}}))
    assert any("priorities" in w for w in config_warnings(config))


def test_config_validate_warns_about_an_unset_token(tmp_path):
    path = tmp_path / "warroom.yaml"
    path.write_text(yaml.safe_dump({"tickets": {**GOOD, "api_token_env": "WARROOM_TEST_UNSET_TOKEN"}}))
    out = subprocess.run([sys.executable, "-m", "bot", "config", "validate", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "valid" in out.stdout and "WARROOM_TEST_UNSET_TOKEN" in out.stdout
