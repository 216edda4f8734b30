"""Case tickets through the Slack and Jira emulators: a case type with `ticket: true` gives each case one
Jira ticket, assigned to the case's assignee, shown on the card and kept in step; others get none."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from domain.config.loader import check_config_text
from domain.config.schema import WarroomConfig
from domain.config.tickets import TicketsConfig
from jobs import resume_setups
from storage.ticket_models import CaseTicket
from tests.e2e.signal_helpers import alert, cases, store
from tests.e2e.test_cases import World, block, case_events, case_row, new_view, open_case
from tests.e2e.test_tickets import TOKEN_ENV, jira  # noqa: F401  (fixture)


@pytest.fixture
async def world(slack, people, db_url, jira, monkeypatch):  # noqa: F811
    """#security gets Security triage cards (ticketed, carol on call); Reliability triage has no tickets."""
    monkeypatch.setenv(TOKEN_ENV, jira.token)
    carol = slack.add_user("carol", real_name="Carol Oncall", email="carol@example.com")
    security = slack.add_channel("security", members=[people.alice, people.bob], bot_member=True)
    tickets = TicketsConfig(server=jira.url, user_email=jira.email, api_token_env=TOKEN_ENV, project_key="INC",
                            priorities={"Low": "Low", "High": "Highest"}, labels=["warroom"], timeout=5)
    config = WarroomConfig.model_validate({
        "oncall": {"schedules": {"secops": [carol], "sre": [people.bob]}},
        "cases": {"types": [
            {"name": "Security triage", "default": True, "conversation_target": security, "oncall_service": "secops",
             "ticket": True, "ticket_issue_type": "Bug"},
            {"name": "Reliability triage", "oncall_service": "sre"},
        ]},
        "signals": {"card_refresh_seconds": 0.3, "card_edits_per_minute": 600, "definitions": [
            {"name": "Unusual login", "external_id": "login-1", "case_type": "Security triage",
             "case_priority": "High", "conversation_target": security}]},
        "tickets": tickets.model_dump(),
    })
    async with running_warroom(slack, db_url, config) as warroom:
        yield World(slack, people, warroom, security, carol)


async def ticket_of(w, case_id: int) -> CaseTicket:
    async def done():
        async with w.warroom.deps.sessions() as session:
            row = (await session.execute(select(CaseTicket).where(CaseTicket.case_id == case_id))).scalar_one_or_none()
        return row if row is not None and row.linked and row.claimed_until is None else None

    return await w.slack.wait_for(done, timeout=10)


async def test_a_case_gets_one_ticket_assigned_shown_and_kept_in_step(world, jira, capsys):  # noqa: F811
    w, slack, people = world, world.slack, world.people
    carol = jira.add_user("carol@example.com", "Carol Oncall")
    bob = jira.add_user("bob@example.com", "Bob Sec")
    card = await open_case(w, title="Odd logins from TOR", case_priority="High")
    case = await case_row(w)
    row = await ticket_of(w, case.id)
    (issue,) = jira.issues.values()
    assert (row.key, row.url) == (issue.key, f"{jira.url}/browse/{issue.key}")
    assert issue.fields["summary"] == f"{case.name}: Odd logins from TOR"
    assert issue.fields["issuetype"]["name"] == "Bug" and issue.labels == ["warroom", "warroom-case-1"]
    assert issue.assignee == carol and issue.status_name == "To Do", "a New case is not in progress yet"
    assert "Three accounts, one exit node" in issue.fields["description"]
    assert f"Case: {case.name}" in issue.fields["description"] and "Slack: " in issue.fields["description"]
    assert f"Jira ticket {issue.key} created" in await case_events(w, case.id)
    shown = slack.channels[w.security].find(card.ts)
    assert f"<{row.url}|{issue.key}>" in str(shown.blocks), "the card shows the ticket"

    # The first reply in the card's thread triages the case: its ticket is in progress.
    await slack.post_message(people.bob, w.security, "Looking at it", thread_ts=card.ts)
    await slack.wait_for(lambda: issue.status_name == "In Progress", timeout=10)

    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_edit", channel=w.security,
                                                                 message_ts=card.ts))
    await slack.submit_view(people.bob, view.id, {"title": "TOR logins: 3 accounts",
                                                  block(view, "assignee.")["block_id"]: people.bob})
    await slack.wait_for(lambda: issue.fields["summary"] == f"{case.name}: TOR logins: 3 accounts", timeout=10)
    assert issue.assignee == bob

    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_resolve", channel=w.security,
                                                                 message_ts=card.ts))
    assert block(view, "reason")
    await slack.submit_view(people.bob, view.id, {"reason": "False Positive", "resolution": "Pentest traffic"})
    await slack.wait_for(lambda: issue.status_name == "Done", timeout=10)
    assert "Resolution: False Positive: Pentest traffic" in issue.fields["description"]

    await slack.click(people.alice, "case_reopen", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: issue.status_name == "In Progress", timeout=10)
    assert issue.history == ["Start Progress", "Done", "Reopen", "Start Progress"]
    assert len(jira.issues) == 1

    # The operator sees it from the shell too.
    import argparse

    from bot.cli import cases_command

    args = argparse.Namespace(name=case.name, status=None, type=None, limit=50, json=True)
    capsys.readouterr()
    assert await cases_command(w.warroom.settings.database_url, args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ticket"] == {"key": issue.key, "url": row.url, "error": None}


async def test_a_change_made_while_the_ticket_is_being_written_is_written_right_after(world, jira):  # noqa: F811
    """Resolve, then reopen while Jira is still taking the resolve (the reopen's sync finds the claim held):
    the ticket ends In Progress at once, not at the resume job's next retry."""
    w, slack, people = world, world.slack, world.people
    card = await open_case(w, title="Odd logins from TOR", case_priority="High")
    case = await case_row(w)
    await ticket_of(w, case.id)
    (issue,) = jira.issues.values()
    await slack.post_message(people.bob, w.security, "Looking at it", thread_ts=card.ts)
    await slack.wait_for(lambda: issue.status_name == "In Progress", timeout=10)

    jira.latency = 0.4
    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_resolve", channel=w.security,
                                                                 message_ts=card.ts))
    await slack.submit_view(people.bob, view.id, {"reason": "False Positive", "resolution": "Pentest traffic"})
    await slack.wait_for(lambda: issue.history[-1:] == ["Done"] or None, timeout=10)  # resolve's sync is under way
    await slack.click(people.alice, "case_reopen", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: issue.history[-2:] == ["Reopen", "Start Progress"], timeout=10)
    assert issue.status_name == "In Progress" and len(jira.issues) == 1


