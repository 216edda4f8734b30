"""Incident set-up against recording ports: what Slack is asked, what is stored, how it resumes."""

from __future__ import annotations

import dataclasses
import time

from sqlalchemy import select, update

from domain.core.inbox import Arrival
from domain.core.ports import PortError
from domain.incidents.notices import IncidentReported, IncidentSummary, SetupDelayed
from domain.incidents.service import SETUP_HEARTBEAT, ReportIncidentForm, report_incident
from domain.response.intake import REPORT, process_report
from domain.response.setup import setup_incident
from storage.inbox_models import InboxItem
from storage.models import Event, Incident, IncidentPriority, IncidentSeverity, IncidentType, Project
from storage.types import utcnow

REPORTER = "U0REPORTER"


def form(**overrides: object) -> ReportIncidentForm:
    values: dict = dict(project="default", title="Checkout is down", description="500s on /pay",
                        incident_type="", priority="", restricted=False)
    values.update(overrides)
    return ReportIncidentForm(**values)


async def reported(deps, key: str = "V1", **overrides: object) -> Incident:
    async with deps.sessions() as session:
        reported = await report_incident(session, form(**overrides), reporter_user_id=REPORTER,
                                         reporter_name="Rita", idempotency_key=key, config=deps.config)
        await session.commit()
        assert reported.created
        return reported.incident


async def test_setup_opens_a_channel_and_says_so_once(deps, conversation):
    incident = await reported(deps, origin_channel_id="C0ORIGIN")
    ready = await setup_incident(deps, incident.id)

    assert ready.setup_state == "ready"
    [created] = conversation.called("create_channel")
    assert created["name"].startswith(f"inc-{incident.number}-checkout-is-down") and created["private"] is False
    assert conversation.called("invite")[0]["user_ids"] == [REPORTER]
    [topic] = conversation.called("set_topic")
    assert incident.name in topic["topic"]
    [summary] = conversation.posted(IncidentSummary)
    assert summary["channel_id"] == ready.channel_id
    assert conversation.called("pin")
    [confirmation] = conversation.posted(IncidentReported)
    assert (confirmation["channel_id"], confirmation["user_id"]) == ("C0ORIGIN", REPORTER)
    assert confirmation["notice"].facts.channel_id == ready.channel_id


async def test_restricted_incident_gets_a_private_channel(deps, conversation):
    incident = await reported(deps, restricted=True)
    await setup_incident(deps, incident.id)
    [created] = conversation.called("create_channel")
    assert created["private"] is True


async def test_a_taken_name_gets_the_next_free_one(deps, conversation):
    incident = await reported(deps)
    conversation.add_channel(f"inc-{incident.number}-checkout-is-down")  # someone made it by hand
    ready = await setup_incident(deps, incident.id)
    assert ready.channel_name == f"inc-{incident.number}-checkout-is-down-2"


async def test_a_failed_step_is_recorded_told_and_resumed_without_a_second_channel(deps, conversation):
    incident = await reported(deps)
    conversation.fail["set_topic"] = PortError("ratelimited")

    failed = await setup_incident(deps, incident.id)
    assert failed.setup_state == "channel_created" and "ratelimited" in failed.setup_error
    [delayed] = conversation.posted(SetupDelayed)
    assert delayed["notice"].incident_name == incident.name

    ready = await setup_incident(deps, incident.id)
    assert ready.setup_state == "ready" and ready.channel_id == failed.channel_id
    assert len(conversation.called("create_channel")) == 1
    async with deps.sessions() as session:
        created = (await session.execute(select(Event).where(Event.incident_id == incident.id,
                                                             Event.description.like("%channel%created%")))).all()
    assert len(created) == 1


async def test_the_same_submission_twice_stores_one_incident(deps):
    first = await reported(deps, key="V-same")
    async with deps.sessions() as session:
        again = await report_incident(session, form(), reporter_user_id=REPORTER, reporter_name="Rita",
                                      idempotency_key="V-same", config=deps.config)
    assert not again.created and again.incident.id == first.id


