"""Shared steps of command-center tests: report an incident as a person and wait for its channel."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Event, Incident, IndividualContact, Participant, ParticipantRole

REPORT = "/dispatch-report-incident"
GOOD = {"title": "Checkout API returns 502", "description": "30% of EU checkouts fail", "incident_priority": "Low"}


async def report(slack, warroom, user, channel, **values) -> Incident:
    """`user` reports an incident from `channel`; returns it once its channel is ready."""
    before = len([v for v in slack.views.values()])
    await slack.slash_command(user, REPORT, channel=channel)
    view = await slack.wait_for(lambda: len(slack.views) > before and slack.open_views(user))
    await slack.submit_view(user, view[-1].id, {**GOOD, **values})

    async def ready():
        async with warroom.deps.sessions() as session:
            rows = (await session.execute(select(Incident).order_by(Incident.id.desc()))).scalars().all()
        return rows[0] if rows and rows[0].setup_state == "ready" and rows[0].title == {**GOOD, **values}["title"] else None

    return await slack.wait_for(ready)


async def without_channel(warroom, incident_id: int) -> None:
    """Make the incident one whose set-up never created its channel (and gave up retrying)."""
    async with warroom.deps.sessions() as session:
        incident = await session.get(Incident, incident_id)
        incident.channel_id = incident.channel_name = None
        incident.setup_state, incident.setup_error, incident.setup_attempts = "failed", "simulated outage", 99
        await session.commit()


async def reload(warroom, incident_id: int) -> Incident:
    async with warroom.deps.sessions() as session:
        return await session.get(Incident, incident_id)


async def events(warroom, incident_id: int) -> list[str]:
    async with warroom.deps.sessions() as session:
        return list((await session.execute(
            select(Event.description).where(Event.incident_id == incident_id).order_by(Event.id))).scalars())


async def roles(warroom, incident_id: int, user_id: str, active: bool = True) -> list[str]:
    async with warroom.deps.sessions() as session:
        query = (select(ParticipantRole.role).join(Participant, Participant.id == ParticipantRole.participant_id)
                 .join(IndividualContact, IndividualContact.id == Participant.individual_id)
                 .where(Participant.incident_id == incident_id, IndividualContact.slack_user_id == user_id))
        if active:
            query = query.where(ParticipantRole.renounced_at.is_(None))
        return sorted((await session.execute(query)).scalars())


async def participant(warroom, incident_id: int, user_id: str) -> Participant | None:
    async with warroom.deps.sessions() as session:
        return (await session.execute(
            select(Participant).join(IndividualContact, IndividualContact.id == Participant.individual_id)
            .where(Participant.incident_id == incident_id, IndividualContact.slack_user_id == user_id))).scalar_one_or_none()


def ephemerals_for(slack, user, channel=None) -> list[dict]:
    return [e for e in slack.ephemerals if e["user"] == user and (channel is None or e["channel"] == channel)]
