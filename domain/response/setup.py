"""Command-center work when an incident channel is set up: engagement, announcements, paging."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from domain.announcements.service import refresh_announcements
from domain.contacts import apply_profile
from domain.core.aio import gather_all
from domain.core.deps import Deps
from domain.core.ports import ChannelRef, ConversationPort, NameTaken, PortError, StepMark
from domain.core.vocabulary import IncidentStatus, SetupState, Visibility
from domain.incidents import naming
from domain.incidents.notices import IncidentFacts, IncidentReported, IncidentSummary, SetupDelayed
from domain.incidents.service import (
    MAX_NAME_ATTEMPTS,
    OWN_SILENCE,
    SETUP_HEARTBEAT,
    SETUP_LEASE,
    Reported,
    channel_prefix,
    claim_setup,
    incident_facts,
    incident_topic,
    keep_setup_lease,
    own_earlier_boot,
)
from domain.response.documents import start_google_steps
from domain.response.engagement import run_engagement
from domain.response.notices import CommanderGuide
from domain.response.roles import page_commander_if_needed
from domain.response.summary import closing_summary, incident_summary
from domain.response.tickets import ensure_ticket
from domain.timeline import record_event
from storage.models import (
    Incident,
    IndividualContact,
    Participant,
    Project,
)
from storage.rows import must_get
from storage.types import utcnow

log = logging.getLogger(__name__)
Sessions = async_sessionmaker[AsyncSession]
CLOCK_SKEW = timedelta(minutes=5)  # between our clock and the chat workspace's, when comparing creation times
RETRY_FIRST, RETRY_MAX = timedelta(seconds=30), timedelta(minutes=10)  # failed set-ups, see `_retry_delay`


async def on_channel_ready(deps: Deps, incident_id: int, facts: IncidentFacts, *, resumed: bool = False,
                           guide: bool = False) -> str | None:
    """Runs beside the channel set-up calls once the channel exists; each part is idempotent
    (a resumed set-up repeats it safely) and a failure of one does not stop the others.

    Returns why the engagement failed, if it did: the people it recorded may not be in the channel,
    so the set-up stays unfinished and its resumption invites them (the others retry on their own:
    announcements and pages are rows the resume job finishes). `resumed`: an earlier attempt may have
    died half-way, so look for what it posted first. `facts`: the incident's, as the set-up just read them.
    `guide`: the commander's help tips are due (`_guide_due`).
    """
    steps = [run_engagement(deps, incident_id, facts), _announce(deps, incident_id, recover=resumed),
             page_commander_if_needed(deps, incident_id, facts), *([_guide_commander(deps, facts)] if guide else [])]
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            log.error("post-set-up step of incident %s failed", incident_id, exc_info=result)
        elif isinstance(result, BaseException):  # cancelled (shutdown): not a step failure
            raise result
    return str(results[0]) or type(results[0]).__name__ if isinstance(results[0], Exception) else None


async def _guide_due(session: AsyncSession, incident_id: int, facts: IncidentFacts) -> bool:
    """Whether to send the commander's help tips: once, recorded (with the caller's commit) before they are sent,
    so a set-up resumed after a crash never sends them twice."""
    if facts.status == IncidentStatus.CLOSED or facts.commander is None:
        return False
    return await record_event(session, incident_id, "Help tips sent to the incident commander",
                              dedupe_key=f"incident:{incident_id}:commander-guide")


async def _guide_commander(deps: Deps, facts: IncidentFacts) -> None:
    """The commander's help tips (what to do, the commands they will need by their configured names), by DM."""
    if facts.commander is not None:
        await deps.ports.conversation.send_direct(facts.commander, CommanderGuide(facts, deps.config.commands.model_dump()))


async def close_retroactive(deps: Deps, incident_id: int) -> None:
    """An incident reported as already Closed gets its closing summary, then its channel archived."""
    conv = deps.ports.conversation
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        channel = incident.channel_id
        if incident.status != IncidentStatus.CLOSED or channel is None:
            return
        notice = await closing_summary(session, incident, deps.config)
        first = await record_event(session, incident.id, "Closing summary posted",
                                   dedupe_key=f"incident:{incident.id}:closing-summary")
        await session.commit()
    if first:
        posted = await conv.post(channel, notice)
        async with deps.sessions() as session:  # the cost job edits the final figure into it
            await session.execute(update(Incident).where(col(Incident.id) == incident_id)
                                  .values(closing_message_ts=posted.ts).execution_options(synchronize_session=False))
            await session.commit()
    if deps.config.archive_on_close:
        await conv.archive(channel)


