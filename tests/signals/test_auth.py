"""Source authentication: bearer tokens, HMAC signatures, secrets from the environment, scope checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from domain.config.loader import parse_config
from domain.signals.auth import authenticate, check_definition, signature, signed_headers, timestamped_signature
from domain.signals.errors import IngestError
from tests.signals.signal_config import (
    BEARER_TOKEN,
    ENV_TOKEN_NAME,
    HMAC_HEADER,
    HMAC_SECRET,
    LEGACY_HEADER,
    LEGACY_SECRET,
    SHORT_WINDOW,
    signal_config,
)

SIGNALS = signal_config().signals
BODY = b'{"raw": {"variant": "edr"}}'
NOW = 1_800_000_000
TS_HEADER = "X-Warroom-Request-Timestamp"


def source(headers, body=BODY, organization="acme", env=None, now=NOW):
    return authenticate(headers, body, organization, SIGNALS, env or {}, now=now).source.name


def refused(headers, body=BODY, organization="acme", env=None, signals=SIGNALS, now=NOW) -> IngestError:
    with pytest.raises(IngestError) as caught:
        authenticate(headers, body, organization, signals, env or {}, now=now)
    return caught.value


def edr(timestamp=NOW, body=BODY, secret=HMAC_SECRET) -> dict:
    return {TS_HEADER: str(timestamp), HMAC_HEADER: timestamped_signature(secret, timestamp, body)}


def test_bearer_token():
    assert source({"Authorization": f"Bearer {BEARER_TOKEN}"}) == "siem"
    assert source({"authorization": f"bearer  {BEARER_TOKEN} "}) == "siem", "scheme and header name in any case"
    for bad in (f"Bearer {BEARER_TOKEN}x", "Bearer", f"Basic {BEARER_TOKEN}", BEARER_TOKEN, "Bearer é"):
        error = refused({"Authorization": bad})
        assert (error.status, error.code, error.field) == (401, "unauthorized", "Authorization"), bad


def test_token_from_the_given_environment_only():
    headers = {"Authorization": "Bearer from-the-env"}
    assert source(headers, env={ENV_TOKEN_NAME: "from-the-env"}) == "from-env"
    assert refused(headers).status == 401, "not set in the mapping given: that source cannot sign in"


def test_timestamped_hmac_signature():
    digest = hmac.new(HMAC_SECRET.encode(), f"v0:{NOW}:".encode() + BODY, hashlib.sha256).hexdigest()
    assert timestamped_signature(HMAC_SECRET, NOW, BODY) == f"v0={digest}"
    edr_source = next(s for s in SIGNALS.sources if s.name == "edr")
    assert signed_headers(edr_source, HMAC_SECRET, BODY, NOW) == {TS_HEADER: str(NOW), HMAC_HEADER: f"v0={digest}"}
    verified = authenticate(edr(), BODY, "acme", SIGNALS, {}, now=NOW)
    assert (verified.source.name, verified.signature) == ("edr", digest)
    assert verified.expires_at.timestamp() == NOW + 300, "forgettable once the timestamp is out of the window"
    assert source({TS_HEADER.lower(): str(NOW), HMAC_HEADER.lower(): f"V0={digest.upper()}"}) == "edr"
    for headers, why in [
        (edr(body=BODY + b" "), "body changed"),
        ({**edr(), TS_HEADER: str(NOW + 1)}, "timestamp changed"),
        ({HMAC_HEADER: f"v0={digest}"}, "no timestamp"),
        ({TS_HEADER: str(NOW), HMAC_HEADER: digest}, "the v0= prefix is required"),
        ({HMAC_HEADER: signature(HMAC_SECRET, BODY)}, "the body-only signature"),
        (edr(secret="wrong"), "wrong secret"),
        ({TS_HEADER: str(NOW), "X-Warroom-Signature": f"v0={digest}"}, "the source's own header only"),
    ]:
        error = refused(headers)
        assert (error.status, error.code, error.field) == (401, "unauthorized", "Authorization"), why
        assert f"{HMAC_HEADER}: v0=<hex HMAC-SHA256 of \"v0:<timestamp>:<body>\"> with {TS_HEADER}" in error.message
        assert ("legacy scheme" in error.message) == (why == "the body-only signature"), why


def test_timestamp_window():
    assert source(edr(NOW - 300)) == source(edr(NOW + 300)) == "edr", "5 minutes either way by default"
    error = refused(edr(NOW - 301))
    assert (error.status, error.code, error.field) == (401, "stale_timestamp", TS_HEADER)
    assert "301 s old" in error.message and "300 s" in error.message
    error = refused(edr(NOW + 301))
    assert (error.status, error.code, error.field) == (401, "future_timestamp", TS_HEADER)
    assert "milliseconds" in error.message
    error = refused(edr(NOW * 1000))
    assert error.code == "future_timestamp", "a timestamp in milliseconds"
    for odd in ("1800000000.5", " ", "-5", "1e9", "١٨٠٠٠٠٠٠٠٠"):
        error = refused({TS_HEADER: odd, HMAC_HEADER: timestamped_signature(HMAC_SECRET, odd.strip(), BODY)})
        assert (error.status, error.code) == (401, "invalid_timestamp"), odd
    error = refused(edr(NOW - 300), organization="globex")
    assert error.code == "unknown_organization", "a good signature reaches the next checks"


def test_window_per_source():
    strict = {"X-Strict-Timestamp": str(NOW - SHORT_WINDOW),
              "X-Strict-Signature": timestamped_signature(LEGACY_SECRET, NOW - SHORT_WINDOW, BODY)}
    assert source(strict) == "edr-strict"
    strict = {"X-Strict-Timestamp": str(NOW - SHORT_WINDOW - 1),
              "X-Strict-Signature": timestamped_signature(LEGACY_SECRET, NOW - SHORT_WINDOW - 1, BODY)}
    error = refused(strict)
    assert (error.code, error.field) == ("stale_timestamp", "X-Strict-Timestamp")
    assert f"more than the {SHORT_WINDOW} s allowed" in error.message


def test_legacy_body_signature():
    digest = hmac.new(LEGACY_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert signature(LEGACY_SECRET, BODY) == f"sha256={digest}"
    verified = authenticate({LEGACY_HEADER: f"sha256={digest}"}, BODY, "acme", SIGNALS, {}, now=NOW)
    assert (verified.source.name, verified.signature) == ("edr-legacy", None), "nothing to check for replays"
    assert source({LEGACY_HEADER.lower(): f"SHA256={digest.upper()}"}, now=0) == "edr-legacy", "no timestamp"
    assert refused({LEGACY_HEADER: f"sha256={digest}"}, body=BODY + b" ").status == 401, "body changed"
    assert refused({LEGACY_HEADER: digest}).status == 401, "the sha256= prefix is required"
    assert refused({HMAC_HEADER: f"sha256={digest}"}).status == 401, "the source's own header only"
    assert f"or {LEGACY_HEADER}: sha256=<hex HMAC-SHA256 of the body>" in refused({}).message


def test_no_sources_configured_says_so():
    error = refused({"Authorization": f"Bearer {BEARER_TOKEN}"}, signals=parse_config("{}").signals)
    assert error.status == 401 and "no signal sources are configured" in error.message


def test_organization_scope():
    bearer = {"Authorization": f"Bearer {BEARER_TOKEN}"}
    error = refused(bearer, organization="globex")
    assert (error.status, error.code, error.field) == (404, "unknown_organization", "organization")
    assert refused({}, organization="globex").status == 401, "credentials are checked before anything is revealed"
    error = refused({"Authorization": "Bearer elsewhere-token"})
    assert (error.status, error.code) == (403, "forbidden") and "elsewhere" in error.message


def test_definition_scope():
    edr = next(s for s in SIGNALS.sources if s.name == "edr")
    siem = next(s for s in SIGNALS.sources if s.name == "siem")
    check_definition(edr, SIGNALS.definition("EDR alert"))
    check_definition(siem, SIGNALS.definition("Disk full"))
    with pytest.raises(IngestError) as caught:
        check_definition(edr, SIGNALS.definition("Disk full"))
    assert caught.value.status == 403 and "Disk full" in caught.value.message
