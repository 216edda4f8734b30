"""POST /api/v1/{organization}/signals/instances and /signals against a running warroom."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import uuid
from datetime import timedelta

import pytest

from domain.signals.auth import timestamped_signature
from storage.types import utcnow
from tests.signals.conftest import stored
from tests.signals.signal_config import BEARER_TOKEN, ENV_TOKEN_NAME, HMAC_HEADER, HMAC_SECRET, MAX_BODY

PATH = "/api/v1/acme/signals/instances"
BEARER = {"Authorization": f"Bearer {BEARER_TOKEN}"}


async def post(http, payload, headers=BEARER, path=PATH):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with http.post(path, data=body, headers={"Content-Type": "application/json", **headers}) as resp:
        return resp.status, await resp.json()


def signed(body: bytes, secret=HMAC_SECRET) -> dict:
    timestamp = int(time.time())
    return {"X-Warroom-Request-Timestamp": str(timestamp), HMAC_HEADER: timestamped_signature(secret, timestamp, body)}


async def test_accepted_instance_is_committed_before_the_reply(http, warroom):
    instance_id = str(uuid.uuid4())
    payload = {"project": {"name": "default"}, "case_priority": {"name": "High"}, "case_type": "Reliability triage",
               "conversation_target": {"name": "C0SIGNALS"}, "signal": None, "entities": [], "canary": False,
               "filter_action": None, "raw": {"id": instance_id, "name": "Disk full", "host": "db-1"}}
    before = utcnow()
    status, body = await post(http, payload)
    assert (status, body) == (202, {"id": instance_id, "status": "accepted"})
    [row] = await stored(warroom)
    assert (row.id, row.organization, row.project, row.definition, row.source, row.status) == (
        instance_id, "acme", "default", "Disk full", "siem", "pending")
    assert row.raw == payload["raw"]
    assert row.overrides == {"case_type": "Reliability triage", "case_priority": "High",
                             "conversation_target": "C0SIGNALS"}
    assert before - timedelta(seconds=1) <= row.next_attempt_at <= utcnow() and row.attempts == 0
    assert warroom.woken == 1, "the worker is woken for each new instance"


async def test_same_instance_twice_is_stored_once(http, warroom):
    payload = {"raw": {"id": str(uuid.uuid4()), "externalId": "login-001", "variant": "mfa"}}
    assert (await post(http, payload))[0] == 202
    status, body = await post(http, payload)
    assert (status, body) == (200, {"id": payload["raw"]["id"], "status": "duplicate"})
    [row] = await stored(warroom)
    assert row.definition == "Suspicious login (MFA)" and row.project == "default" and row.overrides is None
    assert warroom.woken == 1, "a duplicate wakes nobody"


async def test_concurrent_posts_of_one_instance_make_one_row(http, warroom):
    payload = {"raw": {"id": str(uuid.uuid4()), "name": "Disk full"}}
    results = await asyncio.gather(*(post(http, payload) for _ in range(8)))
    assert sorted(status for status, _ in results) == [200] * 7 + [202]
    assert len(await stored(warroom)) == 1


async def test_short_alias_and_assigned_id(http, warroom):
    status, body = await post(http, {"raw": {"name": "Disk full"}}, path="/signals")
    assert status == 202 and uuid.UUID(body["id"]).version == 4
    [row] = await stored(warroom)
    assert (row.id, row.organization, row.raw["id"]) == (body["id"], "acme", body["id"])


async def test_hmac_signed_body(http, warroom):
    body = json.dumps({"raw": {"variant": "edr", "host": "laptop-7"}}).encode()
    status, reply = await post(http, body, headers=signed(body))
    assert status == 202 and reply["status"] == "accepted"
    assert (await stored(warroom))[0].source == "edr"
    for headers in (signed(body, secret="wrong"), signed(body + b" "), {HMAC_HEADER: "v0=00"}, {}):
        status, reply = await post(http, body, headers=headers)
        assert status == 401 and reply["error"] == "unauthorized" and reply["field"] == "Authorization"
    other = json.dumps({"raw": {"name": "Disk full"}}).encode()
    status, reply = await post(http, other, headers=signed(other))
    assert status == 403 and "Disk full" in reply["message"], "edr may post its own definition only"


async def test_bearer_failures(http, warroom, monkeypatch):
    payload = {"raw": {"name": "Disk full"}}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": BEARER_TOKEN}):
        async with http.post(PATH, json=payload, headers=headers) as resp:
            assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await resp.json())["field"] == "Authorization"
    status, reply = await post(http, payload, headers={"Authorization": "Bearer elsewhere-token"})
    assert (status, reply["error"], reply["field"]) == (403, "forbidden", "organization")
    status, reply = await post(http, payload, path="/api/v1/globex/signals/instances")
    assert (status, reply["error"], reply["field"]) == (404, "unknown_organization", "organization")
    monkeypatch.setenv(ENV_TOKEN_NAME, "token-from-env")
    assert (await post(http, payload, headers={"Authorization": "Bearer token-from-env"}))[0] == 202
    assert [r.source for r in await stored(warroom)] == ["from-env"]


@pytest.mark.parametrize("body, status, error, field", [
    (b"{not json", 400, "malformed_json", "body"),
    (b"", 400, "malformed_json", "body"),
    (b"[]", 400, "invalid", "body"),
    (b'{"raw": NaN}', 400, "malformed_json", "body"),
    (b'{"project": "default"}', 400, "invalid", "raw"),
    (b'{"raw": "Disk full"}', 400, "invalid", "raw"),
    (b'{"raw": {"name": "Unheard of"}}', 422, "unknown", "raw"),
    (b'{"raw": {"name": "Retired rule"}}', 422, "unknown", "raw"),
    (b'{"raw": {"name": "Disk full", "id": "12345"}}', 400, "invalid", "raw.id"),
    (b'{"raw": {"name": "Disk full"}, "project": "nope"}', 422, "unknown", "project"),
    (b'{"raw": {"name": "Disk full"}, "case_type": {"name": "nope"}}', 422, "unknown", "case_type"),
    (b'{"raw": {"name": "Disk full"}, "case_priority": "nope"}', 422, "unknown", "case_priority"),
    (b'{"raw": {"name": "Disk full"}, "conversation_target": "general"}', 400, "invalid", "conversation_target"),
])
async def test_bad_requests_get_a_4xx_naming_the_field(http, warroom, body, status, error, field):
    got, reply = await post(http, body)
    assert (got, reply["error"], reply["field"]) == (status, error, field)
    assert isinstance(reply["message"], str) and reply["message"]
    assert await stored(warroom) == [] and warroom.woken == 0


async def test_body_cap_with_content_length_and_chunked(http, warroom):
    padding = "x" * (MAX_BODY - len(json.dumps({"raw": {"name": "Disk full", "pad": ""}})))
    exact = json.dumps({"raw": {"name": "Disk full", "pad": padding}}).encode()
    assert len(exact) == MAX_BODY
    assert (await post(http, exact))[0] == 202, "a body of exactly the limit is accepted"

    too_big = json.dumps({"raw": {"name": "Disk full", "pad": padding + "x"}}).encode()
    status, reply = await post(http, too_big)
    assert (status, reply["error"], reply["field"]) == (413, "body_too_large", "body")

    async def chunks():
        for _ in range(4):
            yield b" " * (MAX_BODY // 2)

    async with http.post(PATH, data=chunks(), headers=BEARER) as resp:
        assert resp.request_info.headers.get("Transfer-Encoding") == "chunked"
        assert resp.status == 413 and (await resp.json())["error"] == "body_too_large"
    assert len(await stored(warroom)) == 1
    assert (await post(http, {"raw": {"name": "Disk full"}}))[0] == 202, "still serving after refusing"


async def test_body_not_matching_its_content_encoding_is_a_400(http, warroom):
    gzipped = {**BEARER, "Content-Encoding": "gzip"}
    status, reply = await post(http, b'{"raw": {"name": "Disk full"}}', headers=gzipped)
    assert (status, reply["error"], reply["field"]) == (400, "malformed_body", "body"), "not a 500"
    assert (await post(http, gzip.compress(b'{"raw": {"name": "Disk full"}}'), headers=gzipped))[0] == 202
    bomb = gzip.compress(b'{"raw": {"name": "Disk full", "pad": "' + b"x" * (10 * MAX_BODY) + b'"}}')
    assert len(bomb) < MAX_BODY
    status, reply = await post(http, bomb, headers=gzipped)
    assert (status, reply["error"]) == (413, "body_too_large"), "the limit applies to the decoded body"
    assert len(await stored(warroom)) == 1


async def test_awkward_but_valid_json_is_stored_as_sent(http, warroom):
    raw = {"name": "Disk full", "nul": "a\u0000b", "lone": "\ud800", "emoji": "🔥", "big": 10**30, "tiny": 1e-300,
           "deep": [[[[{"k": None}]]]], "": ""}
    body = json.dumps({"raw": raw}).encode()
    status, reply = await post(http, body)
    assert status == 202, reply
    [row] = await stored(warroom)
    assert row.raw == {**raw, "id": reply["id"]}


async def test_ingestion_survives_the_database_dropping_its_connections(http, warroom, db_url):
    """Kept ingestion connections that Postgres killed (a restart, a failover) are replaced, not reported as errors."""
    if not db_url.startswith("postgresql"):
        pytest.skip("only Postgres drops connections from under a running process")
    from sqlalchemy import text

    first = {"raw": {"id": str(uuid.uuid4()), "name": "Disk full"}}
    assert (await post(http, first))[0] == 202
    async with warroom.deps.sessions() as session:
        await session.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        await session.commit()
    second = {"raw": {"id": str(uuid.uuid4()), "name": "Disk full"}}
    assert await post(http, second) == (202, {"id": second["raw"]["id"], "status": "accepted"})
    assert {r.id for r in await stored(warroom)} == {first["raw"]["id"], second["raw"]["id"]}


async def test_wrong_method_and_unknown_path_also_answer_json(http):
    async with http.get(PATH) as resp:
        assert resp.status == 405 and resp.headers["Allow"] == "POST"
        body = await resp.json()
        assert body["error"] == "method_not_allowed" and "allowed: POST" in body["message"] and body["field"] is None
    async with http.post("/api/v2/acme/signals") as resp:
        assert resp.status == 404 and (await resp.json())["error"] == "not_found"
