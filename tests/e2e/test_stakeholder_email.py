"""Stakeholder email through the Slack emulator and an in-process SMTP server (aiosmtpd): executive
reports and status changes reach the notifications group's addresses and email-only contacts, one
email per recipient with text and HTML parts and a link to the channel, sent once, retried after a
refusal, and never to anyone outside a restricted incident."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.harness import running_warroom
from domain.config.email import EmailConfig
from domain.config.schema import WarroomConfig
from domain.reports import EXECUTIVE, ReportPosted, latest_report
from domain.response.stakeholders import email_report
from jobs import resume_setups
from storage.paging_models import StakeholderEmail
from storage.types import utcnow
from tests.e2e.incident_helpers import events, report
from tests.e2e.smtp_helpers import Mailbox, start_smtp
from tests.e2e.test_reports import open_modal
from tests.e2e.test_roles_and_members import open_assign

EXEC = {"current_status": "Mitigated", "overview": "Checkout failed in EU <b>not bold</b>", "next_steps": "Postmortem Friday"}


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = start_smtp(box)
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


def email_config(people, **overrides) -> WarroomConfig:
    return WarroomConfig.model_validate({
        "archive_on_close": False,
        "email": EmailConfig(from_address="warroom@example.com", subject_prefix="[warroom]").model_dump(),
        "engagement": {"individuals": [{"name": "Vendor", "email": "support@vendor.example", "terms": ["checkout"]}]},
        **overrides,
    })


def smtp_settings(box: Mailbox, **overrides) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": box.port, "smtp_tls": "none",  # type: ignore[attr-defined]
            "smtp_user": box.user, "smtp_password": box.password, **overrides}


@pytest.fixture
async def warroom(slack, people, db_url, mailbox):
    async with running_warroom(slack, db_url, email_config(people), **smtp_settings(mailbox)) as runtime:
        yield runtime


async def set_group(slack, user, incident, emails: str, people_ids=()) -> None:
    view = await open_modal(slack, user, "/dispatch-notifications-group", incident.channel_id)
    await slack.submit_view(user, view.id, {"people": list(people_ids), "emails": emails})


async def write_executive(slack, user, incident) -> None:
    view = await open_modal(slack, user, "/dispatch-report-executive", incident.channel_id)
    await slack.submit_view(user, view.id, EXEC)


async def update_status(slack, user, incident, values) -> None:
    view = await open_modal(slack, user, "/dispatch-update-incident", incident.channel_id)
    await slack.submit_view(user, view.id, values)


async def rows(warroom) -> list[StakeholderEmail]:
    async with warroom.deps.sessions() as session:
        return list((await session.execute(select(StakeholderEmail).order_by(StakeholderEmail.id))).scalars())


async def test_executive_report_one_email_per_recipient_with_both_parts(slack, people, mailbox, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await set_group(slack, people.alice, incident, "ceo@example.com, Legal@Example.com")
    await write_executive(slack, people.alice, incident)
    await slack.wait_for(lambda: len(mailbox.received) == 3)
    link = warroom.deps.ports.conversation.channel_link(incident.channel_id)
    for address in ("ceo@example.com", "legal@example.com", "support@vendor.example"):
        (got,) = mailbox.to(address)
        msg = got.message
        assert msg["From"] == "warroom@example.com" and msg["To"] == address and got.mail_from == "warroom@example.com"
        assert msg["Subject"] == f"[warroom] {incident.name} executive report: {incident.title}"
        assert msg.get_content_type() == "multipart/alternative"
        text, html = got.part("plain"), got.part("html")
        assert "Postmortem Friday" in text and f"Incident channel: {link}" in text and "Commander: Alice Ops" in text
        assert f'<a href="{link}">' in html and "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold" not in html
        assert msg["Message-ID"].endswith("@example.com>")
    assert mailbox.logins, "logged in with SMTP_USER / SMTP_PASSWORD"

    async def all_sent():
        return all(r.sent_at is not None and r.error is None for r in await rows(warroom))

    await slack.wait_for(all_sent)

    async def logged():
        return "Emailed executive report to 3 stakeholders" in await events(warroom, incident.id)

    await slack.wait_for(logged)

    # Sent once: the same report emailed again (a retry) and the resume job send nothing more.
    async with warroom.deps.sessions() as session:
        stored = await latest_report(session, incident.id, EXECUTIVE)
    posted = ReportPosted(incident.name, incident.title, EXECUTIVE, stored.details, people.alice, stored.id)
    assert await email_report(warroom.deps, incident.id, posted) == 0
    await resume_setups.run(warroom.deps)
    await asyncio.sleep(0.1)
    assert len(mailbox.received) == 3 and len(await rows(warroom)) == 3


async def test_status_changes_are_emailed_stable_closed_reopened(slack, people, mailbox, warroom):
    incident = await report(slack, warroom, people.alice, people.general, title="Slow search")  # no engagement match
    await set_group(slack, people.alice, incident, "ceo@example.com")
    await update_status(slack, people.alice, incident, {"title": "Search is slow"})
    await update_status(slack, people.alice, incident, {"status": "Stable", "incident_severity": "Minor"})
    await slack.wait_for(lambda: len(mailbox.received) == 1)
    assert mailbox.received[0].message["Subject"] == f"[warroom] {incident.name} is now Stable: Search is slow"
    await update_status(slack, people.alice, incident, {"status": "Closed", "resolution": "Index rebuilt"})
    await slack.wait_for(lambda: len(mailbox.received) == 2)
    closed = mailbox.received[1]
    assert "is Closed" in closed.message["Subject"] and "Index rebuilt" in closed.part("plain")
    await update_status(slack, people.alice, incident, {"status": "Active"})
    await slack.wait_for(lambda: len(mailbox.received) == 3)
    assert "was reopened (Active)" in mailbox.received[2].message["Subject"]
    await asyncio.sleep(0.2)
    assert len(mailbox.received) == 3, "a title change is not emailed"


async def test_restricted_incident_never_emails_outsiders(slack, people, mailbox, warroom):
    incident = await report(slack, warroom, people.alice, people.general, title="Checkout key leak",
                            private=["restricted"])
    view = await open_assign(slack, people.alice, incident.channel_id)  # bob a participant: bob@example.com an insider
    await slack.submit_view(people.alice, view.id, {"person": people.bob, "role": "scribe"})
    await slack.wait_for(lambda: people.bob in slack.channels[incident.channel_id].members)
    await set_group(slack, people.alice, incident, "outsider@example.com bob@example.com")
    await write_executive(slack, people.alice, incident)
    await slack.wait_for(lambda: mailbox.to("bob@example.com"))
    await update_status(slack, people.alice, incident, {"status": "Stable", "incident_severity": "Minor"})
    await slack.wait_for(lambda: len(mailbox.to("bob@example.com")) == 2)
    await asyncio.sleep(0.2)
    assert not mailbox.to("outsider@example.com")
    assert not mailbox.to("support@vendor.example"), "engagement contacts are outsiders too"
    assert {r.recipient for r in await rows(warroom)} == {"bob@example.com"}


async def test_refused_email_is_recorded_and_retried_once_due(slack, people, mailbox, warroom):
    incident = await report(slack, warroom, people.alice, people.general, title="Slow search")
    await set_group(slack, people.alice, incident, "ceo@example.com")
    mailbox.refuse = 1
    await write_executive(slack, people.alice, incident)

    async def failed():
        found = await rows(warroom)
        return found if found and found[0].error else None

    (row,) = await slack.wait_for(failed)
    assert "451" in row.error and row.sent_at is None and row.attempts == 1 and not mailbox.received
    await resume_setups.run(warroom.deps)  # not due yet
    assert not mailbox.received
    async with warroom.deps.sessions() as session:
        await session.execute(update(StakeholderEmail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    await resume_setups.run(warroom.deps)
    assert len(mailbox.received) == 1 and (await rows(warroom))[0].sent_at is not None
    await resume_setups.run(warroom.deps)
    assert len(mailbox.received) == 1


async def test_wrong_smtp_password_is_recorded_not_lost(slack, people, db_url, mailbox):
    async with running_warroom(slack, db_url, email_config(people),
                               **smtp_settings(mailbox, smtp_password="wrong")) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Slow search")
        await set_group(slack, people.alice, incident, "ceo@example.com")
        await write_executive(slack, people.alice, incident)

        async def failed():
            found = await rows(warroom)
            return found if found and found[0].error else None

        (row,) = await slack.wait_for(failed)
        assert "535" in row.error and not mailbox.received


async def test_email_section_without_smtp_host_stops_start_up(slack, people, db_url):
    with pytest.raises(Exception, match="SMTP_HOST"):
        async with running_warroom(slack, db_url, email_config(people)):
            pass
