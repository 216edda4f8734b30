"""Who is posting a signal: a configured source proven by a bearer token or an HMAC-SHA256 signature.

HMAC sources sign `v0:{timestamp}:{body}` by default (`signing: timestamped`, Slack's scheme): a request is
accepted while its timestamp is within the source's window of now, and (domain/signals/replay.py) once.
`signing: body` keeps the legacy signature of the body alone, which a captured request can replay.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.config.signals import SignalDefinitionConfig, SignalsConfig, SignalSourceConfig
from domain.core.vocabulary import SignalAuth
from domain.signals.errors import IngestError

TIMESTAMP = re.compile(r"[0-9]{1,15}")  # Unix seconds (milliseconds fit too, to be named as such: "in the future")


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
    """The legacy (`signing: body`) signature header value: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(_bytes(secret), body, hashlib.sha256).hexdigest()


def timestamped_signature(secret: str, timestamp: str | int, body: bytes) -> str:
    """The signature header value of a timestamped request: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`
    (Slack's scheme), `timestamp` being exactly the timestamp header's value (Unix time in seconds)."""
    basestring = b"v0:" + _bytes(str(timestamp)) + b":" + body
    return "v0=" + hmac.new(_bytes(secret), basestring, hashlib.sha256).hexdigest()


def signed_headers(source: SignalSourceConfig, secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers a sender adds to sign `body` as `source` (now, unless `timestamp` is given)."""
    if source.signing == "body":
        return {source.signature_header: signature(secret, body)}
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {source.timestamp_header: str(timestamp),
            source.signature_header: timestamped_signature(secret, timestamp, body)}


@dataclass(frozen=True)
class Verified:
    """Who signed a request. A timestamped HMAC request also carries its `signature` (hex), to be used
    once: it can be forgotten after `expires_at`, when its timestamp leaves the window anyway."""

    source: SignalSourceConfig
    signature: str | None = None
    expires_at: datetime | None = None


def _bearer(headers: Mapping[str, str]) -> bytes | None:
    value = _header(headers, "Authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return _bytes(token.strip())


def _expected_signature(source: SignalSourceConfig, secret: str, body: bytes,
                        headers: Mapping[str, str]) -> tuple[str, str | None] | None:
    """What `source`'s signature header must hold for this request, and the timestamp signed (timestamped)."""
    if source.signing == "body":
        return signature(secret, body), None
    timestamp = _header(headers, source.timestamp_header)
    if timestamp is None:
        return None
    timestamp = timestamp.strip()
    return timestamped_signature(secret, timestamp, body), timestamp


def _verified_source(headers: Mapping[str, str], body: bytes, signals: SignalsConfig,
                     env: Mapping[str, str]) -> tuple[SignalSourceConfig, tuple[str, str] | None] | None:
    """(source, (timestamp, signature) when timestamped) of the first source whose credentials this request carries."""
    token = _bearer(headers)
    found: tuple[SignalSourceConfig, tuple[str, str] | None] | None = None
    for source in signals.sources:
        if source.auth == SignalAuth.BEARER:
            expected_token = _secret(source.token, source.token_env, env)
            # Every candidate is compared (no early exit) so timing says nothing about which one matched.
            if (token is not None and expected_token and hmac.compare_digest(token, _bytes(expected_token))
                    and found is None):
                found = source, None
        else:
            given = _header(headers, source.signature_header)
            secret = _secret(source.secret, source.secret_env, env)
            expected = _expected_signature(source, secret, body, headers) if given and secret else None
            if given and expected is not None:
                value, timestamp = expected
                if hmac.compare_digest(_bytes(given.strip().lower()), _bytes(value)) and found is None:
                    found = source, (None if timestamp is None else (timestamp, value))
    return found


def _how_to_sign(signals: SignalsConfig) -> str:
    ways = ["Authorization: Bearer <token>"]
    for source in signals.sources:
        if source.auth != SignalAuth.HMAC:
            continue
        if source.signing == "body":
            way = f"{source.signature_header}: sha256=<hex HMAC-SHA256 of the body>"
        else:
            way = (f"{source.signature_header}: v0=<hex HMAC-SHA256 of \"v0:<timestamp>:<body>\"> with "
                   f"{source.timestamp_header}: <timestamp> (Unix time in seconds)")
        if way not in ways:
            ways.append(way)
    return ", or ".join(ways)


def _fresh(source: SignalSourceConfig, timestamp: str, signals: SignalsConfig, now: float) -> datetime:
    """When the signature of a request timestamped `timestamp` expires; IngestError 401 unless `now` is within
    the window either side of the timestamp."""
    field = source.timestamp_header
    if not TIMESTAMP.fullmatch(timestamp):
        raise IngestError(401, "invalid_timestamp", f"{field} must be the Unix time in whole seconds, "
                          f"not {timestamp[:40]!r}", field)
    window = signals.signature_window(source)
    age = int(now) - int(timestamp)
    if age > window:
        raise IngestError(401, "stale_timestamp", f"the request's timestamp is {age} s old, more than the {window} s "
                          "allowed (signature_window_seconds): sign each request, retries included, as it is "
                          "sent, and check the sender's clock", field)
    if -age > window:
        raise IngestError(401, "future_timestamp", f"the request's timestamp is {-age} s in the future, more than the "
                          f"{window} s allowed (signature_window_seconds): check the sender's clock, and that the "
                          "timestamp is in seconds, not milliseconds", field)
    return datetime.fromtimestamp(int(timestamp) + window, tz=UTC)


def authenticate(headers: Mapping[str, str], body: bytes, organization: str, signals: SignalsConfig,
                 env: Mapping[str, str], now: float | None = None) -> Verified:
    """The source that signed this request and may post to `organization`; raises IngestError 401/403/404.

    `env` supplies the secrets named by `token_env`/`secret_env` (the process environment in production);
    `now` (Unix time, default the clock) is what timestamps are checked against. Whether a timestamped
    signature was used before is for the caller to check (`Verified.signature`: domain/signals/replay.py).
    """
    if not signals.sources:
        raise IngestError(401, "unauthorized",
                          "no signal sources are configured: add one under signals.sources in the warroom config",
                          "Authorization")
    found = _verified_source(headers, body, signals, env)
    if found is None:
        message = f"missing or invalid credentials: send {_how_to_sign(signals)}"
        if any(s.auth == SignalAuth.HMAC and s.signing == "timestamped"
               and (_header(headers, s.signature_header) or "").strip().lower().startswith("sha256=")
               for s in signals.sources):
            message += (" (a sha256= signature of the body alone is the legacy scheme, accepted only from a "
                        "source with signing: body)")
        raise IngestError(401, "unauthorized", message, "Authorization")
    source, stamp = found
    verified = Verified(source)
    if stamp is not None:
        timestamp, signed = stamp
        expires_at = _fresh(source, timestamp, signals, time.time() if now is None else now)
        verified = Verified(source, signed.removeprefix("v0="), expires_at)
    if organization != signals.organization:
        raise IngestError(404, "unknown_organization", f"there is no organization {organization[:80]!r}",
                          "organization")
    if source.organizations and organization not in source.organizations:
        raise IngestError(403, "forbidden", f"source {source.name!r} may not post to organization {organization!r}",
                          "organization")
    return verified


def check_definition(source: SignalSourceConfig, definition: SignalDefinitionConfig) -> None:
    """Raise IngestError 403 unless `source` may post instances of `definition`."""
    if source.definitions and definition.name not in source.definitions:
        raise IngestError(403, "forbidden", f"source {source.name!r} may not post signals of definition "
                          f"{definition.name!r}", "raw")
