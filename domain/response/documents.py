"""The incident's Google resources as resumable steps, run in parallel once the channel is ready: the Drive
folder and incident document (shared with the participants), the Meet bridge, and the review document
when the incident becomes Stable. Each is bookmarked and shown in the pinned summary. A failure is
recorded on the resource's row (with the next retry time) and announced once in the channel; a later
success says so. None of it touches the incident's set-up state."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from domain.core.aio import until_settled
from domain.core.deps import Deps
from domain.core.ports import FileRef, PortError
from domain.core.vocabulary import IncidentStatus, Visibility
from domain.documents import (
    CONFERENCE,
    DOCUMENT,
    FOLDER,
    REVIEW,
    TITLES,
    WHAT,
    ResourceDelayed,
    ResourceReady,
    claim_resource,
    conference_link,
    document_variables,
    due_resources,
    incident_of_channel,
    mark_needs_sync,
    may_share,
    participant_emails,
    resource_key,
    resource_row,
    retry_delay,
    wants_conference,
    wants_documents,
)
from domain.incidents.service import incident_facts
from domain.response.summary import incident_summary
from domain.timeline import record_event
from storage.google_models import IncidentResource
from storage.models import Incident, IndividualContact
from storage.rows import RowMissing, must_get
from storage.types import utcnow

log = logging.getLogger(__name__)
Work = Callable[[Incident, IncidentResource], Awaitable[None]]
REFUSED_SHARES = {"google_400", "google_403"}  # this address cannot be given access; the others still are


async def start_google_steps(deps: Deps, incident_id: int) -> None:
    """Set-up's one call: the document and the bridge, in parallel; failures are recorded, never raised."""
    if deps.config.google is None:
        return
    await asyncio.gather(ensure_document(deps, incident_id), ensure_conference(deps, incident_id))


async def on_incident_changed(deps: Deps, incident_id: int, labels: frozenset[str]) -> None:
    """An update was published: an incident that became Stable gets its review document; one that became
    Restricted has its folder's access brought in step (past participants lose it)."""
    if not labels & {"Status", "Visibility"} or deps.config.google is None:
        return
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        stable = "Status" in labels and incident.status == IncidentStatus.STABLE
        restricted = "Visibility" in labels and incident.visibility == Visibility.RESTRICTED
        marked = restricted and await mark_needs_sync(session, incident_id, DOCUMENT)  # commits
        await session.commit()
    if marked:  # restricted now: people who left while it was open lose their access too
        await ensure_document(deps, incident_id)
    if stable:
        await ensure_review(deps, incident_id)


async def share_with_channel_participants(deps: Deps, channel_id: str) -> None:
    """Someone joined the incident of this channel: give them access to its folder (or leave it to the
    resume job, when another process holds the document's claim); never raises for a Google failure.
    (A leave is marked in its own transaction, see `member_left`, then `ensure_document` revokes.)"""
    if deps.config.google is None or deps.config.google.documents is None:
        return
    async with deps.sessions() as session:
        incident_id = await incident_of_channel(session, channel_id)
        marked = incident_id is not None and await mark_needs_sync(session, incident_id, DOCUMENT)
    if marked and incident_id is not None:
        await ensure_document(deps, incident_id)


async def bridge_of(deps: Deps, channel_id: str) -> str | None:
    """The video call of the incident of this channel, for the welcome message (None without a bridge)."""
    if deps.config.conference is None:
        return None
    async with deps.sessions() as session:
        url = await conference_link(session, channel_id)
        await session.commit()
    return url


async def resume_resources(deps: Deps) -> int:
    """Retry resource work that failed or never ran (crash, Google outage) once its retry time came."""
    if deps.config.google is None:
        return 0
    kinds = ([DOCUMENT, REVIEW] if deps.config.google.documents else []) + ([CONFERENCE] if deps.config.conference else [])
    async with deps.sessions() as session:
        due = await due_resources(session, kinds)
    steps = {DOCUMENT: ensure_document, REVIEW: ensure_review, CONFERENCE: ensure_conference}
    for incident_id, kind in due:
        await steps[kind](deps, incident_id)
    return len(due)


# ---------------------------------------------------------------------- the steps