async def _reported_with_claim(deps, key: str):
    async with deps.sessions() as session:
        reported = await report_incident(session, form(), reporter_user_id=REPORTER, reporter_name="Rita",
                                         idempotency_key=key, config=deps.config, setup_holder=deps.holder)
        await session.commit()
    return reported


async def test_a_report_stored_with_its_set_up_claimed_is_set_up_once_from_what_was_stored(deps, conversation):
    reported = await _reported_with_claim(deps, "V-claimed")
    assert reported.incident.setup_attempts == 1 and reported.incident.setup_holder == deps.holder
    ready = await setup_incident(deps, reported.incident.id, reported=reported)
    assert ready.setup_state == "ready"
    [created] = conversation.called("create_channel")
    assert created["name"] == reported.incident.setup_channel_name, "the name stored with the claim is the one asked for"
    async with deps.sessions() as session:
        row = await session.get(Incident, reported.incident.id)
        assert (row.setup_attempts, row.setup_state, row.channel_id) == (1, "ready", ready.channel_id)
    assert await setup_incident(deps, reported.incident.id, reported=reported) is not None
    assert len(conversation.called("create_channel")) == 1, "a second call finds it ready"


async def test_a_claim_taken_over_while_the_set_up_waited_is_left_to_its_new_holder(deps, conversation):
    reported = await _reported_with_claim(deps, "V-waited")
    async with deps.sessions() as session:  # another replica took the lease over meanwhile
        row = await session.get(Incident, reported.incident.id)
        row.setup_holder, row.setup_attempts = "other-replica#1", 2
        await session.commit()
    waited = dataclasses.replace(reported, claimed_at=time.monotonic() - SETUP_HEARTBEAT.total_seconds())
    await setup_incident(deps, reported.incident.id, reported=waited)
    assert conversation.called("create_channel") == [], "not a second set-up beside the new holder's"


async def _stored_names(deps, incident_id: int) -> tuple[str, str, str, str, str]:
    async with deps.sessions() as session:
        row = (await session.execute(
            select(Project.name, IncidentType.name, IncidentPriority.name, IncidentSeverity.name, Incident.visibility)
            .join(Project, Project.id == Incident.project_id).join(IncidentType, IncidentType.id == Incident.incident_type_id)
            .join(IncidentPriority, IncidentPriority.id == Incident.incident_priority_id)
            .join(IncidentSeverity, IncidentSeverity.id == Incident.incident_severity_id)
            .where(Incident.id == incident_id))).one()
    return tuple(row)


async def test_a_report_keeps_what_it_names_and_falls_back_to_the_defaults_for_what_is_gone(deps):
    named = await reported(deps, key="V-named", incident_type="Security", priority="High", severity="Undetermined")
    assert await _stored_names(deps, named.id) == ("default", "Security", "High", "Undetermined", "Restricted"), \
        "a Restricted type makes a Restricted incident"
    async with deps.sessions() as session:  # the config changed while the modal was open
        await session.execute(update(IncidentType).where(IncidentType.name == "Security").values(enabled=False))
        await session.commit()
    gone = await reported(deps, key="V-gone", project="retired", incident_type="Security", priority="Urgent")
    assert await _stored_names(deps, gone.id) == ("default", "Reliability", "Low", "Undetermined", "Open"), \
        "the defaults rather than a lost report"


async def test_a_report_this_process_stored_is_not_processed_twice_from_memory(deps, conversation):
    arrival = Arrival(REPORT, "V-twice", REPORTER, "Rita", dataclasses.asdict(form()))
    assert await deps.inbox.accept(arrival)
    async with deps.sessions() as session:  # processed meanwhile (say, by a replay elsewhere)
        await session.execute(update(InboxItem).where(InboxItem.key == "V-twice").values(processed_at=utcnow()))
        await session.commit()
    await process_report(deps, "V-twice", arrival)
    async with deps.sessions() as session:
        assert (await session.execute(select(Incident))).first() is None
    assert conversation.called("create_channel") == []
