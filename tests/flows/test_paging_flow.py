"""Pages and stakeholder emails against recording ports: recorded before the call, sent once, and a
process killed after the pager or mail server acted sends the same page (same dedup key) or the same
email (same Message-ID) again on resume, never a different one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from domain.config.email import EmailConfig
from domain.config.schema import WarroomConfig
from domain.core.ports import PortError
from domain.incidents.detail import set_notifications_group
from domain.response.paging import page_person, resume_pages, send_page
from domain.response.setup import setup_incident
from domain.response.stakeholders import email_status_change, resume_emails
from domain.timeline import record_event
from storage.models import Incident
from storage.paging_models import OncallPage, StakeholderEmail
from storage.types import utcnow
from tests.fakes import Killed, RecordingEmail
from tests.flows.test_setup_flow import REPORTER, reported


@pytest.fixture
def config() -> WarroomConfig:
    return WarroomConfig(email=EmailConfig(from_address="warroom@example.com"))


@pytest.fixture
def mail(deps) -> RecordingEmail:
    deps.ports.email = RecordingEmail()
    return deps.ports.email


async def expire_leases(deps, table) -> None:
    async with deps.sessions() as session:
        await session.execute(update(table).values(claimed_until=utcnow() - timedelta(seconds=1),
                                                   next_attempt_at=None))
        await session.commit()


async def test_killed_after_the_pager_acted_resends_the_same_dedup_key(deps, oncall):
    incident = await setup_incident(deps, (await reported(deps)).id)
    oncall.crash_after_page = True
    async with deps.sessions() as session:
        row = OncallPage(incident_id=incident.id, dedup_key="warroom-inc-1-service-db", target_kind="service",
                              target="db", reason="the db on-call")
        session.add(row)
        await session.commit()
        page_id = row.id
    with pytest.raises(Killed):
        await send_page(deps, page_id)
    assert await resume_pages(deps) == 0, "held by the dead attempt until its lease ends"
    await expire_leases(deps, OncallPage)
    assert await resume_pages(deps) == 1
    assert [r.dedup_key for r in oncall.requests] == ["warroom-inc-1-service-db"] * 2  # the pager folds them
    assert await resume_pages(deps) == 0


async def test_a_failing_pager_is_retried_until_the_page_goes_out_once(deps, oncall, conversation):
    incident = await setup_incident(deps, (await reported(deps)).id)
    oncall.fail = [PortError("pagerduty_503", "down")]
    await page_person(deps, incident.id, REPORTER, "rita@example.com", reason="the commander, Rita")
    async with deps.sessions() as session:
        (row,) = (await session.execute(select(OncallPage))).scalars()
    assert row.sent_at is None and row.error == "down" and row.next_attempt_at is not None
    assert oncall.pages == []
    await expire_leases(deps, OncallPage)
    await resume_pages(deps)
    await page_person(deps, incident.id, REPORTER, "rita@example.com", reason="the commander, Rita")
    assert [p for p in oncall.pages if p[0] == "person"] == [("person", REPORTER, incident.name)]


async def test_killed_after_the_mail_server_accepted_resends_the_same_message_id(deps, mail):
    incident = await setup_incident(deps, (await reported(deps)).id)
    async with deps.sessions() as session:
        await set_notifications_group(session, incident.id, [], ["ceo@example.com"], REPORTER)
        row = await session.get(Incident, incident.id)
        row.status = "Stable"
        await record_event(session, incident.id, "Status changed", details={"field": "Status", "new": "Stable"})
        await session.commit()
    mail.crash_after_send = True
    with pytest.raises(Killed):
        await email_status_change(deps, incident.id, "Active")
    await expire_leases(deps, StakeholderEmail)
    assert await resume_emails(deps) == 1
    first, again = mail.sent
    assert first.message_id == again.message_id and first.to == again.to == "ceo@example.com"
    assert await email_status_change(deps, incident.id, "Active") == 0, "the same change queues nothing new"
    assert await resume_emails(deps) == 0 and len(mail.sent) == 2
