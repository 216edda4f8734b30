"""Constraints the domain relies on: idempotency keys, dedupe keys, UTC datetimes, foreign keys."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.models import (
    Event,
    Incident,
    IncidentPriority,
    IncidentSeverity,
    IncidentType,
    IndividualContact,
    Project,
)
from storage.types import utcnow


async def _incident_refs(session) -> dict[str, int]:
    project = Project(name="default", default=True)
    session.add(project)
    await session.flush()
    rows = {
        "incident_type_id": IncidentType(project_id=project.id, name="Reliability", default=True),
        "incident_priority_id": IncidentPriority(project_id=project.id, name="Low", default=True),
        "incident_severity_id": IncidentSeverity(project_id=project.id, name="Minor", default=True),
        "reporter_id": IndividualContact(slack_user_id="U1", name="Ann"),
    }
    session.add_all(rows.values())
    await session.flush()
    return {"project_id": project.id} | {k: v.id for k, v in rows.items()}


def _incident(refs: dict[str, int], number: int, **kw) -> Incident:
    return Incident(number=number, name=f"INC-{number}", title="Checkout down", **refs, **kw)


async def test_idempotency_key_is_unique(session):
    refs = await _incident_refs(session)
    session.add(_incident(refs, 1, idempotency_key="V123"))
    await session.commit()
    session.add(_incident(refs, 2, idempotency_key="V123"))
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()
    session.add_all([_incident(refs, 3), _incident(refs, 4)])  # NULL keys do not clash
    await session.commit()


async def test_dedupe_key_is_unique_and_savepoint_recovers(session):
    refs = await _incident_refs(session)
    incident = _incident(refs, 1)
    session.add(incident)
    await session.flush()
    session.add(Event(incident_id=incident.id, source="slack", description="a", dedupe_key="C1:1700000000.0001"))
    await session.flush()
    with pytest.raises(IntegrityError):
        async with session.begin_nested():  # SAVEPOINT: the outer transaction survives
            session.add(Event(incident_id=incident.id, source="slack", description="b", dedupe_key="C1:1700000000.0001"))
    await session.commit()
    events = (await session.execute(select(Event))).scalars().all()
    assert [e.description for e in events] == ["a"]


async def test_datetimes_are_aware_utc(session_factory):
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    async with session_factory() as session:
        session.add(IndividualContact(slack_user_id="U1", created_at=when))
        await session.commit()
    async with session_factory() as session:
        contact = (await session.execute(select(IndividualContact))).scalar_one()
    assert contact.created_at == when
    assert contact.created_at.utcoffset() == timedelta(0)
    assert contact.updated_at.tzinfo is not None and contact.updated_at <= utcnow()


async def test_naive_datetimes_are_refused(session):
    session.add(IndividualContact(slack_user_id="U1", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        await session.flush()


async def test_foreign_keys_are_enforced(session):
    session.add(IncidentType(project_id=999, name="Orphan"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_json_details_round_trip(session):
    refs = await _incident_refs(session)
    incident = _incident(refs, 1)
    session.add(incident)
    await session.flush()
    session.add(Event(incident_id=incident.id, source="x", description="d", details={"ts": "1.2", "n": [1, 2]}))
    await session.commit()
    event = (await session.execute(select(Event))).scalar_one()
    assert event.details == {"ts": "1.2", "n": [1, 2]}