async def _announce(deps: Deps, incident_id: int, *, recover: bool) -> None:
    if not deps.config.notification_channels:
        return
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        await refresh_announcements(session, deps.ports.conversation, incident, await incident_facts(session, incident),
                                    deps.config, recover=recover)
        await session.commit()


async def setup_incident(deps: Deps, incident_id: int, *, own: bool = False, reported: Reported | None = None) -> Incident:
    """Create and prepare the incident channel, once one of `deps.setup_slots` is free."""
    async with deps.setup_slots:
        return await _setup_incident(deps, incident_id, own=own, reported=reported)


async def _setup_incident(deps: Deps, incident_id: int, *, own: bool = False, reported: Reported | None = None) -> Incident:
    """Create and prepare the incident channel; resumable after a failure at any step.

    Independent Slack calls run concurrently. Progress is committed after each step so that a
    later attempt (redelivery, the resume job, a restart) continues where this one stopped.

    An attempt may also die (killed, timed out) after Slack acted but before its answer was
    recorded, so a resumed attempt recognises what Slack already has before acting again: the
    channel by the name committed before asking for it (`_open_channel`), the summary by the
    mark it was posted with (`_post_summary`). The ephemeral confirmation cannot be looked up:
    it is recorded as soon as it is sent (`_confirm_to_reporter`).

    The attempt holds the incident by a heartbeat (`_heartbeat`): a process that dies lets go within
    SETUP_LEASE. `own`: this replica was restarted, take back what its earlier boot was doing.
    `reported`: the incident was just stored with its set-up claimed by this process (`report_incident`).
    """
    sessions, config, conv = deps.sessions, deps.config, deps.ports.conversation
    # Every DB step below ends with a commit before the next Slack call: a transaction (and on
    # SQLite the write lock, on Postgres a pooled connection) is never held across the network.
    async with sessions() as session:
        first = await _first_attempt(session, deps, reported)
        if first is not None:
            incident, reporter, project_name = first
            earlier_name = None  # nothing was asked of Slack yet
        else:
            incident = await must_get(session, Incident, incident_id)
            if incident.setup_state == SetupState.READY:
                return incident
            if not await claim_setup(session, incident, deps.holder, instance=deps.instance if own else None):
                log.info("set-up of %s already running elsewhere", incident.name)
                return incident
            reporter = await must_get(session, IndividualContact, incident.reporter_id)
            project_name = (await must_get(session, Project, incident.project_id)).name
            earlier_name = incident.setup_channel_name  # asked for by an earlier attempt that never stored the id
            if incident.channel_id is None and earlier_name is None:
                incident.setup_channel_name = naming.channel_name(channel_prefix(config, project_name), incident.number,
                                                                  incident.title)
            await session.commit()
        resumed = incident.setup_attempts > 1  # an earlier attempt may have done more than it recorded
        prefix = channel_prefix(config, project_name)
        ready = False
        heartbeat = asyncio.create_task(_heartbeat(deps, incident.id))
        try:
            if incident.channel_id is None:
                profile, channel = await gather_all(
                    conv.get_user(reporter.slack_user_id),
                    _open_channel(sessions, conv, prefix, incident, earlier_name),
                )
                for name, value in (("channel_id", channel.id), ("channel_name", channel.name),
                                    ("setup_state", SetupState.CHANNEL_CREATED)):  # as `_open_channel` stored them
                    set_committed_value(incident, name, value)
                apply_profile(reporter, profile)  # stored with the reads below
            channel_id = incident.channel_id
            if channel_id is None:
                raise PortError("channel_missing", f"{incident.name} has no channel after it was opened")
            facts = await incident_facts(session, incident)
            topic = await incident_topic(session, incident, facts.priority)
            summary = await incident_summary(session, incident, config, facts)
            guide = await _guide_due(session, incident.id, facts)
            # On resume, also whoever the dead attempt recorded as participant (engagement) but may not have invited.
            others = [u for u in await _participant_users(session, incident.id) if u != reporter.slack_user_id] \
                if resumed else []
            await session.commit()

            *_, engagement_failed = await gather_all(
                conv.invite(channel_id, [reporter.slack_user_id]),
                _invite_participants(conv, incident, channel_id, others),
                conv.set_topic(channel_id, topic),
                _post_summary(session, conv, incident, channel_id, summary, resumed=resumed),
                _confirm_to_reporter(deps, incident, channel_id, facts),
                on_channel_ready(deps, incident.id, facts, resumed=resumed, guide=guide),
            )
            incident.updated_at = utcnow()
            if engagement_failed is None:
                incident.setup_state, incident.setup_error = SetupState.READY, None
                log.info("incident %s ready in #%s", incident.name, incident.channel_name)
            else:  # the channel works (the reporter was told so); the resume job invites whom engagement recorded
                incident.setup_error = f"engagement: {engagement_failed}"[:2000]
                log.warning("incident %s usable in #%s; engagement to be retried", incident.name, incident.channel_name)
            await session.commit()
            ready = engagement_failed is None
        except Exception as exc:  # record any failure so the incident can be resumed, then tell the reporter
            await session.rollback()
            incident = await must_get(session, Incident, incident_id)
            incident.setup_state = SetupState.FAILED if incident.channel_id is None else SetupState.CHANNEL_CREATED
            incident.setup_error = str(exc)[:2000]
            await session.commit()
            log.exception("set-up of %s failed (attempt %s)", incident.name, incident.setup_attempts)
            await _tell_setup_delayed(conv, incident, reporter.slack_user_id, exc)
        finally:
            heartbeat.cancel()
    if ready:
        # After the channel is ready, never before: the ticket (a slow, fallible tracker) may not delay it.
        # Its failures are recorded on the ticket row and retried by the resume job.
        await gather_all(ensure_ticket(deps, incident_id), start_google_steps(deps, incident_id))
        # Last: archiving a retroactively Closed incident must follow every other channel call.
        if incident.status == IncidentStatus.CLOSED:
            await close_retroactive(deps, incident_id)
    return incident


