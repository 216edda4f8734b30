"""Jira tickets of incidents, through the Slack and Jira emulators: created once the channel is ready,
linked in the channel, kept in step, exactly one per incident, and a Jira outage never blocks anything."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from domain.config.tickets import TicketsConfig
from domain.response.setup import setup_incident
from domain.response.tickets import ensure_ticket
from emulators.jiraemu import JiraEmulator
from jobs import resume_setups
from storage.ticket_models import IncidentTicket
from storage.types import utcnow
from tests.e2e.incident_helpers import events, report
from tests.e2e.test_roles_and_members import open_assign
from tests.e2e.test_update_incident import open_update

TOKEN_ENV = "WARROOM_TEST_JIRA_TOKEN"


@pytest.fixture
async def jira():
    emu = JiraEmulator(email="warroom-bot@example.com", token="jira-secret")
    await emu.start()
    yield emu
    await emu.stop()


def tickets_config(jira: JiraEmulator, **overrides) -> WarroomConfig:
    tickets = TicketsConfig(server=jira.url, user_email=jira.email, api_token_env=TOKEN_ENV, project_key="INC",
                            priorities={"Low": "Low", "High": "Highest", "Critical": "Highest"},
                            labels=["warroom", "incident"], timeout=5)
    return WarroomConfig(tickets=tickets, **overrides)


@pytest.fixture
async def warroom(slack, people, db_url, jira, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, jira.token)
    async with running_warroom(slack, db_url, tickets_config(jira, archive_on_close=False)) as runtime:
        yield runtime


async def ticket_row(warroom, incident_id: int) -> IncidentTicket | None:
    async with warroom.deps.sessions() as session:
        return (await session.execute(
            select(IncidentTicket).where(IncidentTicket.incident_id == incident_id))).scalar_one_or_none()


async def linked(slack, warroom, incident_id: int) -> IncidentTicket:
    async def done():
        row = await ticket_row(warroom, incident_id)
        return row if row is not None and row.linked and row.claimed_until is None else None

    return await slack.wait_for(done, timeout=10)


async def test_report_creates_one_ticket_with_the_incident_fields_and_links_it(slack, people, jira, warroom):
    incident = await report(slack, warroom, people.alice, people.general, incident_priority="High")
    row = await linked(slack, warroom, incident.id)
    (issue,) = jira.issues.values()
    assert (row.key, row.url) == (issue.key, f"{jira.url}/browse/{issue.key}")
    assert issue.fields["summary"] == f"{incident.name}: {incident.title}"
    assert issue.fields["priority"]["name"] == "Highest"
    assert issue.fields["issuetype"]["name"] == "Task"
    assert issue.labels == ["warroom", "incident", "warroom-inc-1"]
    description = issue.fields["description"]
    assert incident.description in description and "Commander: Alice Ops (alice@example.com)" in description
    assert f"Slack channel: {warroom.deps.ports.conversation.channel_link(incident.channel_id)}" in description
    assert issue.status_name == "In Progress" and issue.history == ["Start Progress"]  # Active

    channel = slack.channels[incident.channel_id]
    assert {"title": f"Ticket {issue.key}", "link": row.url} in [
        {"title": b["title"], "link": b["link"]} for b in channel.bookmarks]
    summary = channel.find(incident.summary_message_ts)
    assert summary is not None and summary.edited and row.url in str(summary.blocks)
    assert f"Jira ticket {issue.key} created" in await events(warroom, incident.id)
    assert any(path.endswith("/search/jql") for _, path in jira.calls), "looked up by label before creating"
    assert not any(path in ("/rest/api/2/search", "/rest/api/3/search") for _, path in jira.calls), "the retired search"


async def test_retried_setup_and_racing_processes_still_make_one_ticket(slack, people, jira, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await linked(slack, warroom, incident.id)
    await setup_incident(warroom.deps, incident.id)
    await ensure_ticket(warroom.deps, incident.id)
    assert len(jira.issues) == 1

    # A process died after Jira created the ticket but before the key was stored; two processes resume it at once.
    async with warroom.deps.sessions() as session:
        row = (await session.execute(select(IncidentTicket))).scalar_one()
        row.key = row.url = None
        row.linked = False
        await session.commit()
    await asyncio.gather(ensure_ticket(warroom.deps, incident.id), resume_setups.run(warroom.deps))
    row = await linked(slack, warroom, incident.id)
    assert len(jira.issues) == 1 and row.key == "INC-1"
    bookmarks = [b for b in slack.channels[incident.channel_id].bookmarks if b["title"].startswith("Ticket")]
    assert len(bookmarks) == 1


async def test_update_edits_and_transitions_the_ticket_through_close_and_reopen(slack, people, jira, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id)
    issue = jira.issues[row.key]
    channel = slack.channels[incident.channel_id]

    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"title": "Checkout API down", "incident_priority": "Critical",
                                                    "description": "All EU checkouts fail", "status": "Stable",
                                                    "incident_severity": "Major"})
    await slack.wait_for(lambda: issue.status_name == "Mitigated", timeout=10)
    assert issue.fields["summary"] == f"{incident.name}: Checkout API down"
    assert issue.fields["priority"]["name"] == "Highest"
    assert "All EU checkouts fail" in issue.fields["description"] and "Severity: Major" in issue.fields["description"]

    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Closed"})
    await slack.wait_for(lambda: issue.status_name == "Done", timeout=10)
    await slack.wait_for(lambda: "· Closed ·" in channel.topic)

    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Active"})
    await slack.wait_for(lambda: issue.status_name == "In Progress", timeout=10)
    assert issue.history == ["Start Progress", "Mitigate", "Done", "Reopen", "Start Progress"]
    assert len(jira.issues) == 1


async def test_commander_handoff_reaches_the_ticket(slack, people, jira, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id)
    issue = jira.issues[row.key]
    view = await open_assign(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"person": people.bob, "role": "commander"})
    await slack.wait_for(lambda: "Commander: Bob Sec (bob@example.com)" in issue.fields["description"], timeout=10)


async def test_jira_down_never_blocks_the_channel_and_the_ticket_comes_later(slack, people, jira, warroom):
    jira.fail("*", 503, times=1000)
    incident = await report(slack, warroom, people.alice, people.general)  # the channel is ready regardless
    channel = slack.channels[incident.channel_id]

    async def failed():
        row = await ticket_row(warroom, incident.id)
        return row if row is not None and row.error and row.claimed_until is None else None

    row = await slack.wait_for(failed, timeout=10)
    assert row.key is None and row.attempts == 1 and "503" in row.error
    assert row.next_attempt_at is not None and row.next_attempt_at > utcnow()
    assert incident.setup_state == "ready" and not jira.issues
    notices = lambda: [m for m in channel.messages if "Jira ticket" in m.text]  # noqa: E731
    await slack.wait_for(lambda: len(notices()) == 1)

    # Not due yet: the resume job leaves it alone; still failing when due: no second notice.
    await resume_setups.run(warroom.deps)
    assert (await ticket_row(warroom, incident.id)).attempts == 1
    await make_due(warroom, incident.id)
    await resume_setups.run(warroom.deps)
    row = await ticket_row(warroom, incident.id)
    assert row.attempts == 2 and row.next_attempt_at - utcnow() > timedelta(seconds=45)
    assert len(notices()) == 1

    jira.heal()
    await make_due(warroom, incident.id)
    await resume_setups.run(warroom.deps)
    row = await linked(slack, warroom, incident.id)
    assert len(jira.issues) == 1 and row.key == "INC-1" and row.error is None
    assert len(notices()) == 2 and "is ready" in notices()[-1].text
    assert (await ticket_row(warroom, incident.id)).attempts == 0


async def test_a_slow_jira_does_not_delay_the_channel(slack, people, jira, warroom):
    jira.latency = 0.5
    incident = await report(slack, warroom, people.alice, people.general)
    assert not jira.issues, "the channel was ready before Jira answered anything"
    await linked(slack, warroom, incident.id)
    assert len(jira.issues) == 1


async def test_restricted_incidents_get_no_ticket_unless_configured(slack, people, jira, warroom):
    incident = await report(slack, warroom, people.alice, people.general, private=["restricted"])
    await ensure_ticket(warroom.deps, incident.id)
    assert not jira.issues and await ticket_row(warroom, incident.id) is None


async def test_without_tickets_config_nothing_is_called(slack, people, db_url, jira):
    async with running_warroom(slack, db_url) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        await resume_setups.run(warroom.deps)
        assert await ticket_row(warroom, incident.id) is None
    assert not jira.calls


async def make_due(warroom, incident_id: int) -> None:
    """Let the retry time pass."""
    async with warroom.deps.sessions() as session:
        row = (await session.execute(select(IncidentTicket).where(IncidentTicket.incident_id == incident_id))).scalar_one()
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        await session.commit()
