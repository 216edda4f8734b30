"""Command-center work when an incident channel is set up: engagement, announcements, paging."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.announcements.service import refresh_announcements
from domain.config.schema import WarroomConfig
from domain.contacts import update_contact
from domain.core.aio import gather_all
from domain.core.deps import Deps
from domain.core.ports import ChannelRef, ConversationPort, NameTaken, PortError
from domain.core.vocabulary import IncidentStatus, SetupState, Visibility
from domain.incidents import naming
from domain.incidents.notices import ClosingSummary, IncidentFacts, IncidentReported, IncidentSummary, SetupDelayed
from domain.incidents.service import (
    MAX_NAME_ATTEMPTS,
    SETUP_LEASE,
    channel_prefix,
    claim_setup,
    duration,
    incident_facts,
    incident_topic,
)
from domain.incidents.tags import incident_tags
from domain.response.engagement import run_engagement
from domain.response.roles import page_commander_if_needed
from domain.timeline import record_event
from storage.models import (
    Incident,
    IndividualContact,
    Project,
)
from storage.rows import must_get
from storage.types import utcnow

log = logging.getLogger(__name__)


async def on_channel_ready(deps: Deps, incident_id: int) -> None:
    """Runs beside the channel set-up calls once the channel exists; each part is idempotent
    (a resumed set-up repeats it safely) and a failure of one is only logged."""
    results = await asyncio.gather(
        run_engagement(deps, incident_id),
        _announce(deps, incident_id),
        page_commander_if_needed(deps, incident_id),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, Exception):
            log.error("post-set-up step of incident %s failed", incident_id, exc_info=result)


async def close_retroactive(deps: Deps, incident_id: int) -> None:
    """An incident reported as already Closed gets its closing summary, then its channel archived."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        channel = incident.channel_id
        if incident.status != IncidentStatus.CLOSED or channel is None:
            return
        facts = await incident_facts(session, incident)
        first = await record_event(session, incident.id, "Closing summary posted",
                                   dedupe_key=f"incident:{incident.id}:closing-summary")
        await session.commit()
    if first:
        await conv.post(channel, ClosingSummary(facts, incident.resolution, duration(incident)))
    if deps.config.archive_on_close:
        await conv.archive(channel)


async def _announce(deps: Deps, incident_id: int) -> None:
    if not deps.config.notification_channels:
        return
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        await refresh_announcements(session, deps.ports.conversation, incident, await incident_facts(session, incident),
                                    deps.config)
        await session.commit()


async def setup_incident(deps: Deps, incident_id: int) -> Incident:
    """Create and prepare the incident channel; resumable after a failure at any step.

    Independent Slack calls run concurrently. Progress is committed after each step so that a
    later attempt (redelivery, the resume job, a restart) continues where this one stopped.
    """
    config, conv = deps.config, deps.ports.conversation
    # Every DB step below ends with a commit before the next Slack call: a transaction (and on
    # SQLite the write lock, on Postgres a pooled connection) is never held across the network.
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        if incident.setup_state == SetupState.READY:
            return incident
        if not await claim_setup(session, incident):
            log.info("set-up of %s already running elsewhere", incident.name)
            return incident
        reporter = await must_get(session, IndividualContact, incident.reporter_id)
        project = await must_get(session, Project, incident.project_id)
        prefix = channel_prefix(config, project.name)
        await session.commit()
        ready = False
        try:
            channel_id = incident.channel_id
            if channel_id is None:
                profile, channel = await gather_all(
                    conv.get_user(reporter.slack_user_id), _create_channel(conv, prefix, incident)
                )
                await update_contact(session, profile)
                channel_id = incident.channel_id = channel.id
                incident.channel_name = channel.name
                incident.setup_state = SetupState.CHANNEL_CREATED
                await record_event(
                    session,
                    incident.id,
                    f"Incident channel #{channel.name} created",
                    dedupe_key=f"incident:{incident.id}:channel",
                )
                await session.commit()
            facts = await incident_facts(session, incident)
            topic = await incident_topic(session, incident, facts.priority)
            await session.commit()

            await gather_all(
                conv.invite(channel_id, [reporter.slack_user_id]),
                conv.set_topic(channel_id, topic),
                _post_summary(session, conv, config, incident, channel_id, facts),
                _confirm_to_reporter(conv, incident, channel_id, facts),
                on_channel_ready(deps, incident.id),
            )
            incident.setup_state, incident.setup_error = SetupState.READY, None
            incident.updated_at = utcnow()
            await session.commit()
            log.info("incident %s ready in #%s", incident.name, incident.channel_name)
            ready = True
        except Exception as exc:  # record any failure so the incident can be resumed, then tell the reporter
            await session.rollback()
            incident = await must_get(session, Incident, incident_id)
            incident.setup_state = SetupState.FAILED if incident.channel_id is None else SetupState.CHANNEL_CREATED
            incident.setup_error = str(exc)[:2000]
            await session.commit()
            log.exception("set-up of %s failed (attempt %s)", incident.name, incident.setup_attempts)
            await _tell_setup_delayed(conv, incident, reporter.slack_user_id, exc)
    if ready:
        # Last: archiving a retroactively Closed incident must follow every other channel call.

        await close_retroactive(deps, incident_id)
    return incident