async def _first_attempt(session: AsyncSession, deps: Deps, reported: Reported | None
                         ) -> tuple[Incident, IndividualContact, str] | None:
    """(incident, reporter, project name) when this is the attempt `report_incident` claimed with the row: the rows
    as they were stored, put in `session` without reading them back. A claim made less than a heartbeat ago is
    certainly still ours (its lease lasts SETUP_LEASE); an older one (a long wait for a slot) is renewed first.
    Else None: claim as any attempt does."""
    if reported is None or reported.claimed_at is None or reported.reporter is None:
        return None
    waited_long = time.monotonic() - reported.claimed_at >= SETUP_HEARTBEAT.total_seconds()  # for a slot
    if waited_long and not await keep_setup_lease(session, reported.incident.id, deps.holder):
        log.info("set-up of %s taken over while it waited", reported.incident.name)
        return None
    session.add_all([reported.incident, reported.reporter])
    return reported.incident, reported.reporter, reported.project_name


async def _heartbeat(deps: Deps, incident_id: int) -> None:
    """Keep the set-up lease while the attempt works; ends when cancelled or when the lease is not ours."""
    while True:
        await asyncio.sleep(SETUP_HEARTBEAT.total_seconds())
        try:
            async with deps.sessions() as session:
                if not await keep_setup_lease(session, incident_id, deps.holder):
                    return
        except Exception:  # a database hiccup: the next beat tries again, the lease has slack
            log.warning("set-up heartbeat of incident %s failed", incident_id, exc_info=True)


