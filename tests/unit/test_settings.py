import logging

import pytest

from bot.logging_setup import RedactingFilter, redact
from bot.settings import DatabaseSettings, Settings, SettingsError, load_settings, settings_table


def test_missing_and_malformed_settings_are_all_named(monkeypatch):
    for var in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    monkeypatch.setenv("HTTP_PORT", "eighty")
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(SettingsError) as exc:
        load_settings(_env_file=None)
    text = str(exc.value)
    assert "SLACK_BOT_TOKEN: is required but not set" in text
    assert "SLACK_APP_TOKEN: must be an app-level token" in text
    assert "HTTP_PORT:" in text and "DATABASE_URL:" in text
    assert "xoxb-wrong-kind" not in text


def test_defaults_and_secret_tokens(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = Settings(_env_file=None, slack_bot_token="xoxb-1-abc", slack_app_token="xapp-1-abc", slack_api_url="http://h:1/api")
    assert s.database_url == "sqlite+aiosqlite:///./warroom.db"
    assert s.slack_api_url == "http://h:1/api/"
    assert "xoxb-1-abc" not in repr(s) and "xoxb-1-abc" not in str(s.model_dump())


def test_db_upgrade_needs_no_slack_tokens(monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@h/db")
    assert load_settings(DatabaseSettings, _env_file=None).database_url == "postgresql+asyncpg://u@h/db"


def test_settings_table_lists_every_variable():
    names = [row[0] for row in settings_table()]
    assert names == [n.upper() for n in Settings.model_fields]
    assert {"SLACK_BOT_TOKEN", "WARROOM_CONFIG", "LOG_FORMAT"} <= set(names)


def test_tokens_are_redacted_from_log_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling with %s", ("Bearer xoxb-123-secret",), None)
    RedactingFilter().filter(record)
    assert "xoxb" not in record.getMessage() and "[redacted-token]" in record.getMessage()
    assert redact("xapp-1-A-b") == "[redacted-token]"


def test_plain_postgres_urls_use_asyncpg(monkeypatch):
    for url in ("postgresql://u:p@h:5432/db", "postgres://u:p@h:5432/db"):
        monkeypatch.setenv("DATABASE_URL", url)
        assert load_settings(DatabaseSettings, _env_file=None).database_url == "postgresql+asyncpg://u:p@h:5432/db"


def test_port_is_used_when_http_port_is_unset(monkeypatch):
    tokens = {"slack_bot_token": "xoxb-1-abc", "slack_app_token": "xapp-1-abc"}
    monkeypatch.delenv("HTTP_PORT", raising=False)
    monkeypatch.setenv("PORT", "5000")
    assert Settings(_env_file=None, **tokens).http_port == 5000
    monkeypatch.setenv("HTTP_PORT", "0")
    assert Settings(_env_file=None, **tokens).http_port == 0, "HTTP_PORT wins, and 0 means any free port"


@pytest.mark.parametrize("variable,value", [("SLACK_BOT_TOKEN", "xoxb-"), ("SLACK_APP_TOKEN", "xapp- ")])
def test_a_token_prefix_alone_is_refused(monkeypatch, variable, value):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=f"{variable}: must be"):
        load_settings(_env_file=None)
