"""AI helpers on an incident: the read-in of `/…-summary`, the tactical-report draft, the summary at close.

Everything sent is built here from what warroom stores (facts, participants, tasks, reports, timeline)
and the channel's recent messages, then redacted and bounded by `domain.core.ai.ask`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.config.ai import AIConfig
from domain.core.ai import AIUnavailable, Prompt, ask
from domain.core.ai_notices import AIAnswer, AIFailed
from domain.core.deps import Deps
from domain.core.ports import ConversationPort, MessageRef, PortError
from domain.core.vocabulary import IncidentStatus, TaskStatus
from domain.incidents.queries import submit_refusal
from domain.incidents.service import incident_facts
from domain.participants import active_participants
from domain.reports import EXECUTIVE, FIELDS, TACTICAL, latest_report
from domain.response.summary import closing_summary
from domain.tasks import incident_tasks
from storage.ai_models import AI_CLOSE, AI_INCIDENT, AISummary
from storage.models import Event, Incident, IndividualContact
from storage.rows import must_get
from storage.types import utcnow
from storage.upsert import upsert_insert

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
USER_ID = re.compile(r"\b[UW][A-Z0-9]{6,}\b")
FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
INCIDENT, CLOSE = AI_INCIDENT, AI_CLOSE

READIN_SYSTEM = (
    "You brief a responder who is joining an incident. Using only the facts, timeline and messages given, write "
    "a short read-in in plain text (no tables) under four headings: What happened; Current status; Open tasks; "
    "Who is doing what. At most 15 lines. Say so when something is unknown; never invent names or numbers.")
DRAFT_SYSTEM = (
    "You draft a tactical report for an incident from the facts, timeline and messages given. Answer with a JSON "
    "object with the keys: conditions, actions, needs. conditions: the current situation and impact; actions: what "
    "is being done and by whom; needs: what the responders need (people, access, decisions), or 'None'. Plain text "
    "values, each at most 6 short lines; use only the information given.")
CLOSE_SYSTEM = (
    "You write the closing summary of an incident for the people who worked on it and their stakeholders, from the "
    "facts, timeline and messages given. Plain text, at most 8 lines: what happened, impact, how it was resolved, "
    "follow-ups still open. Use only the information given.")


def ai_config_for(deps: Deps, project: str | None, feature: str) -> AIConfig | None:
    """The AI config when `feature` is on for `project`, else None (AI off: nothing is sent)."""
    ai = deps.config.ai
    if ai is None or not getattr(ai.features, feature) or not ai.enabled_for(project):
        return None
    return ai


@dataclass(frozen=True)
class Material:
    """An incident as the AI will read it."""

    name: str
    project: str
    channel_id: str | None
    header: str
    events: list[tuple[datetime, str]]  # timeline, (when, line)
    names: dict[str, str]  # Slack user id -> name, for the messages


def _at(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _stamp(when: datetime) -> str:
    return _at(when).strftime("%Y-%m-%d %H:%M UTC")


async def incident_material(session: AsyncSession, incident: Incident) -> Material:
    facts = await incident_facts(session, incident)
    people = await active_participants(session, incident.id)
    names = {p.user_id: p.name for p in people}
    for uid in filter(None, (facts.commander, facts.reporter)):
        if uid not in names:
            contact = (await session.execute(select(IndividualContact).where(
                col(IndividualContact.slack_user_id) == uid))).scalar_one_or_none()
            names[uid] = contact.name if contact else uid
    tasks = await incident_tasks(session, incident)
    lines = [
        f"Incident {facts.name}: {facts.title}",
        f"Status: {facts.status} · Type: {facts.incident_type} · Priority: {facts.priority} · "
        f"Severity: {facts.severity} · Reported {_stamp(facts.created_at)}",
        f"Commander: {names.get(facts.commander or '', 'nobody')} · Reporter: {names.get(facts.reporter, facts.reporter)}",
        f"Description: {facts.description or '(none)'}",
    ]
    if incident.resolution:
        lines.append(f"Resolution: {incident.resolution}")
    lines.append("Participants: " + ("; ".join(
        f"{p.name} ({', '.join(p.roles) or 'Participant'}{', ' + p.team if p.team else ''})" for p in people) or "none"))
    for status in (TaskStatus.OPEN, TaskStatus.RESOLVED):
        these = [t for t in tasks if t.status == status]
        lines.append(f"{status} tasks: " + ("; ".join(
            f"{t.description} (assigned to {', '.join(names.get(a, a) for a in t.assignees) or 'nobody'})"
            for t in these) or "none"))
    for kind in (TACTICAL, EXECUTIVE):
        report = await latest_report(session, incident.id, kind)
        if report is not None:
            parts = " | ".join(f"{label}: {report.details.get(key, '')}" for key, label in FIELDS[kind])
            lines.append(f"Latest {kind} report ({_stamp(report.created_at)}): {parts}")
    rows = (await session.execute(
        select(Event, col(IndividualContact.name))
        .outerjoin(IndividualContact, col(IndividualContact.id) == col(Event.author_id))
        .where(col(Event.incident_id) == incident.id).order_by(col(Event.started_at), col(Event.id)))).all()
    events = [(_at(e.started_at), f"{_stamp(e.started_at)} · timeline · {who + ': ' if who else ''}{e.description}")
              for e, who in rows]
    return Material(facts.name, facts.project, incident.channel_id, "\n".join(lines), events, names)


async def recent_messages(conv: ConversationPort, channel_id: str | None, limit: int,
                          names: dict[str, str]) -> list[tuple[datetime, str]]:
    """The channel's last `limit` messages people wrote (the bot's own posts and joins left out), oldest
    first; none when the channel cannot be read (the read-in goes on without them)."""
    if not channel_id or limit <= 0:
        return []
    try:
        page = await conv.history(channel_id)
    except PortError as exc:
        log.warning("AI read-in: could not read %s history: %s", channel_id, exc)
        return []
    said = [m for m in page.messages if not m.bot and not m.subtype and m.text.strip()][:limit]
    out = []
    for m in reversed(said):
        when = datetime.fromtimestamp(float(m.ts), UTC)
        text = MENTION.sub(lambda match: "@" + names.get(match.group(1), match.group(1)), m.text)
        out.append((when, f"{_stamp(when)} · message · {names.get(m.user or '', m.user or 'someone')}: {text}"))
    return out


async def incident_prompt(deps: Deps, incident_id: int, system: str, ai: AIConfig) -> tuple[Material, Prompt]:
    """The incident's material (read in one short transaction) and the prompt built from it with the channel's
    recent messages (read after the transaction: no transaction is held across a network call)."""
    async with deps.sessions() as session:
        material = await incident_material(session, await must_get(session, Incident, incident_id))
    messages = await recent_messages(deps.ports.conversation, material.channel_id, ai.history_messages, material.names)
    history = sorted([*material.events, *messages], key=lambda item: item[0])
    return material, Prompt(system, named(material.header, material.names),
                            [named(line, material.names) for _, line in history])


def named(text: str, names: dict[str, str]) -> str:
    """Slack user ids (bare or as mentions) replaced by the people's names where known."""
    text = MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    return USER_ID.sub(lambda m: names.get(m.group(0), m.group(0)), text)


