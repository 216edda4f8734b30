"""The PagerDuty emulator answers as PagerDuty does, and the warroom adapter (bot/pagerduty.py) reads it:
token auth, paginated on-calls with users, Events API v2 dedup keys and validation, incident keys,
429 with Retry-After (retried once by the adapter), 5xx, latency."""

from __future__ import annotations

import time

import aiohttp
import pytest

from bot.pagerduty import PagerDutyOncall
from domain.config.paging import PagerDutyConfig, PagerDutyService
from domain.core.ports import PageRequest, PortError
from emulators.pagerdutyemu import PagerDutyEmulator

KEY = "k" * 32


@pytest.fixture
async def pd():
    emu = PagerDutyEmulator(token="secret")
    await emu.start()
    a = emu.add_user("Ann", "ann@example.com")
    b = emu.add_user("Ben", "ben@example.com")
    emu.add_user("Bot", "bot@example.com")
    schedule = emu.add_schedule("Primary", [a])
    policy = emu.add_policy("Ops", [[("schedule", schedule)], [("user", b)]])
    emu.add_service("ops", policy, routing_key=KEY)
    emu.add_service("web", policy)
    yield emu
    await emu.stop()


def adapter(pd: PagerDutyEmulator, *, token: str = "secret", cache: float = 60, timeout: float = 2) -> PagerDutyOncall:
    ops, web = list(pd.services)
    config = PagerDutyConfig(from_email="bot@example.com", api_url=pd.api_url, events_url=pd.events_url,
                             services=[PagerDutyService(name="ops", id=ops, routing_key_env="X"),
                                       PagerDutyService(name="web", id=web)],
                             commander_service="web", timeout=timeout, cache_seconds=cache)

    async def slack(email: str) -> str | None:
        return {"ann@example.com": "UANN"}.get(email)

    return PagerDutyOncall(config, token, {"ops": KEY}, slack)


def request(key: str = "warroom-inc-1-service-ops") -> PageRequest:
    return PageRequest(key, "INC-1", "Checkout down", "https://example.slack.com/archives/C1", "High")


async def test_rest_needs_the_token_and_pages_lists(pd):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{pd.api_url}/services") as resp:
            assert resp.status == 401 and (await resp.json())["error"] == {"message": "Authentication required",
                                                                           "code": 2006}
        headers = {"Authorization": "Token token=secret"}
        async with http.get(f"{pd.api_url}/oncalls?include[]=users&limit=1", headers=headers) as resp:
            body = await resp.json()
        assert body["limit"] == 1 and body["more"] is True and body["total"] == 2  # one policy, two levels
        assert body["oncalls"][0]["user"]["email"] == "ann@example.com"
        assert body["oncalls"][0]["schedule"]["summary"] == "Primary"


async def test_on_call_through_the_adapter_is_ordered_matched_and_cached(pd):
    oncall = adapter(pd)
    try:
        people = await oncall.on_call("ops")
        assert [(p.name, p.user_id, p.level, p.schedule) for p in people] == [
            ("Ann", "UANN", 1, "Primary"), ("Ben", None, 2, None)]
        assert await oncall.resolve("ops") == ["UANN"]
        calls = len(pd.calls)
        await oncall.on_call("ops")
        assert len(pd.calls) == calls, "cached"
        assert await oncall.on_call("not configured") == []
    finally:
        await oncall.close()


async def test_events_api_dedup_key_makes_one_incident(pd):
    oncall = adapter(pd)
    try:
        assert await oncall.page("ops", request()) == "warroom-inc-1-service-ops"
        assert await oncall.page("ops", request()) == "warroom-inc-1-service-ops"
        assert len(pd.events) == 2 and len(pd.incidents) == 1
        (incident,) = pd.incidents.values()
        assert incident.alerts == 2 and incident.assignees == [next(iter(pd.users))]
    finally:
        await oncall.close()


async def test_events_api_validation(pd):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{pd.events_url}/v2/enqueue", json={"routing_key": "short", "event_action": "trigger"}) as resp:
            assert resp.status == 400 and (await resp.json())["status"] == "invalid event"
        event = {"routing_key": KEY, "event_action": "trigger", "payload": {"summary": "x", "source": "y"}}
        async with http.post(f"{pd.events_url}/v2/enqueue", json=event) as resp:
            assert resp.status == 400 and "'payload.severity' is missing or blank" in (await resp.json())["errors"]


async def test_rest_incident_key_is_refused_while_open_and_the_adapter_counts_it_as_paged(pd):
    oncall = adapter(pd)
    try:
        first = await oncall.page("web", request("warroom-inc-1-service-web"))
        assert first in pd.incidents and pd.incidents[first].created_by == "bot@example.com"
        assert await oncall.page("web", request("warroom-inc-1-service-web")) == "warroom-inc-1-service-web"
        assert len(pd.incidents) == 1
        ref = await oncall.page_person("UANN", "ann@example.com", request("warroom-inc-1-person-uann"))
        assert pd.incidents[ref].assignees == [u.id for u in pd.users.values() if u.email == "ann@example.com"]
    finally:
        await oncall.close()


async def test_429_is_retried_once_after_retry_after_then_a_clear_error(pd):
    oncall = adapter(pd)
    try:
        pd.fail("enqueue", 429, retry_after=1)
        started = time.monotonic()
        await oncall.page("ops", request())
        assert time.monotonic() - started >= 0.9 and len(pd.incidents) == 1
        pd.fail("service", 500, times=2)
        with pytest.raises(PortError, match="HTTP 500"):
            await oncall.on_call("web")
    finally:
        await oncall.close()


async def test_bad_token_and_slow_pager_are_port_errors(pd):
    oncall = adapter(pd, token="wrong", timeout=0.3)
    try:
        with pytest.raises(PortError, match="HTTP 401: Authentication required"):
            await oncall.on_call("ops")
        pd.latency = 0.5
        with pytest.raises(PortError, match="did not answer"):
            await oncall.page("ops", request())
    finally:
        await oncall.close()
