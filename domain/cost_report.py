"""The response cost of every incident and case, by model and by participant, for finance
(`python -m bot costs`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.case_models import Case
from storage.cost_models import CASE_SUBJECT, INCIDENT_SUBJECT, ParticipantCost, ResponseCost
from storage.models import Incident, IndividualContact


@dataclass
class ParticipantLine:
    user_id: str
    name: str
    hours: float
    amount: float
    activities: int


@dataclass
class ModelLine:
    model: str
    hours: float
    amount: float
    participants: list[ParticipantLine] = field(default_factory=list)


@dataclass
class SubjectCost:
    """One incident or case: its cost over every model (`amount`), then per model."""

    kind: str  # "incident" | "case"
    id: int
    name: str
    title: str
    status: str
    created_at: datetime
    amount: float = 0.0
    hours: float = 0.0
    models: list[ModelLine] = field(default_factory=list)


async def cost_report(session: AsyncSession, *, since: datetime | None = None) -> list[SubjectCost]:
    """Every incident and case created at or after `since` (None: all), oldest first, incidents then
    cases; those never costed have no models and cost 0."""
    incidents = select(Incident).order_by(col(Incident.created_at), col(Incident.id))
    cases = select(Case).order_by(col(Case.created_at), col(Case.id))
    if since is not None:
        incidents = incidents.where(col(Incident.created_at) >= since)
        cases = cases.where(col(Case.created_at) >= since)
    subjects = [SubjectCost(INCIDENT_SUBJECT, i.id, i.name, i.title, i.status, i.created_at)
                for i in (await session.execute(incidents)).scalars()]
    subjects += [SubjectCost(CASE_SUBJECT, c.id, c.name, c.title, c.status, c.created_at)
                 for c in (await session.execute(cases)).scalars()]
    by_key = {(s.kind, s.id): s for s in subjects}
    models: dict[tuple[str, int, str], ModelLine] = {}
    for row in (await session.execute(select(ResponseCost).order_by(col(ResponseCost.model)))).scalars():
        subject = by_key.get((row.subject, row.subject_id))
        if subject is None:
            continue
        line = ModelLine(row.model, row.hours, row.amount)
        subject.models.append(line)
        subject.amount += row.amount
        subject.hours += row.hours
        models[(row.subject, row.subject_id, row.model)] = line
    names = dict((await session.execute(select(col(IndividualContact.slack_user_id), col(IndividualContact.name)))).all())
    shares = (await session.execute(select(ParticipantCost)
                                    .order_by(col(ParticipantCost.amount).desc(), col(ParticipantCost.user_id)))).scalars()
    for share in shares:
        model = models.get((share.subject, share.subject_id, share.model))
        if model is not None:
            model.participants.append(ParticipantLine(share.user_id, names.get(share.user_id) or "", share.hours,
                                                      share.amount, share.activities))
    return subjects
