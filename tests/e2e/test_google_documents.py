"""Google Drive folder and incident document: made once the channel is ready, filled, shared, linked, kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from bot.preflight import StartupError
from domain.response.documents import ensure_document
from jobs import resume_setups
from storage.google_models import IncidentResource
from storage.report_models import IncidentReport
from storage.types import utcnow
from tests.e2e.google_helpers import KEY_ENV, google_config, google_emulator, linked, make_due, resource
from tests.e2e.incident_helpers import events, report
from tests.e2e.test_reports import open_modal
from tests.e2e.test_update_incident import open_update


@pytest.fixture
async def google(tmp_path, monkeypatch):
    async with google_emulator(tmp_path, monkeypatch) as emu:
        yield emu


@pytest.fixture
async def warroom(slack, people, db_url, google):
    async with running_warroom(slack, db_url, google_config(google, archive_on_close=False)) as runtime:
        yield runtime


def documents_in(google, folder_id: str):
    return [f for f in google.in_folder(folder_id) if f.mime_type.endswith("document")]


async def test_report_makes_one_folder_and_document_filled_shared_bookmarked_and_in_the_summary(
        slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general, incident_priority="High")
    row = await linked(slack, warroom, incident.id, "document")
    folder_row = await resource(warroom, incident.id, "folder")
    (folder,) = [f for f in google.in_folder(google.root.id) if f.mime_type.endswith("folder")]
    assert folder_row.external_id == folder.id and folder.name == f"{incident.name}: {incident.title}"
    (document,) = documents_in(google, folder.id)
    assert (row.external_id, row.url) == (document.id, document.link)
    assert document.app_properties == {"warroomKey": "warroom-inc-1-document"}
    channel_link = warroom.deps.ports.conversation.channel_link(incident.channel_id)
    assert document.text == (f"{incident.name}: {incident.title}\nDescription: {incident.description}\n"
                             f"Commander: Alice Ops (alice@example.com)\nPriority: High · Severity: "
                             f"{document.text.split('Severity: ')[1].split(chr(10))[0]}\nTicket: \n"
                             f"Channel: {channel_link}\n")
    assert "{{" not in document.text
    assert folder.shared_with == ["alice@example.com"] and row.shared_with == ["alice@example.com"]
    assert google.files[google.template.id].text.startswith("{{name}}"), "the template itself is untouched"

    channel = slack.channels[incident.channel_id]
    assert {"title": "Incident document", "link": document.link} in [
        {"title": b["title"], "link": b["link"]} for b in channel.bookmarks]
    summary = channel.find(incident.summary_message_ts)
    assert summary.edited and document.link in str(summary.blocks)
    assert {"Drive folder created", "Incident document created"} <= set(await events(warroom, incident.id))
    assert google.operations("token") == ["token"], "one token for every call"


async def test_retried_and_racing_attempts_still_make_one_folder_and_one_document(slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await linked(slack, warroom, incident.id, "document")
    await ensure_document(warroom.deps, incident.id)

    # A process died after Drive made both but before either id was stored; two processes resume it at once.
    async with warroom.deps.sessions() as session:
        for row in (await session.execute(select(IncidentResource))).scalars():
            row.external_id = row.url = None
            row.linked = row.kind == "folder"
        await session.commit()
    await asyncio.gather(ensure_document(warroom.deps, incident.id), resume_setups.run(warroom.deps))
    row = await linked(slack, warroom, incident.id, "document")
    folders = [f for f in google.in_folder(google.root.id) if f.mime_type.endswith("folder")]
    assert len(folders) == 1 and len(documents_in(google, folders[0].id)) == 1
    assert row.external_id == documents_in(google, folders[0].id)[0].id
    bookmarks = [b for b in slack.channels[incident.channel_id].bookmarks if b["title"] == "Incident document"]
    assert len(bookmarks) == 1


async def test_google_down_never_blocks_the_channel_and_the_document_comes_later(slack, people, google, warroom):
    google.fail("files.list", 503, times=1000)
    incident = await report(slack, warroom, people.alice, people.general)
    channel = slack.channels[incident.channel_id]

    async def failed():
        row = await resource(warroom, incident.id, "document")
        return row if row is not None and row.error and row.claimed_until is None else None

    row = await slack.wait_for(failed, timeout=15)
    assert row.external_id is None and row.attempts == 1 and "503" in row.error
    assert row.next_attempt_at > utcnow() and incident.setup_state == "ready"
    notices = lambda: [m for m in channel.messages if "incident document of" in m.text]  # noqa: E731
    await slack.wait_for(lambda: len(notices()) == 1)

    await resume_setups.run(warroom.deps)  # not due yet
    assert (await resource(warroom, incident.id, "document")).attempts == 1
    await make_due(warroom, incident.id, "document")
    await resume_setups.run(warroom.deps)  # still failing: no second notice
    row = await resource(warroom, incident.id, "document")
    assert row.attempts == 2 and row.next_attempt_at - utcnow() > timedelta(seconds=45) and len(notices()) == 1

    google.heal()
    await make_due(warroom, incident.id, "document")
    await resume_setups.run(warroom.deps)
    row = await linked(slack, warroom, incident.id, "document")
    assert row.error is None and row.attempts == 0 and len(documents_in(google, google.in_folder(google.root.id)[-1].id)) == 1
    assert len(notices()) == 2 and "is ready" in notices()[-1].text


async def test_a_429_with_retry_after_is_retried_within_the_step(slack, people, google, warroom):
    google.fail("files.copy", 429, retry_after=1)
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id, "document")
    assert row.attempts == 0 and row.error is None
    assert google.operations("files.copy") == ["files.copy", "files.copy"]
    assert not [m for m in slack.channels[incident.channel_id].messages if "could not be made" in m.text]


async def test_a_slow_google_does_not_delay_the_channel(slack, people, google, warroom):
    google.latency = 0.4
    incident = await report(slack, warroom, people.alice, people.general)
    assert not google.operations("files."), "the channel was ready before Drive was asked anything"
    await linked(slack, warroom, incident.id, "document", timeout=20)


async def test_executive_report_is_appended_to_the_document(slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id, "document")
    view = await open_modal(slack, people.alice, "/dispatch-report-executive", incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"current_status": "Checkout errors down to 2%",
                                                    "overview": "Bad deploy rolled back", "next_steps": "Post-mortem"})
    document = google.files[row.external_id]
    await slack.wait_for(lambda: "Executive report" in document.text, timeout=10)
    appended = document.text.split("Executive report", 1)[1]
    assert "(Alice Ops)" in appended and "Current status: Checkout errors down to 2%" in appended
    assert "Next steps: Post-mortem" in appended
    async def logged():
        return "Executive report added to the incident document" in await events(warroom, incident.id)

    await slack.wait_for(logged, timeout=5)


async def executive_report(warroom):
    async with warroom.deps.sessions() as session:
        return (await session.execute(select(IncidentReport).where(IncidentReport.kind == "executive"))).scalar_one()


async def set_report(warroom, **values):
    async with warroom.deps.sessions() as session:
        row = (await session.execute(select(IncidentReport).where(IncidentReport.kind == "executive"))).scalar_one()
        for name, value in values.items():
            setattr(row, name, value)
        await session.commit()


async def test_an_executive_report_google_fails_to_take_is_appended_once_by_the_resume_job(
        slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id, "document")
    document = google.files[row.external_id]
    google.fail("documents.batchUpdate", 503, times=1000)
    view = await open_modal(slack, people.alice, "/dispatch-report-executive", incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"current_status": "Degraded", "overview": "Bad deploy",
                                                    "next_steps": "Roll back"})

    async def failed():
        stored = await executive_report(warroom)
        return stored if stored.document_error and stored.document_claimed_until is None else None

    stored = await slack.wait_for(failed, timeout=15)
    assert stored.document_state == "pending" and stored.document_attempts == 1 and "503" in stored.document_error
    assert stored.document_next_attempt_at > utcnow()
    assert "Executive report" not in document.text
    await slack.wait_for(lambda: [m for m in slack.channels[incident.channel_id].messages if "Bad deploy" in str(m.blocks)])
    await resume_setups.run(warroom.deps)  # not due yet: Google is not asked again
    assert (await executive_report(warroom)).document_attempts == 1

    google.heal()
    await set_report(warroom, document_next_attempt_at=utcnow() - timedelta(seconds=1))
    await resume_setups.run(warroom.deps)
    stored = await executive_report(warroom)
    assert stored.document_state == "appended" and stored.document_error is None
    assert document.text.count(f"Executive report #{stored.id},") == 1 and "Next steps: Roll back" in document.text
    logged = [e for e in await events(warroom, incident.id) if e == "Executive report added to the incident document"]
    assert len(logged) == 1

    # A process died after Google appended it but before that was recorded: the retry finds it, appends nothing.
    await set_report(warroom, document_state="pending")
    appends = len(google.operations("documents.batchUpdate"))
    await resume_setups.run(warroom.deps)
    assert (await executive_report(warroom)).document_state == "appended"
    assert document.text.count("Executive report #") == 1
    assert len(google.operations("documents.batchUpdate")) == appends


async def test_stable_makes_the_review_document_bookmarked_announced_and_dmd_to_the_commander(
        slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await linked(slack, warroom, incident.id, "document")
    assert await resource(warroom, incident.id, "review") is None, "no review while Active"
    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Stable", "incident_severity": "Major"})
    row = await linked(slack, warroom, incident.id, "review")
    review = google.files[row.external_id]
    assert review.parents == [(await resource(warroom, incident.id, "folder")).external_id]
    assert review.text == f"Post-incident review of {incident.name} ({incident.title})\nCommander: Alice Ops\n"
    channel = slack.channels[incident.channel_id]
    assert any(b["title"] == "Post-incident review" and b["link"] == review.link for b in channel.bookmarks)
    await slack.wait_for(lambda: [m for m in channel.messages if "post-incident review document" in m.text])
    assert any(review.link in m.text for m in slack.dm_messages(people.alice))
    assert review.link in str(channel.find(incident.summary_message_ts).blocks)

    # Active again, then Stable again: still one review, announced once.
    for status in ("Active", "Stable"):
        view = await open_update(slack, people.alice, incident.channel_id)
        await slack.submit_view(people.alice, view.id, {"status": status, "incident_severity": "Major"})
        await slack.wait_for(lambda s=status: f"· {s} ·" in channel.topic)
    await warroom.registry.drain()
    assert len([f for f in google.files.values() if f.app_properties.get("warroomKey", "").endswith("-review")]) == 1
    assert len([m for m in channel.messages if "post-incident review document" in m.text]) == 1


async def test_people_who_join_get_access_and_other_domains_do_not(slack, people, google, db_url):
    carol = slack.add_user("carol", real_name="Carol Ext", email="carol@contractor.io")
    config = google_config(google)
    config.google.documents.share_domains = ["example.com"]
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        await linked(slack, warroom, incident.id, "document")
        folder = google.files[(await resource(warroom, incident.id, "folder")).external_id]
        await slack.join(people.bob, incident.channel_id)
        await slack.wait_for(lambda: folder.shared_with == ["alice@example.com", "bob@example.com"], timeout=10)
        await slack.join(carol, incident.channel_id)
        await warroom.registry.drain()
        await resume_setups.run(warroom.deps)
        assert folder.shared_with == ["alice@example.com", "bob@example.com"]
        assert all(p["role"] == "writer" for p in folder.permissions)


async def test_an_address_drive_refuses_does_not_stop_the_others(slack, people, google, warroom):
    google.fail("permissions.create", 403, times=1)  # e.g. outside the domain's sharing policy
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id, "document")
    assert row.error is None and row.shared_with == []
    await slack.join(people.bob, incident.channel_id)
    folder = google.files[(await resource(warroom, incident.id, "folder")).external_id]
    await slack.wait_for(lambda: folder.shared_with == ["alice@example.com", "bob@example.com"], timeout=10)


async def test_a_restricted_incident_folder_is_shared_with_its_participants_only(slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general, private=["restricted"])
    await linked(slack, warroom, incident.id, "document")
    folder = google.files[(await resource(warroom, incident.id, "folder")).external_id]
    assert folder.shared_with == ["alice@example.com"]
    assert all(p["type"] == "user" for p in folder.permissions), "never shared with a domain or anyone"


async def add_scribe(slack, commander, channel_id, person):
    view = await open_modal(slack, commander, "/dispatch-assign-role", channel_id)
    await slack.submit_view(commander, view.id, {"person": person, "role": "scribe"})


async def test_someone_who_leaves_a_restricted_incident_loses_drive_access(slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general, private=["restricted"])
    await linked(slack, warroom, incident.id, "document")
    folder = google.files[(await resource(warroom, incident.id, "folder")).external_id]
    await add_scribe(slack, people.alice, incident.channel_id, people.bob)
    await slack.wait_for(lambda: folder.shared_with == ["alice@example.com", "bob@example.com"], timeout=10)

    await slack.leave(people.bob, incident.channel_id)
    await slack.wait_for(lambda: folder.shared_with == ["alice@example.com"], timeout=10)
    await warroom.registry.drain()
    row = await resource(warroom, incident.id, "document")
    assert row.shared_with == ["alice@example.com"] and row.error is None and not row.needs_sync
    assert "Drive access of bob@example.com removed (no longer a participant)" in await events(warroom, incident.id)
    assert google.operations("permissions.delete") == ["permissions.delete"]

    # Asked back in: access again; a sync with nothing to do deletes nothing.
    await add_scribe(slack, people.alice, incident.channel_id, people.bob)
    await slack.wait_for(lambda: folder.shared_with == ["alice@example.com", "bob@example.com"], timeout=10)
    await ensure_document(warroom.deps, incident.id)
    await warroom.deps.ports.documents.unshare(folder.id, "nobody@example.com")  # never shared: nothing to do
    assert google.operations("permissions.delete") == ["permissions.delete"]


async def test_a_revocation_drive_fails_is_retried_by_the_resume_job_and_the_leave_is_not_held_up(
        slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general, private=["restricted"])
    await linked(slack, warroom, incident.id, "document")
    folder = google.files[(await resource(warroom, incident.id, "folder")).external_id]
    await add_scribe(slack, people.alice, incident.channel_id, people.bob)
    await slack.wait_for(lambda: "bob@example.com" in folder.shared_with, timeout=10)

    google.fail("permissions.delete", 503, times=1000)
    await slack.leave(people.bob, incident.channel_id)

    async def failed():
        row = await resource(warroom, incident.id, "document")
        return row if row.error and row.claimed_until is None else None

    row = await slack.wait_for(failed, timeout=15)
    assert "503" in row.error and row.needs_sync and row.shared_with == ["alice@example.com", "bob@example.com"]
    assert "Bob Sec left the incident; roles renounced" in await events(warroom, incident.id)
    assert "bob@example.com" in folder.shared_with
    channel = slack.channels[incident.channel_id]
    await slack.wait_for(lambda: [m for m in channel.messages if "who may open it could not be updated yet" in m.text])

    google.heal()
    await make_due(warroom, incident.id, "document")
    await resume_setups.run(warroom.deps)
    row = await resource(warroom, incident.id, "document")
    assert folder.shared_with == ["alice@example.com"] and row.shared_with == ["alice@example.com"]
    assert row.error is None and not row.needs_sync


async def test_made_restricted_takes_access_from_people_who_left_while_it_was_open(slack, people, google, warroom):
    incident = await report(slack, warroom, people.alice, people.general, private=["restricted"])  # a private channel
    await linked(slack, warroom, incident.id, "document")
    folder = google.files[(await resource(warroom, incident.id, "folder")).external_id]

    async def update(values):
        view = await open_update(slack, people.alice, incident.channel_id)
        await slack.submit_view(people.alice, view.id, values)
        await warroom.registry.drain()

    await update({"visibility": "Open"})
    await add_scribe(slack, people.alice, incident.channel_id, people.bob)
    await slack.wait_for(lambda: "bob@example.com" in folder.shared_with, timeout=10)
    await slack.leave(people.bob, incident.channel_id)
    await warroom.registry.drain()
    assert "bob@example.com" in folder.shared_with, "an open incident's folder stays shared with who left"

    await update({"visibility": "Restricted"})
    await slack.wait_for(lambda: folder.shared_with == ["alice@example.com"], timeout=10)


async def test_without_google_config_nothing_is_called(slack, people, db_url, google):
    async with running_warroom(slack, db_url) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        await resume_setups.run(warroom.deps)
        assert await resource(warroom, incident.id, "document") is None
    assert not google.calls


@pytest.mark.parametrize("key", ["unset", "missing", "not-a-key"])
async def test_a_missing_or_bad_key_file_stops_start_up_with_the_fix(slack, people, google, db_url, tmp_path,
                                                                      monkeypatch, key):
    if key == "unset":
        monkeypatch.delenv(KEY_ENV)
    elif key == "missing":
        monkeypatch.setenv(KEY_ENV, str(tmp_path / "nowhere.json"))
    else:
        (tmp_path / "bad.json").write_text('{"type": "authorized_user"}')
        monkeypatch.setenv(KEY_ENV, str(tmp_path / "bad.json"))
    with pytest.raises(StartupError) as caught:
        async with running_warroom(slack, db_url, google_config(google)):
            pass
    assert KEY_ENV in str(caught.value)
    assert {"unset": "is not set", "missing": "cannot read", "not-a-key": "not a service account key"}[key] in str(
        caught.value)