async def test_types_without_tickets_get_none(world, jira):  # noqa: F811
    await open_case(world, title="Disk filling", case_type="Reliability triage")
    case = await case_row(world)
    assert await resume_setups.run(world.warroom.deps) == 0
    async with world.warroom.deps.sessions() as session:
        assert (await session.execute(select(CaseTicket).where(CaseTicket.case_id == case.id))).first() is None
    assert not jira.issues


async def test_signal_cases_get_their_ticket_from_the_resume_job_and_jira_outages_heal(world, jira):  # noqa: F811
    w = world
    jira.fail("*", 503, times=1000)
    await store(w.warroom.deps.sessions, alert(), "Unusual login")
    w.warroom.wake_signals()
    [case] = await w.slack.wait_for(lambda: _posted(w))
    assert not jira.issues, "the worker never calls Jira"
    await resume_setups.run(w.warroom.deps)
    async with w.warroom.deps.sessions() as session:
        row = (await session.execute(select(CaseTicket).where(CaseTicket.case_id == case.id))).scalar_one()
    assert row.key is None and row.attempts == 1 and "503" in (row.error or "")
    assert any("Jira ticket of CASE-1 delayed" in e for e in await case_events(w, case.id))

    jira.heal()
    async with w.warroom.deps.sessions() as session:  # as if the retry time had come
        (await session.execute(select(CaseTicket).where(CaseTicket.case_id == case.id))).scalar_one().next_attempt_at = None
        await session.commit()
    await resume_setups.run(w.warroom.deps)
    row = await ticket_of(w, case.id)
    (issue,) = jira.issues.values()
    assert row.key == issue.key and row.error is None and "Signal: Unusual login (1 alert(s))" in issue.fields["description"]
    assert issue.fields["priority"]["name"] == "Highest" and issue.assignee is None
    assert any("is in step again" in e for e in await case_events(w, case.id))
    await resume_setups.run(w.warroom.deps)
    assert len(jira.issues) == 1, "nothing due: no second ticket"


async def _posted(w):
    found = [c for c in await cases(w.warroom.deps.sessions) if c.card_ts]
    return found or None


def test_a_ticketed_case_type_needs_the_tickets_section():
    errors = check_config_text("cases: {types: [{name: T, default: true, ticket: true}]}")[1]
    assert [(e.path, e.message) for e in errors] == [
        ("cases.types[0].ticket", "needs a tickets: section (the Jira server, account and project)")]
    ok = check_config_text("cases: {types: [{name: T, default: true, ticket: true}]}\n"
                           "tickets: {server: 'https://x.atlassian.net', user_email: b@x.com, project_key: INC,"
                           " priorities: {Medium: Medium}}")[1]
    assert ok == [], "case priorities may be mapped"
