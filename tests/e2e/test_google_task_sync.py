"""Task sync: document comments that assign someone become tasks; resolving either side resolves the other."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from domain.response.task_sync import sync_document_tasks
from jobs import document_tasks
from storage.google_models import DocumentCommentTask, IncidentResource
from storage.task_models import IncidentTask
from tests.e2e.google_helpers import google_config, google_emulator, linked
from tests.e2e.incident_helpers import report


@pytest.fixture
async def google(tmp_path, monkeypatch):
    async with google_emulator(tmp_path, monkeypatch) as emu:
        yield emu


@pytest.fixture
async def warroom(slack, people, db_url, google):
    async with running_warroom(slack, db_url, google_config(google, archive_on_close=False)) as runtime:
        yield runtime


async def tasks(warroom) -> list[IncidentTask]:
    async with warroom.deps.sessions() as session:
        return list((await session.execute(select(IncidentTask).order_by(IncidentTask.id))).scalars())


async def incident_with_document(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id, "document")
    await slack.join(people.bob, incident.channel_id)  # bob's email becomes known to warroom
    await warroom.registry.drain()
    return incident, row.external_id


async def test_an_assigning_comment_becomes_a_task_and_resolving_the_comment_resolves_it(slack, people, google, warroom):
    incident, doc = await incident_with_document(slack, people, warroom)
    plain = google.add_comment(doc, "Nice write-up", author="alice@example.com")
    comment = google.add_comment(doc, "+bob@example.com please rotate the leaked key", author="alice@example.com")
    assert await document_tasks.run(warroom.deps) == 1
    (task,) = await tasks(warroom)
    assert task.assignees == [people.bob] and task.creator_user_id == people.alice
    assert "please rotate the leaked key" in task.description
    assert f"https://docs.google.com/document/d/{doc}/edit?disco={comment.id}" in task.description
    channel = slack.channels[incident.channel_id]
    card = await slack.wait_for(lambda: [m for m in channel.messages if "rotate the leaked key" in m.text])
    assert plain.id not in task.description

    assert await document_tasks.run(warroom.deps) == 0, "nothing new: no second task"
    assert "startModifiedTime" in google.calls[-1][1], "read incrementally"

    google.touch(comment, resolved=True)
    assert await document_tasks.run(warroom.deps) == 1
    (task,) = await tasks(warroom)
    assert task.status == "Resolved"
    await slack.wait_for(lambda: channel.find(card[-1].ts).blocks[0]["accessory"]["text"]["text"] == "Re-open")

    google.touch(comment, resolved=False)  # re-opened in the document
    await document_tasks.run(warroom.deps)
    assert (await tasks(warroom))[0].status == "Open"


async def test_resolving_the_task_in_slack_resolves_the_comment_with_a_reply(slack, people, google, warroom):
    incident, doc = await incident_with_document(slack, people, warroom)
    comment = google.add_comment(doc, "+bob@example.com check the WAF rules", author="alice@example.com")
    await document_tasks.run(warroom.deps)
    (task,) = await tasks(warroom)
    channel = slack.channels[incident.channel_id]
    (card,) = await slack.wait_for(lambda: [m for m in channel.messages if "check the WAF rules" in m.text])
    await slack.click(people.bob, f"task_resolve_{task.id}", channel=incident.channel_id, message_ts=card.ts)
    await slack.wait_for(lambda: channel.find(card.ts).blocks[0]["accessory"]["text"]["text"] == "Re-open")

    assert await document_tasks.run(warroom.deps) == 1
    assert comment.resolved and comment.replies[-1]["action"] == "resolve"
    assert "Resolved in Slack" in comment.replies[-1]["content"]
    await document_tasks.run(warroom.deps)  # the comment's own change comes back: no loop, no second reply
    assert len(comment.replies) == 1 and (await tasks(warroom))[0].status == "Resolved"


async def test_two_processes_syncing_at_once_make_one_task_per_comment(slack, people, google, warroom):
    _, doc = await incident_with_document(slack, people, warroom)
    for i in range(5):
        google.add_comment(doc, f"+bob@example.com step {i}", author="alice@example.com")
    google.latency = 0.05
    await asyncio.gather(sync_document_tasks(warroom.deps), sync_document_tasks(warroom.deps))
    found = await tasks(warroom)
    assert sorted(t.description.split(" —")[0] for t in found) == [f"+bob@example.com step {i}" for i in range(5)]
    async with warroom.deps.sessions() as session:
        assert len((await session.execute(select(DocumentCommentTask))).scalars().all()) == 5


async def test_a_deleted_comment_resolves_its_task_and_unknown_people_are_named(slack, people, google, warroom):
    _, doc = await incident_with_document(slack, people, warroom)
    comment = google.add_comment(doc, "+dave@example.com +bob@example.com page the DBA", author="zed@elsewhere.org")
    await document_tasks.run(warroom.deps)
    (task,) = await tasks(warroom)
    assert task.assignees == [people.bob] and "(also assigned: dave@example.com)" in task.description
    assert task.creator_user_id == people.alice, "an unknown author: the commander creates it"
    google.touch(comment, deleted=True)
    await document_tasks.run(warroom.deps)
    assert (await tasks(warroom))[0].status == "Resolved"


async def test_drive_failing_leaves_the_cursor_and_the_next_run_catches_up(slack, people, google, warroom):
    _, doc = await incident_with_document(slack, people, warroom)
    google.add_comment(doc, "+bob@example.com restore backups", author="alice@example.com")
    google.fail("comments.list", 429, retry_after=30)
    assert await document_tasks.run(warroom.deps) == 0
    async with warroom.deps.sessions() as session:
        row = (await session.execute(select(IncidentResource).where(IncidentResource.kind == "document"))).scalar_one()
        assert row.synced_until is None
    assert await document_tasks.run(warroom.deps) == 1


async def test_task_sync_is_off_without_documents(slack, people, google, db_url):
    async with running_warroom(slack, db_url, google_config(google, documents=False)) as warroom:
        assert await document_tasks.run(warroom.deps) == 0
    assert not google.calls