async def incident_readin(deps: Deps, incident_id: int, ai: AIConfig) -> AIAnswer | AIFailed:
    """The read-in of `/…-summary` (the caller checked who may see it)."""
    material, prompt = await incident_prompt(deps, incident_id, READIN_SYSTEM, ai)
    title = f"Read-in · {material.name}"
    try:
        return AIAnswer(title, await ask(deps.ports.ai, ai, prompt))
    except AIUnavailable as exc:
        return AIFailed(title, exc.message)


def parse_draft(answer: str, keys: list[str]) -> dict[str, str]:
    """{key: text} from the model's JSON answer (a ```json fence tolerated); AIUnavailable when unreadable."""
    try:
        data = json.loads(FENCE.sub("", answer.strip()))
    except json.JSONDecodeError:
        match = re.search(r"\{[\s\S]*\}", answer)
        try:
            data = json.loads(match.group(0)) if match else None
        except json.JSONDecodeError:
            data = None
    if not isinstance(data, dict):
        raise AIUnavailable("The AI's answer was not a draft warroom could read. Try again, or write it yourself.")
    draft = {}
    for key in keys:
        value = data.get(key)
        if isinstance(value, list):
            value = "\n".join(f"• {v}" for v in value)
        if value is not None and str(value).strip():
            draft[key] = str(value).strip()
    if not draft:
        raise AIUnavailable("The AI's draft was empty. Try again, or write it yourself.")
    return draft


async def draft_available(deps: Deps, incident_id: int) -> bool:
    """Whether the tactical form of this incident offers *Draft with AI* (nothing is sent to open it)."""
    if deps.config.ai is None:
        return False
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        project = (await incident_facts(session, incident)).project
    return ai_config_for(deps, project, "tactical_draft") is not None


async def tactical_draft(deps: Deps, incident_id: int, user_id: str) -> dict[str, str]:
    """Conditions / Actions / Needs drafted by the AI for someone who may write the incident's reports.
    Raises AIUnavailable (with why) when it cannot help or the person may not (any longer)."""
    async with deps.sessions() as session:
        refusal = await submit_refusal(session, incident_id, user_id, deps.config, managing=True)
        if refusal is not None:
            raise AIUnavailable(refusal, "refused")
        incident = await must_get(session, Incident, incident_id)
        project = (await incident_facts(session, incident)).project
    ai = ai_config_for(deps, project, "tactical_draft")
    if ai is None:
        raise AIUnavailable("AI drafting is not enabled for this incident's project.", "ai_disabled")
    _, prompt = await incident_prompt(deps, incident_id, DRAFT_SYSTEM, ai)
    return parse_draft(await ask(deps.ports.ai, ai, prompt), [key for key, _ in FIELDS[TACTICAL]])