async def ensure_document(deps: Deps, incident_id: int) -> None:
    """Folder, document copied from the template and filled, shared with the participants, linked; idempotent."""
    google = deps.config.google
    docs = google.documents if google else None
    if google is None or docs is None:
        return
    port = deps.ports.documents

    async def work(incident: Incident, row: IncidentResource) -> None:
        folder = await _stored(deps, incident.id, FOLDER)
        if folder is None:
            key = resource_key(incident.name, FOLDER)
            found = await port.find_file(docs.parent_folder_id, key)
            folder = found or await port.create_folder(docs.parent_folder_id, f"{incident.name}: {incident.title}"[:200], key)
            await _store(deps, incident.id, FOLDER, folder, created=found is None)
        if row.external_id is None or row.url is None:
            key = resource_key(incident.name, DOCUMENT)
            found = await port.find_file(folder.id, key)
            document = found or await port.copy_document(docs.incident_template_id, folder.id,
                                                         f"{incident.name} incident document", key)
            await _store(deps, incident.id, DOCUMENT, document, created=found is None)
            row.external_id, row.url = document.id, document.url
        if not row.linked:  # filling again is harmless: filled variables are no longer there to replace
            async with deps.sessions() as session:
                facts = await incident_facts(session, incident)
                variables = await document_variables(session, incident, facts, channel_link=_channel_link(deps, incident))
                await session.commit()
            await port.fill_document(row.external_id, variables)
        await _share(deps, incident.id, folder.id, revoke=incident.visibility == Visibility.RESTRICTED)
        if not row.linked:
            await _link(deps, incident, DOCUMENT, row.url)

    await _run_step(deps, incident_id, DOCUMENT, lambda i: wants_documents(deps.config, i.visibility), work)


async def ensure_review(deps: Deps, incident_id: int) -> None:
    """The post-incident review document of a Stable or Closed incident: copied, filled, linked, announced
    in the channel and DM'd to the commander; idempotent."""
    google = deps.config.google
    docs = google.documents if google else None
    if google is None or docs is None or docs.review_template_id is None:
        return
    template, port = docs.review_template_id, deps.ports.documents

    def wanted(incident: Incident) -> bool:
        return incident.status in (IncidentStatus.STABLE, IncidentStatus.CLOSED) and wants_documents(
            deps.config, incident.visibility)

    async def work(incident: Incident, row: IncidentResource) -> None:
        if row.external_id is None or row.url is None:
            folder = await _stored(deps, incident.id, FOLDER)
            if folder is None:
                raise RuntimeError("the incident folder does not exist yet (its document step has not succeeded)")
            key = resource_key(incident.name, REVIEW)
            found = await port.find_file(folder.id, key)
            document = found or await port.copy_document(template, folder.id, f"{incident.name} post-incident review", key)
            await _store(deps, incident.id, REVIEW, document, created=found is None)
            row.external_id, row.url = document.id, document.url
        if not row.linked:
            async with deps.sessions() as session:
                facts = await incident_facts(session, incident)
                variables = await document_variables(session, incident, facts, channel_link=_channel_link(deps, incident))
                await session.commit()
            await port.fill_document(row.external_id, variables)
            await _link(deps, incident, REVIEW, row.url)

    await _run_step(deps, incident_id, REVIEW, wanted, work)


def bridge_key(incident: Incident) -> str:
    """An incident-unique calendar event id: base32hex characters (a-v, 0-9), stable across retries."""
    seed = f"warroom:{incident.id}:{incident.name}:{int(incident.created_at.timestamp())}"
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


async def ensure_conference(deps: Deps, incident_id: int) -> None:
    """The incident's bridge (Google Meet): created once, bookmarked and shown in the summary; idempotent."""
    if deps.config.conference is None or deps.config.google is None:
        return

    async def work(incident: Incident, row: IncidentResource) -> None:
        if row.external_id is None or row.url is None:
            description = f"Conference bridge of {incident.name}."
            link = _channel_link(deps, incident)
            if link:
                description += f" Incident channel: {link}"
            bridge = await deps.ports.conference.create_bridge(bridge_key(incident), f"{incident.name}: {incident.title}",
                                                               description)
            await _store(deps, incident.id, CONFERENCE, FileRef(bridge.id, bridge.url), created=True)
            row.url = bridge.url
        if not row.linked and row.url:
            await _link(deps, incident, CONFERENCE, row.url)

    await _run_step(deps, incident_id, CONFERENCE, lambda i: wants_conference(deps.config, i.visibility), work)


