"""AI: the `ai:` section (any OpenAI-compatible chat-completions server). Absent means no AI: nothing is
sent anywhere, `/…-summary` says AI is off, and the tactical form has no *Draft with AI* button."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from domain.config.base import StrictModel

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Secrets are replaced by `[REDACTED]` before any text leaves for the AI server. Each is a Python regex; a
# match is replaced whole, or only its first group when the pattern has one (so `password: …` keeps its key).
DEFAULT_REDACT_PATTERNS: list[str] = [
    r"xox[abposr]-[A-Za-z0-9-]{10,}",  # Slack tokens
    r"xapp-[A-Za-z0-9-]{10,}",  # Slack app-level tokens
    r"sk-[A-Za-z0-9_-]{16,}",  # OpenAI-style API keys
    r"(?:AKIA|ASIA)[A-Z0-9]{16}",  # AWS access key ids
    r"gh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"glpat-[A-Za-z0-9_-]{20,}",  # GitLab tokens
    r"AIza[0-9A-Za-z_-]{35}",  # Google API keys
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWTs
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",  # PEM private keys
    r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{8,})",  # Authorization: Bearer …
    r"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[:=]\s*[\"']?([^\s\"',;]+)",
    r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s:/@]{1,128}:([^\s@/]{1,256})@",  # credentials in URLs (user:password@host)
]


class AIFeatures(StrictModel):
    """Which AI helpers are on (all need the `ai:` section)."""

    summary: bool = Field(default=True, description="/…-summary: an ephemeral read-in of an incident or case")
    tactical_draft: bool = Field(default=True, description="*Draft with AI* on the tactical report form")
    close_summary: bool = Field(default=True, description="a summary stored and posted with the closing message")
    case_analysis: bool = Field(default=False, description="a short analysis in the thread of new signal case cards")


class AIConfig(StrictModel):
    """An OpenAI-compatible chat-completions server used for read-ins, drafts and summaries."""

    base_url: str = Field(default="https://api.openai.com/v1", description="the server's API root, ending in /v1 for most")
    model: str = Field(default="gpt-4o-mini", min_length=1)
    api_key_env: str = Field(default="OPENAI_API_KEY", description="name of the environment variable holding the API key")
    projects: list[str] = Field(default_factory=list,
                                description="projects whose incidents and cases may use AI (empty: every project)")
    features: AIFeatures = Field(default_factory=AIFeatures)
    timeout: float = Field(default=20.0, gt=0, le=120, description="seconds one AI call may take, retries included")
    max_retries: int = Field(default=1, ge=0, le=5, description="retries of a 429 or 5xx answer (the client honours Retry-After)")
    max_prompt_chars: int = Field(default=24000, ge=1000, le=400000,
                                  description="a prompt longer than this loses its oldest lines first")
    max_answer_tokens: int = Field(default=700, ge=50, le=8000)
    history_messages: int = Field(default=100, ge=0, le=1000, description="recent channel messages read for a read-in")
    redact_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_REDACT_PATTERNS),
                                       description="regexes replaced by [REDACTED] before sending (replaces the defaults)")
    extra_redact_patterns: list[str] = Field(default_factory=list, description="regexes added to redact_patterns")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not _ENV_NAME.match(v):
            raise ValueError("must be the name of an environment variable (letters, digits, _), not the key")
        return v

    @field_validator("redact_patterns", "extra_redact_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        bad = []
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                bad.append(f"{pattern!r} ({exc})")
        if bad:
            raise ValueError(f"not valid regular expressions: {', '.join(bad)}")
        return v

    def all_patterns(self) -> list[str]:
        return [*self.redact_patterns, *self.extra_redact_patterns]

    def enabled_for(self, project: str | None) -> bool:
        """Whether the incidents and cases of `project` may use AI."""
        return not self.projects or (project is not None and project in self.projects)
