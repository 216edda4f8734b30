"""Replayed signed requests, against running warrooms: a timestamped signature stores once, on any replica."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

from sqlalchemy import select

from bot.harness import running_warroom
from domain.signals.auth import signature, timestamped_signature
from storage.signal_models import SignalSignature
from storage.signal_store import claim_signature, purge_signatures
from storage.types import utcnow
from tests.signals.conftest import stored
from tests.signals.signal_config import HMAC_HEADER, HMAC_SECRET, LEGACY_HEADER, LEGACY_SECRET, signal_config

PATH = "/api/v1/acme/signals/instances"
TS_HEADER = "X-Warroom-Request-Timestamp"
BODY = json.dumps({"raw": {"variant": "edr", "host": "laptop-7"}}).encode()  # no raw.id: each post is a new alert


def signed(body: bytes = BODY, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {TS_HEADER: str(timestamp), HMAC_HEADER: timestamped_signature(HMAC_SECRET, timestamp, body)}


async def post(http, headers, body: bytes = BODY, base: str = ""):
    async with http.post(base + PATH, data=body, headers={"Content-Type": "application/json", **headers}) as resp:
        return resp.status, await resp.json()


async def test_a_captured_request_replayed_stores_nothing_more(http, warroom, caplog):
    headers = signed()
    status, reply = await post(http, headers)
    assert status == 202 and reply["status"] == "accepted"
    for _ in range(3):
        status, reply = await post(http, headers)
        assert (status, reply["error"], reply["field"]) == (401, "replayed_request", HMAC_HEADER)
        assert "accepted once" in reply["message"]
    assert len(await stored(warroom)) == 1
    assert warroom.woken == 1
    replays = [r for r in caplog.records if "replayed" in r.getMessage()]
    assert len(replays) == 3 and all(not r.exc_info for r in replays)

    # Another second than the captured one (int(time.time()) may not have moved since).
    status, reply = await post(http, signed(timestamp=int(headers[TS_HEADER]) - 1))
    assert status == 202, "the same body signed anew is a new request"
    assert len(await stored(warroom)) == 2


async def test_one_request_sent_many_times_at_once_stores_once(http, warroom):
    headers = signed()
    results = await asyncio.gather(*(post(http, headers) for _ in range(8)))
    assert sorted(status for status, _ in results) == [202] + [401] * 7
    assert len(await stored(warroom)) == 1


async def test_stale_and_future_timestamps_name_the_cause(http, warroom):
    now = int(time.time())
    for timestamp, code in ((now - 400, "stale_timestamp"), (now + 400, "future_timestamp")):
        status, reply = await post(http, signed(timestamp=timestamp))
        assert (status, reply["error"], reply["field"]) == (401, code, TS_HEADER)
        assert "300 s allowed" in reply["message"]
    status, reply = await post(http, {HMAC_HEADER: timestamped_signature(HMAC_SECRET, now, BODY)})
    assert (status, reply["error"]) == (401, "unauthorized") and TS_HEADER in reply["message"]
    assert await stored(warroom) == []


async def test_a_replay_is_refused_by_another_replica_too(http, warroom, slack, db_url):
    headers = signed()
    assert (await post(http, headers))[0] == 202
    async with running_warroom(slack, db_url, signal_config()) as other:
        await other.signal_worker.stop()
        status, reply = await post(http, headers, base=f"http://127.0.0.1:{other.http_port}")
        assert (status, reply["error"]) == (401, "replayed_request")
    assert len(await stored(warroom)) == 1


async def test_refused_requests_do_not_use_up_their_signature(http, warroom):
    body = json.dumps({"raw": {"name": "Disk full"}}).encode()  # edr may not post this definition
    headers = signed(body)
    assert (await post(http, headers, body))[0] == 403
    assert (await post(http, headers, body))[0] == 403, "not a replay: nothing was stored"
    async with warroom.deps.sessions() as session:
        assert (await session.scalars(select(SignalSignature))).all() == []


async def test_legacy_body_signatures_still_work_and_can_be_replayed(http, warroom):
    headers = {LEGACY_HEADER: signature(LEGACY_SECRET, BODY)}
    for _ in range(2):
        assert (await post(http, headers))[0] == 202
    assert [r.source for r in await stored(warroom)] == ["edr-legacy"] * 2, "why `signing: body` is a warning"


async def test_expired_signatures_are_purged_and_may_be_claimed_again(engine):
    now = utcnow()
    async with engine.begin() as conn:
        assert await claim_signature(conn, "a" * 64, "edr", now + timedelta(seconds=60), now)
        assert not await claim_signature(conn, "a" * 64, "edr", now + timedelta(seconds=60), now)
        assert await claim_signature(conn, "b" * 64, "edr", now - timedelta(seconds=1), now - timedelta(seconds=2))
        assert await claim_signature(conn, "b" * 64, "edr", now + timedelta(seconds=60), now), "expired: taken over"
        assert await claim_signature(conn, "c" * 64, "edr", now - timedelta(seconds=1), now - timedelta(seconds=2))
        assert await purge_signatures(conn, now) == 1
        rows = (await conn.execute(select(SignalSignature.signature))).scalars().all()
    assert sorted(rows) == ["a" * 64, "b" * 64]