# ---------------------------------------------------------------------- shared machinery

async def _run_step(deps: Deps, incident_id: int, kind: str, wanted: Callable[[Incident], bool], work: Work) -> None:
    """Claim the incident's row of `kind`, run `work`, record the outcome; does nothing for an incident
    without a channel, one that does not want it, or while another process holds the claim. A change stored
    while this attempt held the claim (someone joined) is handled by a follow-up attempt right away."""
    await until_settled(lambda: _step_once(deps, incident_id, kind, wanted, work))


async def _step_once(deps: Deps, incident_id: int, kind: str, wanted: Callable[[Incident], bool], work: Work) -> bool:
    """One attempt; True when `needs_sync` was set again while it held the claim."""
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        if incident.channel_id is None or not wanted(incident):
            return False
        row = await claim_resource(session, incident_id, kind)
        await session.commit()
    if row is None:
        return False
    channel, announced = incident.channel_id, row.failure_announced
    try:
        await work(incident, row)
    except Exception as exc:  # recorded for the resume job; the incident itself is fine
        log.warning("%s of %s: %s", WHAT[kind], incident.name, exc)
        await _record_failure(deps, incident_id, kind, channel, incident.name, str(exc), announce=not announced)
        return False
    return await _record_success(deps, incident_id, kind, channel, incident.name, row.url, recovered=announced)


def _channel_link(deps: Deps, incident: Incident) -> str | None:
    return deps.ports.conversation.channel_link(incident.channel_id) if incident.channel_id else None


async def _stored(deps: Deps, incident_id: int, kind: str) -> FileRef | None:
    async with deps.sessions() as session:
        row = await resource_row(session, incident_id, kind)
        await session.commit()
    return FileRef(row.external_id, row.url) if row and row.external_id and row.url else None


async def _store(deps: Deps, incident_id: int, kind: str, ref: FileRef, *, created: bool) -> None:
    """Commit the resource's id the moment it is known (the folder row is plain storage, never claimed)."""
    async with deps.sessions() as session:
        row = await resource_row(session, incident_id, kind)
        if row is None:
            row = IncidentResource(incident_id=incident_id, kind=kind, linked=kind == FOLDER)
            session.add(row)
        row.external_id, row.url = ref.id, ref.url
        what = "Drive folder" if kind == FOLDER else WHAT[kind][:1].upper() + WHAT[kind][1:]
        await record_event(session, incident_id, f"{what} {'created' if created else 'found'}",
                           details={"kind": kind, "id": ref.id, "url": ref.url},
                           dedupe_key=f"incident:{incident_id}:{kind}")
        await session.commit()


async def _share(deps: Deps, incident_id: int, folder_id: str, *, revoke: bool) -> None:
    """Bring the folder's access (its documents inherit) in step with the active participants: share it with
    every one not given access yet and, when `revoke` (a restricted incident), take it away from everyone
    given access who is no longer a participant. Each share and each removal is committed as it succeeds
    (a removal with a timeline event), so a retry after a failure or a crash does only what is left."""
    google = deps.config.google
    assert google is not None and google.documents is not None
    async with deps.sessions() as session:
        participants = await participant_emails(session, incident_id)
        already = list((await _row(session, incident_id, DOCUMENT)).shared_with)
        await session.commit()
    emails = [e for e in participants if may_share(google, e)]
    gone = [e for e in already if e not in participants] if revoke else []
    for email in gone:
        try:
            await deps.ports.documents.unshare(folder_id, email)
        except PortError as exc:
            if exc.code not in REFUSED_SHARES:
                raise  # an outage: the step is retried
            # kept in shared_with: every later sync of the folder tries again
            log.warning("Drive refused to remove %s from the folder of incident %s: %s", email, incident_id, exc)
            continue
        async with deps.sessions() as session:
            row = await _row(session, incident_id, DOCUMENT)
            row.shared_with = [e for e in row.shared_with if e != email]
            await record_event(session, incident_id, f"Drive access of {email} removed (no longer a participant)",
                               details={"kind": "drive_access_removed", "email": email})
            await session.commit()
    done = set(already)
    for email in emails:
        if email in done:
            continue
        try:
            await deps.ports.documents.share(folder_id, email, google.documents.share_role)
        except PortError as exc:
            if exc.code not in REFUSED_SHARES:
                raise  # an outage: the step is retried
            log.warning("Drive refused to share the folder of incident %s with %s: %s", incident_id, email, exc)
            continue  # this address only (e.g. outside the domain's sharing policy); tried again when someone joins
        done.add(email)
        async with deps.sessions() as session:
            row = await _row(session, incident_id, DOCUMENT)
            row.shared_with = [*row.shared_with, email]
            await session.commit()


