"""Task sync with the incident documents' comments, both ways.

A comment that assigns someone (`+name@company.com`) becomes a task of the incident, assigned to the
people those emails belong to, with the comment's text and a link to it, and its card is posted in the
channel. Resolving (or re-opening, or deleting) the comment resolves (re-opens) the task; resolving the
task in Slack resolves the comment with a reply. Comments are read incrementally (by modified time).

One task per comment even when two processes sync at once: the comment id is unique on the link row
and on the task's `resource_id`; a push to Drive is claimed by a compare-and-set on the link row.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.contacts import ensure_contact
from domain.core.deps import Deps
from domain.core.ports import DocComment, PortError
from domain.core.vocabulary import IncidentStatus, TaskStatus
from domain.documents import DOCUMENT, REVIEW, assignees_of
from domain.incidents.queries import may_see
from domain.tasks import add_card, set_resolved, view_of
from domain.timeline import record_event
from storage.google_models import DocumentCommentTask, IncidentResource
from storage.models import Incident, IndividualContact
from storage.rows import must_get
from storage.task_models import IncidentTask

log = logging.getLogger(__name__)
DESCRIPTION_MAX = 1500


async def sync_document_tasks(deps: Deps) -> int:
    """Read the new comments of every ongoing incident's documents and push task changes back; returns how
    many tasks were created or changed."""
    google = deps.config.google
    if google is None or google.documents is None or not google.task_sync.enabled:
        return 0
    async with deps.sessions() as session:
        rows = (await session.execute(
            select(IncidentResource).join(Incident, col(Incident.id) == col(IncidentResource.incident_id))
            .where(col(IncidentResource.kind).in_([DOCUMENT, REVIEW]), col(IncidentResource.external_id).is_not(None),
                   col(Incident.status) != IncidentStatus.CLOSED, col(Incident.channel_id).is_not(None))
            .order_by(col(IncidentResource.id)))).scalars().all()
        await session.commit()
    changed = 0
    for row in rows:
        assert row.external_id is not None
        try:
            changed += await _push_task_changes(deps, row.incident_id, row.external_id)
            changed += await _read_comments(deps, row.id, row.incident_id, row.external_id, row.synced_until)
        except PortError as exc:  # the next run reads from the same point
            log.warning("task sync of document %s (incident %s): %s", row.external_id, row.incident_id, exc)
    return changed


async def _read_comments(deps: Deps, row_id: int, incident_id: int, document_id: str, since: str | None) -> int:
    comments = sorted(await deps.ports.documents.list_comments(document_id, since=since), key=lambda c: c.modified)
    changed = 0
    for comment in comments:
        changed += await _apply_comment(deps, incident_id, document_id, comment)
    if comments:
        async with deps.sessions() as session:
            row = await must_get(session, IncidentResource, row_id)
            row.synced_until = max(comments[-1].modified, row.synced_until or "")
            await session.commit()
    return changed


async def _apply_comment(deps: Deps, incident_id: int, document_id: str, comment: DocComment) -> int:
    async with deps.sessions() as session:
        link = (await session.execute(select(DocumentCommentTask).where(
            col(DocumentCommentTask.comment_id) == comment.id))).scalar_one_or_none()
        await session.commit()
    if link is None:
        if comment.deleted or comment.resolved or not assignees_of(comment.content):
            return 0
        return await _create_task(deps, incident_id, document_id, comment)
    gone = comment.deleted and not link.comment_deleted
    if not gone and comment.resolved == link.comment_resolved:
        return 0  # nothing changed in the document since the last reconciliation
    resolved = comment.resolved or comment.deleted
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        actor = await _actor(session, incident, comment.author_email)
        task, cards = await set_resolved(session, link.task_id, resolved=resolved, actor=actor)
        await session.execute(update(DocumentCommentTask).where(col(DocumentCommentTask.id) == link.id).values(
            comment_resolved=comment.resolved, comment_deleted=comment.deleted, task_status=task.status))
        if gone:
            await record_event(session, incident_id, f"Comment deleted from the incident document: task "
                               f"{task.description[:80]} resolved", details={"task_id": link.task_id})
        await session.commit()
    for channel, ts in cards:
        try:
            await deps.ports.conversation.update(channel, ts, task)
        except PortError as exc:
            log.warning("could not refresh a card of task %s: %s", link.task_id, exc)
    return 1


async def _create_task(deps: Deps, incident_id: int, document_id: str, comment: DocComment) -> int:
    emails = assignees_of(comment.content)
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        people = (await session.execute(select(IndividualContact).where(
            func.lower(col(IndividualContact.email)).in_(emails)))).scalars().all()
        by_email = {(p.email or "").lower(): p.slack_user_id for p in people}
        assignees = [by_email[e] for e in emails if e in by_email]
        assignees = [u for u in assignees if await may_see(session, incident, u, deps.config)]
        creator = await _actor(session, incident, comment.author_email)
        unknown = [e for e in emails if e not in by_email]
        text = " ".join(comment.content.split())
        if unknown:
            text += f" (also assigned: {', '.join(unknown)})"
        description = f"{text[:DESCRIPTION_MAX]} — from the incident document: {comment.url}"
        task = IncidentTask(incident_id=incident_id, description=description, creator_user_id=creator,
                            assignees=assignees, resource_id=f"gdoc-comment:{comment.id}")
        try:
            async with session.begin_nested():
                session.add(task)
                await session.flush()
                session.add(DocumentCommentTask(task_id=task.id, incident_id=incident_id, document_id=document_id,
                                                comment_id=comment.id, task_status=TaskStatus.OPEN))
                await session.flush()
        except IntegrityError:
            await session.rollback()
            return 0  # another process made this comment's task first
        await record_event(session, incident_id, f"Task from a document comment: {text[:200]}",
                           details={"task_id": task.id, "assignees": assignees, "comment": comment.url},
                           dedupe_key=f"gdoc-comment:{comment.id}")
        await session.commit()
        view, channel = view_of(task, incident), incident.channel_id
    if channel is not None:
        try:
            card = await deps.ports.conversation.post(channel, view)
            async with deps.sessions() as session:
                await add_card(session, view.id, card.channel_id, card.ts)
        except PortError as exc:  # the task is stored; its card can be listed with the task commands
            log.warning("could not post the card of task %s: %s", view.id, exc)
    return 1


async def _push_task_changes(deps: Deps, incident_id: int, document_id: str) -> int:
    """Tasks resolved or re-opened in Slack since the last reconciliation: reply to their comments."""
    async with deps.sessions() as session:
        rows = (await session.execute(
            select(DocumentCommentTask, IncidentTask).join(IncidentTask, col(IncidentTask.id) == col(DocumentCommentTask.task_id))
            .where(col(DocumentCommentTask.incident_id) == incident_id,
                   col(DocumentCommentTask.document_id) == document_id,
                   ~col(DocumentCommentTask.comment_deleted),
                   col(DocumentCommentTask.task_status) != col(IncidentTask.status)))).all()
        await session.commit()
    pushed = 0
    for link, task in rows:
        resolved = task.status == TaskStatus.RESOLVED
        async with deps.sessions() as session:  # claim the push: only one process replies
            claimed = cast(CursorResult[Any], await session.execute(
                update(DocumentCommentTask).where(col(DocumentCommentTask.id) == link.id,
                                                  col(DocumentCommentTask.task_status) == link.task_status)
                .values(task_status=task.status, comment_resolved=resolved)
                .execution_options(synchronize_session=False))).rowcount
            await session.commit()
        if claimed != 1:
            continue
        reply = "Resolved in Slack (warroom task)." if resolved else "Re-opened in Slack (warroom task)."
        try:
            await deps.ports.documents.resolve_comment(document_id, link.comment_id, reply, resolved=resolved)
        except PortError:
            async with deps.sessions() as session:  # give the claim back: the next run tries again
                await session.execute(update(DocumentCommentTask).where(col(DocumentCommentTask.id) == link.id)
                                      .values(task_status=link.task_status, comment_resolved=link.comment_resolved))
                await session.commit()
            raise
        pushed += 1
    return pushed


async def _actor(session: AsyncSession, incident: Incident, email: str | None) -> str:
    """The Slack user behind a comment's author (their contact), else the incident's commander or reporter."""
    if email:
        found = (await session.execute(select(col(IndividualContact.slack_user_id)).where(
            func.lower(col(IndividualContact.email)) == email.lower()))).scalars().first()
        if found:
            return str(found)
    contact_id = incident.commander_id or incident.reporter_id
    contact = await session.get(IndividualContact, contact_id)
    return contact.slack_user_id if contact else (await ensure_contact(session, "USLACKBOT")).slack_user_id
