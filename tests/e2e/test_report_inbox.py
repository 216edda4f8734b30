"""A report is stored in one statement before its modal closes (the inbox) and becomes an incident right
after; a report stored by a process that then died becomes its incident when that replica restarts."""

from __future__ import annotations

import asyncio
import dataclasses

from sqlalchemy import event, select

from bot.harness import running_warroom
from domain.core.inbox import Arrival, Inbox
from domain.incidents.service import ReportIncidentForm
from domain.response.intake import REPORT
from jobs import resume_setups
from storage.db import create_engine, session_factory
from storage.inbox_models import InboxItem
from storage.models import Incident
from tests.e2e.test_report_incident import GOOD, open_report_modal, wait_ready


async def inbox_items(runtime) -> list[InboxItem]:
    async with runtime.deps.sessions() as session:
        return list((await session.execute(select(InboxItem).order_by(InboxItem.id))).scalars())


async def test_a_report_is_stored_as_it_came_then_becomes_its_incident(slack, people, warroom):
    _, view = await open_report_modal(slack, people.alice, people.general)
    submitted = await slack.submit_view(people.alice, view.id, GOOD)
    assert not (submitted.ack_payload or {}).get("errors") and slack.views[view.id].state == "closed"
    (incident,) = await wait_ready(warroom)
    (item,) = await inbox_items(warroom)
    assert (item.key, item.kind, item.user_id) == (view.id, REPORT, people.alice)
    assert item.payload["title"] == GOOD["title"] and item.processed_at is not None and item.error is None
    assert incident.idempotency_key == view.id and incident.title == GOOD["title"]
    assert await resume_setups.run(warroom.deps) == 0, "nothing is replayed once processed"


async def test_a_report_stored_before_a_crash_becomes_its_incident_at_restart(slack, people, db_url):
    form = ReportIncidentForm(project="default", title="Payments queue stuck", description="since 03:10",
                              incident_type="Default", priority="High", restricted=False)
    engine = create_engine(db_url)
    try:  # what a boot of replica bot-a had stored (its modal closed) when it was killed
        dead = Inbox(session_factory(engine), "bot-a#deadboot")
        assert await dead.accept(Arrival(REPORT, "V-CRASHED", people.alice, "alice", dataclasses.asdict(form)))
    finally:
        await engine.dispose()
    async with running_warroom(slack, db_url, warroom_instance="bot-b") as other:
        await asyncio.sleep(0.5)
        async with other.deps.sessions() as session:
            assert (await session.execute(select(Incident))).first() is None, "another replica waits for its lease"
    async with running_warroom(slack, db_url, warroom_instance="bot-a") as restarted:
        (incident,) = await wait_ready(restarted)
        assert incident.title == "Payments queue stuck" and incident.idempotency_key == "V-CRASHED"
        assert people.alice in slack.channels[incident.channel_id].members
        (item,) = await inbox_items(restarted)
        assert item.processed_at is not None
        assert await resume_setups.run(restarted.deps) == 0
        async with restarted.deps.sessions() as session:
            assert len((await session.execute(select(Incident))).all()) == 1


async def test_reports_arriving_together_share_one_statement_and_a_double_submit_is_stored_once(
        slack, people, warroom):
    inserts: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO INBOX_ITEM"):
            inserts.append(1)

    engine = warroom.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        inbox = Inbox(warroom.deps.sessions, warroom.deps.holder)
        arrivals = [Arrival("test", f"V{i}", people.alice, "alice", {"n": i}) for i in range(30)]
        results = await asyncio.gather(*(inbox.accept(a) for a in [*arrivals, arrivals[3]]))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert results[:30] == [True] * 30 and results[30] is False, "the same view twice is stored once"
    assert len(inserts) <= 3, f"{len(inserts)} statements for 31 arrivals"
    assert [i.key for i in await inbox_items(warroom)] == [f"V{i}" for i in range(30)]
    assert await inbox.accept(arrivals[0]) is False