async def _link(deps: Deps, incident: Incident, kind: str, url: str | None) -> None:
    """Bookmark the resource and show it in the pinned summary (both safe to repeat); a review document is
    also announced in the channel and DM'd to the commander, once."""
    conv = deps.ports.conversation
    channel = incident.channel_id
    if channel is None or url is None:
        return
    async with deps.sessions() as session:
        current = await must_get(session, Incident, incident.id)
        summary = await incident_summary(session, current, deps.config)
        commander = await session.get(IndividualContact, current.commander_id) if current.commander_id else None
        first = kind == REVIEW and await record_event(session, incident.id, "Post-incident review document announced",
                                                      dedupe_key=f"incident:{incident.id}:review-announced")
        await session.commit()
    await conv.add_bookmark(channel, TITLES[kind], url, if_missing=True)
    if current.summary_message_ts:
        await conv.update(channel, current.summary_message_ts, summary)
    if first:
        notice = ResourceReady(incident.name, WHAT[REVIEW], url)
        await conv.post(channel, notice)
        if commander is not None:
            await conv.send_direct(commander.slack_user_id, notice)
    async with deps.sessions() as session:
        row = await _row(session, incident.id, kind)
        row.linked = True
        await session.commit()


async def _row(session: AsyncSession, incident_id: int, kind: str) -> IncidentResource:
    row = await resource_row(session, incident_id, kind)
    if row is None:
        raise RowMissing(f"IncidentResource {kind} of incident {incident_id} does not exist")
    return row


async def _record_failure(deps: Deps, incident_id: int, kind: str, channel: str, name: str, error: str, *,
                          announce: bool) -> None:
    async with deps.sessions() as session:
        row = await _row(session, incident_id, kind)
        row.attempts += 1
        delay = retry_delay(row.attempts)
        row.error, row.next_attempt_at, row.claimed_until = error[:2000], utcnow() + delay, None
        row.needs_sync = row.needs_sync or row.external_id is not None
        row.failure_announced = row.failure_announced or announce
        exists = row.linked
        await session.commit()
    if announce:
        try:
            await deps.ports.conversation.post(channel, ResourceDelayed(name, WHAT[kind], error[:300],
                                                                        int(delay.total_seconds()), exists))
        except Exception:  # the notice is best effort; the failure is recorded
            log.warning("could not tell #%s that the %s of %s is delayed", channel, WHAT[kind], name)


async def _record_success(deps: Deps, incident_id: int, kind: str, channel: str, name: str, url: str | None, *,
                          recovered: bool) -> bool:
    """Release the claim; True when something changed meanwhile (`needs_sync` set again)."""
    async with deps.sessions() as session:
        row = await _row(session, incident_id, kind)
        row.attempts, row.error, row.next_attempt_at, row.claimed_until = 0, None, None, None
        row.failure_announced = False
        await session.commit()
        await session.refresh(row)
        changed = row.needs_sync
    if recovered and url and kind != REVIEW:  # the review is announced when linked anyway
        try:
            await deps.ports.conversation.post(channel, ResourceReady(name, WHAT[kind], url))
        except Exception:
            log.warning("could not tell #%s that the %s of %s is ready", channel, WHAT[kind], name)
    return changed
