"""Detail."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.contacts import ensure_contact
from domain.timeline import record_event
from storage.command_models import IncidentDetail


async def incident_detail(session: AsyncSession, incident_id: int) -> IncidentDetail:
    """The incident's detail row, created empty when missing."""
    detail = (await session.execute(select(IncidentDetail).where(col(IncidentDetail.incident_id) == incident_id))).scalar_one_or_none()
    if detail is None:
        detail = IncidentDetail(incident_id=incident_id, notify_user_ids=[], notify_emails=[])
        session.add(detail)
        await session.flush()
    return detail


EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def parse_emails(text: str) -> tuple[list[str], list[str]]:
    """(valid emails, invalid entries) from comma/space separated text."""
    items = [x for x in re.split(r"[\s,;]+", text or "") if x]
    good = list(dict.fromkeys(x.lower() for x in items if EMAIL.match(x)))
    return good, [x for x in items if not EMAIL.match(x)]


async def notifications_group(session: AsyncSession, incident_id: int) -> tuple[list[str], list[str]]:
    detail = await incident_detail(session, incident_id)
    return list(detail.notify_user_ids or []), list(detail.notify_emails or [])


async def set_notifications_group(session: AsyncSession, incident_id: int, user_ids: list[str], emails: list[str],
                                  actor_user_id: str) -> None:
    """Store who receives stakeholder updates; commits."""
    detail = await incident_detail(session, incident_id)
    detail.notify_user_ids, detail.notify_emails = list(user_ids), list(emails)
    actor = await ensure_contact(session, actor_user_id)
    await record_event(session, incident_id, f"Notifications group updated: {len(user_ids)} people, "
                       f"{len(emails)} emails", author_id=actor.id)
    await session.commit()
