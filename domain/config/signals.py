"""Signals."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from jsonpath_ng.ext import parse
from pydantic import Field, PositiveInt, field_validator, model_validator

from domain.config.base import StrictModel, check_channel_id
from domain.core.vocabulary import FilterAction, SignalAuth


class SignalSourceConfig(StrictModel):
    """A sender allowed to post signals: a bearer token, or an HMAC-SHA256 signature.

    HMAC `signing`: `timestamped` (default) signs `v0:{timestamp}:{body}`, sent as `v0=<hex>` with the
    Unix time in `timestamp_header`; accepted within the signature window, once. `body` is the legacy
    scheme, `sha256=<hex>` of the body alone, which anyone who sees a request can replay.
    Secrets come from the environment (`*_env`, recommended) or inline (tests, demos).
    """

    name: str = Field(min_length=1)
    auth: SignalAuth = Field(default=SignalAuth.BEARER, validate_default=True)
    token: str | None = None
    token_env: str | None = None
    secret: str | None = Field(default=None, description="HMAC key")
    secret_env: str | None = None
    signature_header: str = "X-Warroom-Signature"
    signing: Literal["timestamped", "body"] = Field(
        default="timestamped", description="hmac: timestamped (v0, replay-proof) or body (legacy, replayable)")
    timestamp_header: str = "X-Warroom-Request-Timestamp"
    signature_window_seconds: PositiveInt | None = Field(
        default=None, description="how far a timestamp may be from now, either way (default: signals.signature_window_seconds)")
    organizations: list[str] = Field(default_factory=list, description="organizations it may post to (empty: any)")
    definitions: list[str] = Field(default_factory=list, description="definitions it may post (empty: any)")

    @model_validator(mode="after")
    def _has_secret(self) -> SignalSourceConfig:
        if self.auth == SignalAuth.BEARER and not (self.token or self.token_env):
            raise ValueError("a bearer source needs token or token_env")
        if self.auth == SignalAuth.HMAC and not (self.secret or self.secret_env):
            raise ValueError("an hmac source needs secret or secret_env")
        return self


class EntityTypeConfig(StrictModel):
    """A kind of entity pulled out of raw payloads by JSONPath and/or a regular expression."""

    name: str = Field(min_length=1)
    description: str = ""
    jsonpath: str | None = None
    regex: str | None = None
    scope: Literal["global", "definition"] = Field(
        default="definition", description="global: applied to every signal; definition: only where a definition lists it")

    @field_validator("jsonpath")
    @classmethod
    def _jsonpath(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse(v)
            except Exception as exc:  # jsonpath_ng raises several unrelated types
                raise ValueError(f"not a valid JSONPath: {exc}") from None
        return v

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _some_rule(self) -> EntityTypeConfig:
        if not self.jsonpath and not self.regex:
            raise ValueError("needs jsonpath, regex, or both")
        return self


class SignalDefinitionConfig(StrictModel):
    """A kind of alert. Matched on `raw.externalId` (and `raw.variant` when set), else on `raw.variant`, else on `raw.name`."""

    name: str = Field(min_length=1)
    external_id: str | None = None
    variant: str | None = None
    owner: str = ""
    description: str = ""
    runbook: str | None = None
    enabled: bool = True
    create_case: bool = Field(default=True, description="false: store and extract only (context signals)")
    case_type: str | None = None
    case_priority: str | None = None
    conversation_target: str | None = Field(default=None, description="Slack channel id (default: the case type's)")
    entity_types: list[str] = Field(default_factory=list)
    dedup_window_seconds: int = Field(default=3600, ge=0, description="same-definition signals within it join the open case")
    workflow: str | None = Field(default=None, description="workflow run when it opens a case (entities as parameters)")

    _target = field_validator("conversation_target")(lambda cls, v: check_channel_id(v))


class EntityMatch(StrictModel):
    type: str = Field(min_length=1)
    value: str = Field(min_length=1)


class SignalFilterConfig(StrictModel):
    """deduplicate: a signal sharing an entity of `entity_types` with one within `window_seconds` joins its case.
    snooze: a signal carrying all of `entities` makes no case until `expires_at`."""

    name: str = Field(min_length=1)
    action: FilterAction
    definitions: list[str] = Field(default_factory=list, description="empty: every definition")
    entity_types: list[str] = Field(default_factory=list)
    window_seconds: PositiveInt = 3600
    entities: list[EntityMatch] = Field(default_factory=list)
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        """A time written without a zone (`2026-12-31 00:00`) is UTC, so it compares with aware times."""
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v

    @model_validator(mode="after")
    def _complete(self) -> SignalFilterConfig:
        if self.action == FilterAction.DEDUPLICATE and not self.entity_types:
            raise ValueError("a deduplicate filter needs entity_types")
        if self.action == FilterAction.SNOOZE and not self.entities:
            raise ValueError("a snooze filter needs entities")
        return self


class SignalsConfig(StrictModel):
    """Signal ingestion: who may post, what the alerts are, what to extract, what to filter."""

    organization: str = Field(default="default", description="the {organization} in /api/v1/{organization}/signals/instances")
    max_body_bytes: PositiveInt = 1024 * 1024
    signature_window_seconds: PositiveInt = Field(
        default=300, description="a timestamped HMAC request is accepted while its timestamp is this close to now")
    worker_batch: PositiveInt = 200
    max_attempts: PositiveInt = 5
    card_refresh_seconds: float = Field(default=3.0, ge=0, description="a case card's alert count is edited at most this often")
    card_edits_per_minute: PositiveInt = Field(
        default=60, description="alert-count edits of the case cards in one channel, per minute across all processes "
                                "(Slack rate-limits chat.update); the cards shown longest ago go first")
    sources: list[SignalSourceConfig] = Field(default_factory=list)
    entity_types: list[EntityTypeConfig] = Field(default_factory=list)
    definitions: list[SignalDefinitionConfig] = Field(default_factory=list)
    filters: list[SignalFilterConfig] = Field(default_factory=list)

    def signature_window(self, source: SignalSourceConfig) -> int:
        """Seconds a timestamped signature of `source` stays acceptable, either side of its timestamp."""
        return source.signature_window_seconds or self.signature_window_seconds

    def definition(self, name: str) -> SignalDefinitionConfig | None:
        return next((d for d in self.definitions if d.name == name), None)

    def snoozes_in_force(self, now: datetime, definition: str | None = None) -> list[SignalFilterConfig]:
        """Config snoozes not expired at `now` (applying to `definition`, when given)."""
        return [f for f in self.filters if f.action == FilterAction.SNOOZE and (f.expires_at is None or f.expires_at > now)
                and (definition is None or not f.definitions or definition in f.definitions)]

    def entity_types_for(self, definition: SignalDefinitionConfig) -> list[EntityTypeConfig]:
        """Global entity types plus those the definition lists."""
        return [e for e in self.entity_types if e.scope == "global" or e.name in definition.entity_types]