async def store_summary(session: AsyncSession, subject: str, subject_id: int, kind: str, *, text: str | None,
                        error: str | None, model: str | None) -> None:
    """Keep what the AI wrote (or why it did not) for a subject; a later one replaces it. Commits."""
    state = "done" if text is not None else "failed"
    now = utcnow()
    await session.execute(
        upsert_insert(session, AISummary)
        .values(subject=subject, subject_id=subject_id, kind=kind, state=state, text=text, error=error, model=model,
                created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=["subject", "subject_id", "kind"],
                               set_={"state": state, "text": text, "error": error, "model": model, "updated_at": now}))
    await session.commit()


async def stored_summary(session: AsyncSession, subject: str, subject_id: int, kind: str) -> AISummary | None:
    return (await session.execute(select(AISummary).where(
        col(AISummary.subject) == subject, col(AISummary.subject_id) == subject_id,
        col(AISummary.kind) == kind))).scalar_one_or_none()


async def closing_ai_summary(deps: Deps, incident_id: int) -> AIAnswer | AIFailed | None:
    """The AI summary of a closing incident, stored; None when AI is off for it."""
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        project = (await incident_facts(session, incident)).project
    ai = ai_config_for(deps, project, "close_summary")
    if ai is None:
        return None
    material, prompt = await incident_prompt(deps, incident_id, CLOSE_SYSTEM, ai)
    title = f"AI summary · {material.name}"
    try:
        text = await ask(deps.ports.ai, ai, prompt)
    except AIUnavailable as exc:
        async with deps.sessions() as session:
            await store_summary(session, INCIDENT, incident_id, CLOSE, text=None, error=exc.message, model=ai.model)
        return AIFailed(title, exc.message)
    async with deps.sessions() as session:
        await store_summary(session, INCIDENT, incident_id, CLOSE, text=text, error=None, model=ai.model)
    return AIAnswer(title, text)


CLOSE_LEASE = timedelta(minutes=10)  # a close summary still pending after this was left by a dead process


async def add_ai_summary(deps: Deps, incident_id: int, channel_id: str, message: object) -> None:
    """Write the AI summary of a closing incident into its closing message (posted saying "Thinking…"), stored;
    or say there why there is none. Recorded first (pending, with the message), so a process dying meanwhile
    leaves it for `finish_close_summaries`. Runs before the channel is archived."""
    if not isinstance(message, MessageRef):
        return
    async with deps.sessions() as session:
        now = utcnow()
        await session.execute(
            upsert_insert(session, AISummary)
            .values(subject=INCIDENT, subject_id=incident_id, kind=CLOSE, state="pending", message_ts=message.ts,
                    created_at=now, updated_at=now)
            .on_conflict_do_update(index_elements=["subject", "subject_id", "kind"],
                                   set_={"state": "pending", "message_ts": message.ts, "updated_at": now}))
        await session.commit()
    await _fill_closing_message(deps, incident_id, channel_id, message.ts)


async def _fill_closing_message(deps: Deps, incident_id: int, channel_id: str, ts: str) -> None:
    answer = await closing_ai_summary(deps, incident_id)
    if answer is None:
        return
    async with deps.sessions() as session:  # as it reads now: the answer just stored, the cost job's latest figure
        final = await closing_summary(session, await must_get(session, Incident, incident_id), deps.config)
    if isinstance(answer, AIFailed):
        final = replace(final, ai_note=answer.reason)
    try:
        await deps.ports.conversation.update(channel_id, ts, final)
    except PortError as exc:
        log.warning("closing message of incident %s not given its AI summary: %s", incident_id, exc)


async def finish_close_summaries(deps: Deps) -> int:
    """Close summaries a dead process left at "Thinking…": ask again, edit the closing message, and archive the
    channel if the close should have. Each is claimed (its lease renewed) so one process does it; returns how many."""
    if deps.config.ai is None:
        return 0
    stale = utcnow() - CLOSE_LEASE
    async with deps.sessions() as session:
        rows = (await session.execute(select(AISummary).where(
            col(AISummary.subject) == INCIDENT, col(AISummary.kind) == CLOSE, col(AISummary.state) == "pending",
            col(AISummary.updated_at) < stale, col(AISummary.message_ts).is_not(None)))).scalars().all()
        await session.commit()
    done = 0
    for row in rows:
        async with deps.sessions() as session:
            claimed = await session.execute(update(AISummary).where(
                col(AISummary.id) == row.id, col(AISummary.updated_at) == row.updated_at).values(updated_at=utcnow()))
            incident = await session.get(Incident, row.subject_id)
            facts = await incident_facts(session, incident) if incident is not None else None
            await session.commit()
        if not cast(CursorResult[Any], claimed).rowcount or incident is None or facts is None or not incident.channel_id:
            continue
        await _fill_closing_message(deps, incident.id, incident.channel_id, str(row.message_ts))
        if deps.config.archive_on_close and incident.status == IncidentStatus.CLOSED:
            await deps.ports.conversation.archive(incident.channel_id)
        done += 1
    return done