async def _open_channel(sessions: Sessions, conv: ConversationPort, prefix: str, incident: Incident,
                        earlier_name: str | None) -> ChannelRef:
    """Find or create the incident channel, and commit its id the moment it is known.

    `earlier_name` is the name an earlier attempt asked Slack for without storing an id: it died
    (or timed out) while Slack was creating the channel, or just after. The channel of that name,
    if it is this incident's (`_own_channel`), is adopted, not left empty beside a `-2`.
    """
    channel = await _own_channel(sessions, conv, incident, earlier_name) if earlier_name else None
    if channel is None:
        channel = await _create_channel(sessions, conv, prefix, incident,
                                        recorded=earlier_name or incident.setup_channel_name, looked=earlier_name)
    async with sessions() as session:
        await session.execute(update(Incident).where(col(Incident.id) == incident.id).values(
            channel_id=channel.id, channel_name=channel.name, setup_state=SetupState.CHANNEL_CREATED)
            .execution_options(synchronize_session=False))
        await record_event(session, incident.id, f"Incident channel #{channel.name} created",
                           dedupe_key=f"incident:{incident.id}:channel")
        await session.commit()
    return channel


async def _own_channel(sessions: Sessions, conv: ConversationPort, incident: Incident, name: str) -> ChannelRef | None:
    """The channel called `name` if an earlier call made it for this incident, else None.

    Names carry the incident number, so a channel of that name that the bot created, since the
    incident was reported, and that no other incident holds, can only be this incident's.
    """
    channel = await conv.find_channel(name)
    if channel is None:
        return None
    if channel.created_at is not None and channel.created_at < incident.created_at - CLOCK_SKEW:
        return None  # made for an incident of the same number before (e.g. a database started afresh)
    async with sessions() as session:
        other = (await session.execute(
            select(col(Incident.id)).where(col(Incident.channel_id) == channel.id, col(Incident.id) != incident.id))).first()
        await session.commit()
    if other is not None:
        return None
    log.info("set-up of %s adopts #%s, created by an earlier call whose answer was lost", incident.name, name)
    return channel


async def _create_channel(sessions: Sessions, conv: ConversationPort, prefix: str, incident: Incident, *,
                          recorded: str | None, looked: str | None) -> ChannelRef:
    """Create the channel under the first free name; each name is committed before it is asked for.

    A name taken by this incident's own channel (`_own_channel`) is adopted: an earlier call
    created it but its answer was lost, e.g. the client retried a call that timed out.
    """
    private = incident.visibility == Visibility.RESTRICTED
    for attempt in range(MAX_NAME_ATTEMPTS):
        name = naming.channel_name(prefix, incident.number, incident.title, attempt)
        if name != recorded:
            async with sessions() as session:
                await session.execute(update(Incident).where(col(Incident.id) == incident.id)
                                      .values(setup_channel_name=name))
                await session.commit()
            recorded = name
        try:
            return await conv.create_channel(name, private=private)
        except NameTaken:
            own = await _own_channel(sessions, conv, incident, name) if name != looked else None
            if own is not None:
                return own
    raise PortError("name_taken", f"no free channel name after {MAX_NAME_ATTEMPTS} attempts")


async def _participant_users(session: AsyncSession, incident_id: int) -> list[str]:
    """Slack ids of the incident's active participants."""
    return list((await session.execute(
        select(col(IndividualContact.slack_user_id))
        .join(Participant, col(Participant.individual_id) == col(IndividualContact.id))
        .where(col(Participant.incident_id) == incident_id, col(Participant.inactive_at).is_(None))
        .order_by(col(Participant.id)))).scalars())


async def _invite_participants(conv: ConversationPort, incident: Incident, channel_id: str, user_ids: list[str]) -> None:
    """Invite each (already in is fine); one who cannot be invited is logged, as engagement does."""
    results = await asyncio.gather(*(conv.invite(channel_id, [u]) for u in user_ids), return_exceptions=True)
    for user_id, result in zip(user_ids, results, strict=True):
        if isinstance(result, PortError):
            log.warning("could not invite %s to %s: %s", user_id, incident.name, result)
        elif isinstance(result, BaseException):
            raise result


async def _post_summary(session: AsyncSession, conv: ConversationPort, incident: Incident, channel_id: str,
                        summary: IncidentSummary, *, resumed: bool) -> None:
    ts = incident.summary_message_ts
    bookmarked = ts is not None  # the bookmark follows the recorded summary
    if ts is None:
        mark = StepMark(incident.name, "summary")
        # A resumed attempt first looks for the summary a dead attempt posted but never recorded.
        ref = await conv.find_marked(channel_id, mark) if resumed else None
        if ref is None:
            ref = await conv.post(channel_id, summary, mark=mark)
        ts = incident.summary_message_ts = ref.ts
        # Committed at once: a retry must never post the summary twice.
        await session.commit()
    permalink = conv.message_link(channel_id, ts)
    await gather_all(
        conv.pin(channel_id, ts),
        conv.add_bookmark(channel_id, f"{incident.name} summary", permalink, if_missing=bookmarked),
    )


