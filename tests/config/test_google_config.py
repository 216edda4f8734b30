"""The `google:` and `conference:` sections: absent means disabled; every mistake named by path."""

import yaml

from domain.config.loader import check_config_text, parse_config

DOCS = {"parent_folder_id": "0AIncidents", "incident_template_id": "1Template"}


def _errors(config: dict) -> dict[str, str]:
    return {e.path: e.message for e in check_config_text(yaml.safe_dump(config))[1]}


def test_absent_means_disabled():
    config = parse_config("{}")
    assert config.google is None and config.conference is None


def test_good_sections_with_defaults():
    config = parse_config(yaml.safe_dump({"google": {"documents": {**DOCS, "share_domains": ["@Example.com"]}},
                                          "conference": {}}))
    google, conference = config.google, config.conference
    assert google is not None and conference is not None
    assert google.credentials_env == "GOOGLE_SERVICE_ACCOUNT_FILE" and google.api_base is None and google.timeout == 10
    assert google.documents is not None and google.documents.share_domains == ["example.com"]
    assert google.documents.share_role == "writer" and google.documents.review_template_id is None
    assert google.task_sync.enabled and google.task_sync.interval_seconds == 60
    assert conference.provider == "google_meet" and conference.calendar_id == "primary"
    assert parse_config(yaml.safe_dump({"google": {"api_base": "http://127.0.0.1:9000"}})).google.api_base == \
        "http://127.0.0.1:9000/"


def test_mistakes_are_named_by_path():
    errors = _errors({"google": {"credentials_env": "/etc/key.json", "api_base": "localhost:9000", "timeout": 0,
                                 "documents": {**DOCS, "share_role": "owner", "share_domains": ["not a domain"]},
                                 "task_sync": {"interval_seconds": 1}, "subjetc": "x"},
                      "conference": {"provider": "zoom"}})
    assert set(errors) == {"google.credentials_env", "google.api_base", "google.timeout", "google.documents.share_role",
                           "google.documents.share_domains", "google.task_sync.interval_seconds", "google.subjetc",
                           "conference.provider"}
    errors = _errors({"google": {"documents": {"parent_folder_id": "x"}}})
    assert set(errors) == {"google.documents.incident_template_id"}


def test_a_bridge_needs_the_google_credentials():
    errors = _errors({"conference": {"provider": "google_meet"}})
    assert set(errors) == {"conference"} and "google:" in errors["conference"]
