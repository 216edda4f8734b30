"""Source authentication: bearer tokens, HMAC signatures, secrets from the environment, scope checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from domain.config.loader import parse_config
from domain.signals.auth import authenticate, check_definition, signature
from domain.signals.errors import IngestError
from tests.signals.signal_config import BEARER_TOKEN, ENV_TOKEN_NAME, HMAC_HEADER, HMAC_SECRET, signal_config

SIGNALS = signal_config().signals
BODY = b'{"raw": {"variant": "edr"}}'


def source(headers, body=BODY, organization="acme", env=None):
    return authenticate(headers, body, organization, SIGNALS, env or {}).name


def refused(headers, body=BODY, organization="acme", env=None, signals=SIGNALS) -> IngestError:
    with pytest.raises(IngestError) as caught:
        authenticate(headers, body, organization, signals, env or {})
    return caught.value


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


def test_hmac_signature_of_the_raw_body():
    digest = hmac.new(HMAC_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert signature(HMAC_SECRET, BODY) == f"sha256={digest}"
    assert source({HMAC_HEADER: f"sha256={digest}"}) == "edr"
    assert source({HMAC_HEADER.lower(): f"SHA256={digest.upper()}"}) == "edr"
    assert refused({HMAC_HEADER: f"sha256={digest}"}, body=BODY + b" ").status == 401, "body changed"
    assert refused({HMAC_HEADER: digest}).status == 401, "the sha256= prefix is required"
    assert refused({"X-Warroom-Signature": f"sha256={digest}"}).status == 401, "the source's own header only"


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