async def _confirm_to_reporter(deps: Deps, incident: Incident, channel_id: str, facts: IncidentFacts) -> None:
    """Tell the reporter where the channel is, once.

    Ephemeral messages cannot be looked up afterwards, so the confirmation is recorded as soon as
    Slack accepted it: only a process dying in the milliseconds between the two sends it again
    on resume (a duplicate "your channel is ready" beats none; see the README).
    """
    if not incident.origin_channel_id or incident.origin_channel_id == channel_id:
        return
    if incident.reporter_confirmed_at is not None:
        return
    conv = deps.ports.conversation
    notice = IncidentReported(facts, conv.channel_link(channel_id))
    try:
        await conv.post_ephemeral(incident.origin_channel_id, facts.reporter, notice)
    except PortError:
        # The origin may be a channel the bot cannot post in (e.g. a DM with someone else): use a DM.
        await conv.send_direct(facts.reporter, notice)
    async with deps.sessions() as session:
        await session.execute(update(Incident).where(col(Incident.id) == incident.id)
                              .values(reporter_confirmed_at=utcnow()))
        await session.commit()


async def _tell_setup_delayed(conv: ConversationPort, incident: Incident, user_id: str, exc: Exception) -> None:
    try:
        await conv.send_direct(user_id, SetupDelayed(incident.name, incident.title, str(exc)[:300]))
    except Exception:  # the DM is best effort; the failure is already recorded on the incident
        log.warning("could not tell %s about the delayed set-up of %s", user_id, incident.name)


def _retry_delay(attempts: int) -> timedelta:
    """How long a failed set-up (Slack refused, an outage) waits before the resume job tries again:
    at once after the first failure, then 30 s doubling (the job runs every 20 s)."""
    return timedelta(0) if attempts <= 1 else min(RETRY_FIRST * 2 ** (attempts - 2), RETRY_MAX)


async def resume_pending_setups(deps: Deps, *, max_attempts: int = 5) -> int:
    """Finish set-ups left unfinished (Slack outage, crash). Returns how many were attempted.

    Only attempts that failed (once their retry delay has passed) or went stale (no heartbeat for
    SETUP_LEASE) are picked; `setup_incident` claims each one, so running this in several processes
    at once is safe.
    """
    now = utcnow()
    async with deps.sessions() as session:
        rows = (
            await session.execute(
                select(col(Incident.id), col(Incident.setup_error), col(Incident.setup_attempts),
                       col(Incident.updated_at)).where(
                    col(Incident.setup_state) != SetupState.READY,
                    col(Incident.setup_attempts) < max_attempts,
                    or_(col(Incident.setup_error).is_not(None), col(Incident.updated_at) < now - SETUP_LEASE),
                )
            )
        ).all()
    ids = [incident_id for incident_id, error, attempts, beat in rows
           if error is None or beat < now - _retry_delay(attempts)]
    for incident_id in ids:
        await setup_incident(deps, incident_id)
    return len(ids)


async def resume_own_setups(deps: Deps, *, max_attempts: int = 5) -> tuple[int, int]:
    """At start-up: take back the set-ups an earlier boot of this replica (`deps.instance`) was running
    when it died, once their heartbeat has been silent for OWN_SILENCE (not SETUP_LEASE).

    Returns (attempted now, still waiting for their silence): call again while some wait.
    """
    async with deps.sessions() as session:
        rows = (await session.execute(
            select(col(Incident.id), col(Incident.updated_at)).where(
                col(Incident.setup_state) != SetupState.READY,
                col(Incident.setup_attempts) < max_attempts,
                own_earlier_boot(deps.instance, deps.holder),
            ))).all()
    silent_since = utcnow() - OWN_SILENCE
    due = [incident_id for incident_id, beat in rows if beat < silent_since]
    for incident_id in due:
        await setup_incident(deps, incident_id, own=True)
    return len(due), len(rows) - len(due)
