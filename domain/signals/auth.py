"""Who is posting a signal: a configured source proven by a bearer token or an HMAC-SHA256 body signature."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from domain.config.signals import SignalDefinitionConfig, SignalsConfig, SignalSourceConfig
from domain.core.vocabulary import SignalAuth
from domain.signals.errors import IngestError


def _bytes(text: str) -> bytes:
    # compare_digest refuses non-ASCII str; header values may hold anything.
    return text.encode("utf-8", "backslashreplace")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not hasattr(headers, "getall"):  # plain dicts: look the name up case-insensitively
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def _secret(inline: str | None, env_name: str | None, env: Mapping[str, str]) -> str | None:
    if env_name and env.get(env_name):
        return env[env_name]
    return inline or None


def signature(secret: str, body: bytes) -> str:
    """The signature header value a sender computes: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(_bytes(secret), body, hashlib.sha256).hexdigest()


def _bearer(headers: Mapping[str, str]) -> bytes | None:
    value = _header(headers, "Authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return _bytes(token.strip())


def _verified_source(headers: Mapping[str, str], body: bytes, signals: SignalsConfig,
                     env: Mapping[str, str]) -> SignalSourceConfig | None:
    token = _bearer(headers)
    found = None
    for source in signals.sources:
        if source.auth == SignalAuth.BEARER:
            expected = _secret(source.token, source.token_env, env)
            # Every candidate is compared (no early exit) so timing says nothing about which one matched.
            if token is not None and expected and hmac.compare_digest(token, _bytes(expected)) and found is None:
                found = source
        else:
            given = _header(headers, source.signature_header)
            secret = _secret(source.secret, source.secret_env, env)
            if given and secret:
                if hmac.compare_digest(_bytes(given.strip().lower()), _bytes(signature(secret, body))) and found is None:
                    found = source
    return found


def authenticate(headers: Mapping[str, str], body: bytes, organization: str, signals: SignalsConfig,
                 env: Mapping[str, str]) -> SignalSourceConfig:
    """The source that signed this request and may post to `organization`; raises IngestError 401/403/404.

    `env` supplies the secrets named by `token_env`/`secret_env` (the process environment in production).
    """
    if not signals.sources:
        raise IngestError(401, "unauthorized",
                          "no signal sources are configured: add one under signals.sources in the warroom config",
                          "Authorization")
    source = _verified_source(headers, body, signals, env)
    if source is None:
        headers_named = sorted({"Authorization"} | {s.signature_header for s in signals.sources if s.auth == SignalAuth.HMAC})
        raise IngestError(401, "unauthorized",
                          "missing or invalid credentials: send Authorization: Bearer <token> or a valid "
                          f"sha256=<hex HMAC of the body> signature ({' or '.join(headers_named)})",
                          "Authorization")
    if organization != signals.organization:
        raise IngestError(404, "unknown_organization", f"there is no organization {organization[:80]!r}",
                          "organization")
    if source.organizations and organization not in source.organizations:
        raise IngestError(403, "forbidden", f"source {source.name!r} may not post to organization {organization!r}",
                          "organization")
    return source


def check_definition(source: SignalSourceConfig, definition: SignalDefinitionConfig) -> None:
    """Raise IngestError 403 unless `source` may post instances of `definition`."""
    if source.definitions and definition.name not in source.definitions:
        raise IngestError(403, "forbidden", f"source {source.name!r} may not post signals of definition "
                          f"{definition.name!r}", "raw")