async def _create_channel(conv: ConversationPort, prefix: str, incident: Incident) -> ChannelRef:
    private = incident.visibility == Visibility.RESTRICTED
    for attempt in range(MAX_NAME_ATTEMPTS):
        try:
            return await conv.create_channel(
                naming.channel_name(prefix, incident.number, incident.title, attempt), private=private
            )
        except NameTaken:
            continue
    raise PortError("name_taken", f"no free channel name after {MAX_NAME_ATTEMPTS} attempts")


async def _post_summary(session: AsyncSession, conv: ConversationPort, config: WarroomConfig, incident: Incident,
                        channel_id: str, facts: IncidentFacts) -> None:
    ts = incident.summary_message_ts
    resumed = ts is not None
    if ts is None:
        tags = [t.label for t in await incident_tags(session, incident.id)]
        ref = await conv.post(channel_id, IncidentSummary(facts, config.commands.model_dump(), tags))
        ts = incident.summary_message_ts = ref.ts
        # Committed at once: a retry must never post the summary twice.
        await session.commit()
    permalink = conv.message_link(channel_id, ts)
    await gather_all(
        conv.pin(channel_id, ts),
        conv.add_bookmark(channel_id, f"{incident.name} summary", permalink, if_missing=resumed),
    )


async def _confirm_to_reporter(conv: ConversationPort, incident: Incident, channel_id: str, facts: IncidentFacts) -> None:
    if not incident.origin_channel_id or incident.origin_channel_id == channel_id:
        return
    notice = IncidentReported(facts, conv.channel_link(channel_id))
    try:
        await conv.post_ephemeral(incident.origin_channel_id, facts.reporter, notice)
    except PortError:
        # The origin may be a channel the bot cannot post in (e.g. a DM with someone else): use a DM.
        await conv.send_direct(facts.reporter, notice)


async def _tell_setup_delayed(conv: ConversationPort, incident: Incident, user_id: str, exc: Exception) -> None:
    try:
        await conv.send_direct(user_id, SetupDelayed(incident.name, incident.title, str(exc)[:300]))
    except Exception:  # the DM is best effort; the failure is already recorded on the incident
        log.warning("could not tell %s about the delayed set-up of %s", user_id, incident.name)


async def resume_pending_setups(deps: Deps, *, max_attempts: int = 5) -> int:
    """Finish set-ups left unfinished (Slack outage, crash). Returns how many were attempted.

    Only attempts that failed or went stale are picked; `setup_incident` claims each one, so
    running this in several processes at once is safe.
    """
    stale = utcnow() - SETUP_LEASE
    async with deps.sessions() as session:
        ids = (
            await session.execute(
                select(col(Incident.id)).where(
                    col(Incident.setup_state) != SetupState.READY,
                    col(Incident.setup_attempts) < max_attempts,
                    or_(col(Incident.setup_error).is_not(None), col(Incident.updated_at) < stale),
                )
            )
        ).scalars().all()
    for incident_id in ids:
        await setup_incident(deps, incident_id)
    return len(ids)
