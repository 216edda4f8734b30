"""Process settings from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"


class SettingsError(Exception):
    """Start-up cannot continue: one line per bad variable."""


class DatabaseSettings(BaseSettings):
    """The part of the settings that `db upgrade` needs (a release phase carries no Slack tokens)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite+aiosqlite:///./warroom.db", description="SQLAlchemy async URL")

    @field_validator("database_url")
    @classmethod
    def _db_url_shape(cls, v: str) -> str:
        # The URLs hosting platforms hand out (postgresql://, postgres://) use asyncpg here.
        for plain in ("postgresql://", "postgres://"):
            if v.startswith(plain):
                v = "postgresql+asyncpg://" + v.removeprefix(plain)
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite://, postgresql:// or postgresql+asyncpg://")
        return v


class ConfigFileSettings(BaseSettings):
    """Only the config file's path (what `manifest` needs), read like the bot reads it."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    warroom_config: str | None = Field(None, description="Path of the YAML config file (none = built-in defaults)")


class Settings(DatabaseSettings):
    """Everything warroom reads from its environment. Secrets are `SecretStr`."""

    slack_bot_token: SecretStr = Field(description="Bot token (xoxb-...)")
    slack_app_token: SecretStr = Field(description="App-level token with connections:write (xapp-...)")
    slack_api_url: str = Field(SLACK_API_URL, description="Web API base URL (GovSlack or the emulator set another)")
    http_host: str = Field("0.0.0.0", description="Bind address of the signal/health HTTP server")
    http_port: int = Field(8080, ge=0, le=65535, validation_alias=AliasChoices("http_port", "port"),
                           description="Port of the signal/health HTTP server (0 = any free port; PORT when unset)")
    http_header_timeout: float = Field(10.0, gt=0, description="Seconds a client has to send a request's headers "
                                       "(from connecting, or from its first byte on a kept-alive connection)")
    http_body_timeout: float = Field(30.0, gt=0, description="Seconds a client has to send a signal's body "
                                     "(then 408)")
    http_idle_timeout: float = Field(75.0, gt=0, description="Seconds an idle kept-alive connection stays open")
    http_max_connections: int = Field(500, ge=1, description="Open HTTP connections at most; more are closed at once")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")
    log_format: Literal["text", "json"] = Field("text", description="Log line format")
    warroom_config: str | None = Field(None, description="Path of the YAML config file (none = built-in defaults)")
    smtp_host: str | None = Field(None, description="SMTP server for stakeholder email (needed by an email: section)")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS, 25 none)")
    smtp_tls: Literal["starttls", "tls", "none"] = Field("starttls", description="starttls, tls (implicit) or none")
    smtp_user: str | None = Field(None, description="SMTP user name (none: no login)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    job_intervals: dict[str, float] = Field(default_factory=dict, description="Seconds between runs of the named "
                                            "jobs instead of their schedule, as JSON, e.g. {\"report_reminders\": 60} "
                                            "(a daily job then runs at that interval; for tests and demos)")
    warroom_instance: str = Field(default_factory=socket.gethostname, min_length=1,
                                  description="Name of this replica, the same across its restarts (default: the "
                                  "host name); replicas sharing a host name need their own")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().startswith("xoxb-") or len(v.get_secret_value().strip()) <= len("xoxb-"):
            raise ValueError("must be a bot token: xoxb- followed by the rest of the token")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().startswith("xapp-") or len(v.get_secret_value().strip()) <= len("xapp-"):
            raise ValueError("must be an app-level token: xapp- followed by the rest of the token")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v if v.endswith("/") else v + "/"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


def load_settings(cls: type[DatabaseSettings] = Settings, **overrides: object):
    """Read settings; raise `SettingsError` naming every missing or malformed variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            msg = "is required but not set" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            lines.append(f"  {name}: {msg}")
        raise SettingsError("warroom cannot start, fix these settings:\n" + "\n".join(lines)) from None


def settings_table() -> list[tuple[str, str, str]]:
    """(VARIABLE, default, description) rows for README and `.env.example`."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "required" if field.is_required() else ("" if field.default is None else str(field.default))
        rows.append((name.upper(), default, field.description or ""))
    return rows
