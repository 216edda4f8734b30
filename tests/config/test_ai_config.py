"""The `ai:` section: absent means no AI; its mistakes are named by path."""

import yaml

from domain.config.loader import check_config_text, parse_config


def _errors(ai: dict) -> dict[str, str]:
    return {e.path: e.message for e in check_config_text(yaml.safe_dump({"ai": ai}))[1]}


def test_absent_means_no_ai():
    assert parse_config("{}").ai is None


def test_defaults():
    ai = parse_config(yaml.safe_dump({"ai": {"base_url": "http://localhost:11434/v1/", "model": "llama3"}})).ai
    assert ai is not None and ai.base_url == "http://localhost:11434/v1" and ai.api_key_env == "OPENAI_API_KEY"
    assert ai.features.summary and ai.features.tactical_draft and ai.features.close_summary
    assert not ai.features.case_analysis
    assert ai.enabled_for("Default") and ai.timeout == 20
    assert any("sk-" in p for p in ai.all_patterns())


def test_mistakes_are_named_by_path():
    errors = _errors({"base_url": "api.openai.com", "api_key_env": "sk-abc key", "timeout": 0,
                      "redact_patterns": ["(unclosed"], "featurs": {}})
    assert set(errors) == {"ai.base_url", "ai.api_key_env", "ai.timeout", "ai.redact_patterns", "ai.featurs"}
    assert "not valid regular expressions" in errors["ai.redact_patterns"]


def test_projects_must_exist():
    errors = _errors({"projects": ["Nope"]})
    assert set(errors) == {"ai.projects[0]"} and "'Nope' is not a project" in errors["ai.projects[0]"]


def test_per_project():
    ai = parse_config(yaml.safe_dump({"ai": {"projects": ["default"]}})).ai
    assert ai is not None and ai.enabled_for("default") and not ai.enabled_for("Other") and not ai.enabled_for(None)
