"""Parsing and definition matching of posted signal instances (no database, no HTTP)."""

from __future__ import annotations

import uuid

import pytest

from domain.signals.errors import IngestError
from domain.signals.ingest import match_definition, parse_json, parse_submission
from tests.signals.signal_config import signal_config

CONFIG = signal_config()
ID = "7b1c1e4a-5c1f-4c4e-9a51-3f2f1d7e8c01"


def matched(**raw):
    found = match_definition(CONFIG.signals, raw)
    return found.name if found else None


def refusal(payload, organization="acme") -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_submission(payload, organization, "siem", CONFIG)
    return caught.value


def test_external_id_then_variant_then_name():
    assert matched(externalId="login-001") == "Suspicious login"
    assert matched(externalId="login-001", variant="mfa") == "Suspicious login (MFA)", "exact variant wins"
    assert matched(externalId="login-001", variant="sms") == "Suspicious login", "variant-less definition accepts any"
    assert matched(variant="edr", name="Disk full") == "EDR alert", "variant before name"
    assert matched(name="Disk full") == "Disk full"
    assert matched(externalId="nope", name="Disk full") == "Disk full", "falls through to the name"
    assert matched(name="disk full") is None, "names match exactly"
    assert matched(name="Retired rule") is None, "disabled definitions never match"
    assert matched() is None


def test_non_string_match_keys_are_refused():
    with pytest.raises(IngestError) as caught:
        match_definition(CONFIG.signals, {"name": ["Disk full"]})
    assert (caught.value.status, caught.value.field) == (400, "raw.name")


def test_dispatch_payload_is_accepted_with_names_resolved():
    payload = {
        "project": {"name": "DEFAULT"},
        "raw": {"id": ID.upper(), "name": "Disk full", "host": "db-1"},
        "case_type": {"name": "reliability triage"},
        "case_priority": "high",
        "conversation_target": "C0SIGNALS",
        "signal": {"name": "whatever"}, "entities": [{"value": "x"}], "filter_action": "snooze", "canary": False,
    }
    sub = parse_submission(payload, "acme", "siem", CONFIG)
    assert sub.id == ID, "the id is normalised to lowercase hyphenated form"
    assert sub.raw["id"] == ID and sub.raw["host"] == "db-1"
    assert (sub.project, sub.definition.name, sub.source, sub.organization) == ("default", "Disk full", "siem", "acme")
    assert sub.overrides == {"case_type": "Reliability triage", "case_priority": "High",
                             "conversation_target": "C0SIGNALS"}


def test_missing_id_and_project_get_defaults():
    sub = parse_submission({"raw": {"name": "Disk full"}}, "acme", "siem", CONFIG)
    assert uuid.UUID(sub.id).version == 4 and sub.raw["id"] == sub.id
    assert sub.project == "default" and sub.overrides is None


@pytest.mark.parametrize("payload, status, field", [
    ({}, 400, "raw"),
    ({"raw": None}, 400, "raw"),
    ({"raw": [1]}, 400, "raw"),
    ({"raw": {"name": "Nope"}}, 422, "raw"),
    ({"raw": {"name": "Disk full", "id": "not-a-uuid"}}, 400, "raw.id"),
    ({"raw": {"name": "Disk full", "id": 42}}, 400, "raw.id"),
    ({"raw": {"name": 42}}, 400, "raw.name"),
    ({"raw": {"name": "Disk full"}, "project": "nope"}, 422, "project"),
    ({"raw": {"name": "Disk full"}, "project": {"name": 3}}, 400, "project.name"),
    ({"raw": {"name": "Disk full"}, "case_type": "nope"}, 422, "case_type"),
    ({"raw": {"name": "Disk full"}, "case_priority": {"name": "urgent"}}, 422, "case_priority"),
    ({"raw": {"name": "Disk full"}, "conversation_target": "#general"}, 400, "conversation_target"),
    ({"raw": {"name": "Disk full"}, "conversation_target": {"name": "x"}}, 400, "conversation_target.name"),
    ({"raw": {"name": "Disk full"}, "case_type": []}, 400, "case_type"),
])
def test_bad_payloads_name_the_field(payload, status, field):
    error = refusal(payload)
    assert (error.status, error.field) == (status, field)
    assert error.message and error.as_json() == {"error": error.code, "field": field, "message": error.message}


@pytest.mark.parametrize("body, status", [
    (b"", 400), (b"{", 400), (b"\xff\xfe", 400), (b"[1, 2]", 400), (b'"x"', 400), (b"null", 400),
    (b'{"raw": NaN}', 400), (b'{"raw": {"x": 1e999}}', 400), (b"[" * 100_000, 400), (b'{"raw": {"x": 1' + b"0" * 5000 + b"}}", 400),
])
def test_bad_json_is_a_400(body, status):
    with pytest.raises(IngestError) as caught:
        parse_json(body)
    assert (caught.value.status, caught.value.field) == (status, "body")


def test_good_json():
    assert parse_json(b'{"raw": {"x": 1.5, "y": [true, null]}}') == {"raw": {"x": 1.5, "y": [True, None]}}
