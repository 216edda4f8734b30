"""PagerDuty on-call and paging, through the Slack and PagerDuty emulators: engage-oncall shows who is
on call (REST on-calls), invites them and pages once (Events API v2 dedup key tied to the incident)
however often the form arrives; page_commander raises a REST incident assigned to the commander; a
PagerDuty outage is said clearly and the page retried until it goes out; lookups are cached."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.harness import running_warroom
from domain.config.paging import PagerDutyConfig, PagerDutyService
from domain.config.schema import WarroomConfig
from emulators.pagerdutyemu import PagerDutyEmulator
from jobs import resume_setups
from storage.case_models import CaseEvent
from storage.paging_models import OncallPage
from storage.types import utcnow
from tests.e2e.incident_helpers import ephemerals_for, events, report

TOKEN_ENV, ROUTING_ENV = "WARROOM_TEST_PD_TOKEN", "WARROOM_TEST_PD_DB_KEY"
ROUTING_KEY = "R" * 32


@dataclass
class Account:
    pd: PagerDutyEmulator
    carol: str  # Slack id of the db primary (also a PagerDuty user, same email)
    db: str  # PagerDuty service ids
    api: str
    alice_pd: str  # Alice's PagerDuty user id


@pytest.fixture
async def account(slack, people):
    pd = PagerDutyEmulator(token="pd-secret")
    await pd.start()
    carol = slack.add_user("carol", real_name="Carol DBA", email="carol@example.com")
    carol_pd = pd.add_user("Carol DBA", "carol@example.com")
    dave_pd = pd.add_user("Dave Backup", "dave@elsewhere.example")  # no Slack account
    alice_pd = pd.add_user("Alice Ops", "alice@example.com")
    pd.add_user("warroom bot", "warroom-bot@example.com")
    primary = pd.add_schedule("DB primary", [carol_pd])
    db_policy = pd.add_policy("DB", [[("schedule", primary)], [("user", dave_pd)]])
    api_policy = pd.add_policy("API", [[("user", alice_pd)]])
    db = pd.add_service("db", db_policy, routing_key=ROUTING_KEY)
    api = pd.add_service("api", api_policy)
    yield Account(pd, carol, db, api, alice_pd)
    await pd.stop()


def pd_config(account: Account, **overrides) -> WarroomConfig:
    pd = account.pd
    config = PagerDutyConfig(api_token_env=TOKEN_ENV, from_email="warroom-bot@example.com", api_url=pd.api_url,
                             events_url=pd.events_url, commander_service="api", timeout=2, cache_seconds=60,
                             services=[PagerDutyService(name="db", id=account.db, routing_key_env=ROUTING_ENV),
                                       PagerDutyService(name="api", id=account.api)])
    return WarroomConfig(pagerduty=config, archive_on_close=False, **overrides)


@pytest.fixture
async def warroom(slack, people, db_url, account, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "pd-secret")
    monkeypatch.setenv(ROUTING_ENV, ROUTING_KEY)
    async with running_warroom(slack, db_url, pd_config(account)) as runtime:
        yield runtime


async def open_engage(slack, user, channel):
    before = set(slack.views)
    await slack.slash_command(user, "/dispatch-engage-oncall", channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before], timeout=5))[-1]


async def pages(warroom) -> list[OncallPage]:
    async with warroom.deps.sessions() as session:
        return list((await session.execute(select(OncallPage).order_by(OncallPage.id))).scalars())


async def test_engage_shows_who_is_on_call_invites_and_pages_once(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_engage(slack, people.alice, incident.channel_id)
    shown = str(view.view["blocks"])
    assert f"<@{account.carol}> (level 1, DB primary)" in shown, "a PagerDuty user with a Slack account is mentioned"
    assert "Dave Backup (level 2)" in shown, "one without is named"
    assert [o["value"] for o in view.view["blocks"][-2]["element"]["options"]] == ["db", "api"]

    await slack.submit_view(people.alice, view.id, {"service": "db", "page": ["page"]})
    channel = slack.channels[incident.channel_id]
    await slack.wait_for(lambda: account.carol in channel.members)
    await slack.wait_for(lambda: pd.incidents)
    (pd_incident,) = pd.incidents.values()
    assert pd_incident.service_id == account.db and pd_incident.created_by == "events"
    assert pd_incident.incident_key == "warroom-inc-1-service-db"
    assert pd_incident.title == f"{incident.name}: {incident.title}"
    (event,) = pd.events
    link = warroom.deps.ports.conversation.channel_link(incident.channel_id)
    assert event.links == [{"href": link, "text": f"Slack channel of {incident.name}"}]
    assert event.payload["custom_details"]["channel"] == link

    async def paged():  # the page and the invitation run side by side
        found = await events(warroom, incident.id)
        return {"Paged the db on-call (warroom-inc-1-service-db)", "db on-call engaged: 1 people (paged)"} <= set(found)

    await slack.wait_for(paged)
    await slack.wait_for(lambda: any("engaged the db on-call and paged" in m.text for m in channel.messages))

    # Engaging and paging the same service again pages nobody twice and says so.
    view = await open_engage(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"service": "db", "page": ["page"]})
    said = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, incident.channel_id)
                                         if "already paged" in e["text"]])
    assert "warroom-inc-1-service-db" in said[-1]["text"]
    assert len(pd.events) == 1 and len(pd.incidents) == 1


async def test_double_click_and_redelivered_envelope_page_exactly_once(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_engage(slack, people.alice, incident.channel_id)
    first = await slack.submit_view(people.alice, view.id, {"service": "db", "page": ["page"]})
    envelope = slack.envelopes[first.envelope_id]
    # Slack redelivers the envelope (lost ack) while a second click's submission arrives as a new envelope.
    await asyncio.gather(slack.redeliver(first.envelope_id),
                         slack.send_envelope("interactive", envelope["payload"], accepts_response_payload=True))
    await warroom.registry.drain()
    await slack.wait_for(lambda: pd.incidents)
    await asyncio.sleep(0.3)  # a wrongly-started second page would show itself
    assert len(pd.incidents) == 1
    assert len([e for e in pd.events if e.action == "trigger"]) <= 1
    assert len(await pages(warroom)) == 1


async def test_pagerduty_500_is_said_once_and_the_page_retried(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_engage(slack, people.alice, incident.channel_id)
    pd.fail("enqueue", 500, times=2)  # the adapter retries once at once: both fail
    await slack.submit_view(people.alice, view.id, {"service": "db", "page": ["page"]})
    said = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, incident.channel_id)
                                         if "could not be sent" in e["text"]])
    assert "HTTP 500" in said[-1]["text"] and "retries it in about 30 s" in said[-1]["text"]
    assert not pd.incidents
    (row,) = await pages(warroom)
    assert row.sent_at is None and row.attempts == 1 and "HTTP 500" in row.error
    assert any(e.startswith("Page of the db on-call failed") for e in await events(warroom, incident.id))
    await slack.wait_for(lambda: account.carol in slack.channels[incident.channel_id].members)  # the page fails alone

    # Not due yet: the resume job leaves it; once due, it sends it, and the channel hears it went out.
    await resume_setups.run(warroom.deps)
    assert not pd.incidents
    async with warroom.deps.sessions() as session:
        await session.execute(update(OncallPage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    await resume_setups.run(warroom.deps)
    assert len(pd.incidents) == 1
    channel = slack.channels[incident.channel_id]
    await slack.wait_for(lambda: any("went out" in m.text for m in channel.messages))
    (row,) = await pages(warroom)
    assert row.sent_at is not None and row.reference == "warroom-inc-1-service-db"
    await resume_setups.run(warroom.deps)
    assert len(pd.incidents) == 1 and len(pd.events) == 1


async def test_rest_api_down_gives_a_clear_ephemeral_and_the_page_still_goes(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general)
    pd.fail("service", 503, times=6)  # the form looks up db and api, the submit db, each retried once
    view = await open_engage(slack, people.alice, incident.channel_id)
    assert "could not be looked up (PagerDuty answered service with HTTP 503" in str(view.view["blocks"])
    await slack.submit_view(people.alice, view.id, {"service": "db", "page": ["page"]})
    said = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, incident.channel_id)
                                         if "Could not find who is on call for db" in e["text"]])
    assert "Nobody was invited" in said[-1]["text"] and "Your page is recorded" in said[-1]["text"]
    await slack.wait_for(lambda: pd.incidents)  # the Events API is separate from the REST API
    assert account.carol not in slack.channels[incident.channel_id].members
    assert any(e.startswith("db on-call could not be looked up") for e in await events(warroom, incident.id))


async def test_on_call_lookups_are_cached(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general)
    for _ in range(2):
        view = await open_engage(slack, people.alice, incident.channel_id)
        await slack.submit_view(people.alice, view.id, {"service": "db"})
    await slack.wait_for(lambda: account.carol in slack.channels[incident.channel_id].members)
    assert len([c for c in pd.calls if c[1].startswith(f"/services/{account.db}")]) == 1
    assert len([c for c in pd.calls if c[1].startswith("/oncalls")]) == 2  # db and api, once each
    assert not pd.incidents, "no page unless asked"


async def test_slow_pagerduty_never_blocks_the_form(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general)
    pd.latency = 2.5  # beyond the form's 1.5 s budget (the trigger id lasts 3 s)
    view = await open_engage(slack, people.alice, incident.channel_id)
    assert "did not answer in time" in str(view.view["blocks"])
    pd.heal()


async def test_page_commander_raises_a_rest_incident_assigned_to_the_commander(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general, incident_priority="High")
    await slack.wait_for(lambda: pd.incidents)
    (pd_incident,) = pd.incidents.values()
    assert pd_incident.service_id == account.api and pd_incident.assignees == [account.alice_pd]
    assert pd_incident.created_by == "warroom-bot@example.com"
    assert pd_incident.incident_key == f"warroom-inc-1-person-{people.alice.lower()}"
    assert warroom.deps.ports.conversation.channel_link(incident.channel_id) in pd_incident.details

    async def on_timeline():
        found = await events(warroom, incident.id)
        return "Commander paged (High priority)" in found and f"Paged the commander, Alice Ops ({pd_incident.id})" in found

    await slack.wait_for(on_timeline)
    low = await report(slack, warroom, people.alice, people.general, title="Minor glitch")
    await asyncio.sleep(0.2)
    assert len(pd.incidents) == 1 and low.name not in str(await pages(warroom))


async def test_wrong_token_is_a_clear_message(slack, people, db_url, account, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    monkeypatch.setenv(ROUTING_ENV, ROUTING_KEY)
    async with running_warroom(slack, db_url, pd_config(account)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        view = await open_engage(slack, people.alice, incident.channel_id)
        assert "HTTP 401: Authentication required" in str(view.view["blocks"])


async def test_missing_token_stops_start_up(slack, people, db_url, account, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(ROUTING_ENV, ROUTING_KEY)
    with pytest.raises(Exception, match=TOKEN_ENV):
        async with running_warroom(slack, db_url, pd_config(account)):
            pass


async def test_a_restricted_incident_title_never_reaches_the_pager(slack, people, account, warroom):
    pd = account.pd
    incident = await report(slack, warroom, people.alice, people.general, title="Payroll key leaked",
                            incident_priority="High", private=["restricted"])
    await slack.wait_for(lambda: pd.incidents)
    (pd_incident,) = pd.incidents.values()
    assert pd_incident.title == f"{incident.name}: Restricted incident (details in Slack)"
    assert "Payroll" not in str(pd_incident) and "Payroll" not in str(pd.events)


async def test_case_assignee_from_pagerduty_and_a_card_even_when_it_is_down(slack, people, db_url, account,
                                                                             monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "pd-secret")
    monkeypatch.setenv(ROUTING_ENV, ROUTING_KEY)
    triage = slack.add_channel("sec-triage", members=[people.alice], bot_member=True)
    config = pd_config(account, cases={"types": [{"name": "Triage", "default": True, "conversation_target": triage,
                                                   "oncall_service": "db"}]})
    config.pagerduty.cache_seconds = 0  # every form asks PagerDuty
    async with running_warroom(slack, db_url, config):
        def card_for(title):
            return [m for m in slack.channels[triage].messages if title in m.text and not m.thread_ts]

        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-create-case", channel=people.general, text="Odd logins")
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        assignee = next(b for b in view.view["blocks"] if (b.get("block_id") or "").startswith("assignee."))
        assert assignee["element"]["initial_user"] == account.carol, "suggested from PagerDuty's on-call"

        account.pd.fail("*", 503, times=1000)
        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-create-case", channel=people.general, text="Disk alarms")
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        assignee = next(b for b in view.view["blocks"] if (b.get("block_id") or "").startswith("assignee."))
        assert "initial_user" not in assignee["element"], "PagerDuty down: the form opens without a suggestion"
        await slack.submit_view(people.alice, view.id, {"description": "Three hosts"})
        (card,) = await slack.wait_for(lambda: card_for("Disk alarms"))
        assert "_unassigned_" in str(card.blocks)


async def test_case_type_page_assignee_pages_the_assignee_once(slack, people, db_url, account, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "pd-secret")
    monkeypatch.setenv(ROUTING_ENV, ROUTING_KEY)
    pd = account.pd
    triage = slack.add_channel("sec-triage", members=[people.alice], bot_member=True)
    config = pd_config(account, cases={"types": [{"name": "Triage", "default": True, "conversation_target": triage,
                                                   "oncall_service": "db", "page_assignee": True}]})
    async with running_warroom(slack, db_url, config) as warroom:
        before = set(slack.views)
        await slack.slash_command(people.alice, "/dispatch-create-case", channel=people.general, text="Odd logins")
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        await slack.submit_view(people.alice, view.id, {"description": "Three accounts"})
        await slack.wait_for(lambda: pd.incidents)
        (paged,) = pd.incidents.values()
        carol_pd = next(u.id for u in pd.users.values() if u.email == "carol@example.com")
        assert paged.assignees == [carol_pd] and paged.service_id == account.api  # the commander_service
        assert paged.title == "CASE-1: Odd logins" and paged.incident_key == f"warroom-case-1-person-{account.carol.lower()}"
        card = next(m for m in slack.channels[triage].messages if m.text.startswith("CASE-1"))
        assert card.ts.replace(".", "") in paged.details, "links to the card"

        async def case_timeline():
            async with warroom.deps.sessions() as session:
                return list((await session.execute(select(CaseEvent.description).order_by(CaseEvent.id))).scalars())

        await slack.wait_for(lambda: case_timeline())
        found = await slack.wait_for(
            lambda: _has(case_timeline(), f"Paged the assignee of CASE-1 ({paged.id})"))
        assert f"Paged the assignee <@{account.carol}> (Triage cases)" in found
        await asyncio.sleep(0.2)
        assert len(pd.incidents) == 1, "once per case and assignee"

        # Reassigned with the card's Edit button: the new assignee is paged.
        before = set(slack.views)
        await slack.click(people.alice, "case_edit", channel=triage, message_ts=card.ts)
        view = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before]))[-1]
        assignee = next(b for b in view.view["blocks"] if (b.get("block_id") or "").startswith("assignee."))
        await slack.submit_view(people.alice, view.id, {assignee["block_id"]: people.alice})
        await slack.wait_for(lambda: len(pd.incidents) == 2)
        assert list(pd.incidents.values())[-1].assignees == [account.alice_pd]


async def _has(found, text):
    rows = await found
    return rows if text in rows else None
