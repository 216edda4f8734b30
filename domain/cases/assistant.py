"""AI on cases, and where `/…-summary` goes: the read-in of the incident or case whose channel it ran in,
and the optional short analysis posted in the thread of a new signal case's card."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.cases.access import access_of
from domain.cases.service import case_by_channel, case_facts
from domain.config.ai import AIConfig
from domain.core.ai import AIUnavailable, Prompt, ask
from domain.core.ai_notices import AIAnswer, AIFailed, AIThinking
from domain.core.deps import Deps
from domain.core.notices import Notice, PlainNotice
from domain.core.ports import PortError
from domain.incidents.notices import IncidentRef, NotInIncidentChannel
from domain.incidents.queries import active_incidents_of, incident_for_channel, may_see
from domain.response.assistant import (
    ai_config_for,
    finish_close_summaries,
    incident_readin,
    recent_messages,
)
from storage.ai_models import AISummary
from storage.case_models import Case, CaseEvent
from storage.models import Project
from storage.rows import must_get
from storage.types import utcnow
from storage.upsert import upsert_insert

log = logging.getLogger(__name__)

CASE = "case"
ANALYSIS = "analysis"
AI_OFF = ("AI read-ins are not enabled here: an admin can turn them on with the ai: section of warroom's config "
          "(for this project).")

CASE_READIN_SYSTEM = (
    "You brief someone picking up a security or reliability case. Using only the facts, timeline and messages "
    "given, write a short read-in in plain text under three headings: What happened; Current status; Who is doing "
    "what. At most 12 lines. Say so when something is unknown; never invent names or numbers.")
ANALYSIS_SYSTEM = (
    "You triage an alert that opened a case. From the facts given, write at most 5 short plain-text lines: what the "
    "alert suggests, what to check first (using the runbook when one is given), and how urgent it looks. "
    "Use only the information given.")


@dataclass(frozen=True)
class Subject:
    """What a `/…-summary` is about: an incident or a case the person may see, with AI on for it."""

    kind: str  # "incident" | "case"
    id: int
    name: str
    ai: AIConfig


def case_project(deps: Deps, case: Case) -> str:
    return deps.config.cases.type(case.case_type).project or deps.config.default_project().name


async def summary_subject(deps: Deps, *, user_id: str, channel_id: str | None, command: str) -> Subject | Notice:
    """The incident or case of the channel `/…-summary` ran in, or the notice refusing it.

    Outside an incident or case channel, and to someone outside a restricted incident or a sealed case,
    the answer is the same: the command only works in an incident channel, with the person's own incidents."""
    async with deps.sessions() as session:
        incident = await incident_for_channel(session, channel_id)
        visible = incident is not None and await may_see(session, incident, user_id, deps.config)
        case = await case_by_channel(session, channel_id) if incident is None and channel_id else None
        mine = [IncidentRef(i.name, i.title, i.status, i.channel_id) for i in await active_incidents_of(session, user_id)]
        project = (await _incident_project(session, incident.project_id)) if incident is not None and visible else None
        await session.commit()
    unknown = NotInIncidentChannel(command, mine)
    if incident is not None:
        if not visible:
            return unknown
        ai = ai_config_for(deps, project, "summary")
        return Subject("incident", incident.id, incident.name, ai) if ai else PlainNotice(AI_OFF)
    if case is None:
        return unknown
    found = await access_of(deps.sessions, case.id, user_id, deps.config, deps.ports.conversation)
    if found is None or found[1].shut_out:
        return unknown
    ai = ai_config_for(deps, case_project(deps, case), "summary")
    return Subject(CASE, case.id, case.name, ai) if ai else PlainNotice(AI_OFF)


async def _incident_project(session: AsyncSession, project_id: int) -> str | None:
    row = await session.execute(select(col(Project.name)).where(col(Project.id) == project_id))
    return row.scalar_one_or_none()


def thinking(subject: Subject) -> AIThinking:
    return AIThinking(f"a read-in of {subject.name}")


async def readin(deps: Deps, subject: Subject) -> AIAnswer | AIFailed:
    """The AI read-in of `subject` (an AIFailed saying why when the AI does not help in time)."""
    if subject.kind == "incident":
        return await incident_readin(deps, subject.id, subject.ai)
    title = f"Read-in · {subject.name}"
    prompt = await case_prompt(deps, subject.id, CASE_READIN_SYSTEM, subject.ai)
    try:
        return AIAnswer(title, await ask(deps.ports.ai, subject.ai, prompt))
    except AIUnavailable as exc:
        return AIFailed(title, exc.message)


def _stamp(when: datetime) -> str:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).strftime("%Y-%m-%d %H:%M UTC")


async def case_prompt(deps: Deps, case_id: int, system: str, ai: AIConfig, *, with_messages: bool = True) -> Prompt:
    """A case as the AI reads it: its facts, then timeline and conversation (thread or own channel), oldest first."""
    async with deps.sessions() as session:
        case = await must_get(session, Case, case_id)
        facts = await case_facts(session, case, deps.config)
        events = (await session.execute(select(CaseEvent).where(col(CaseEvent.case_id) == case_id)
                                        .order_by(col(CaseEvent.started_at), col(CaseEvent.id)))).scalars().all()
        await session.commit()
    header = [f"Case {facts.name}: {facts.title}",
              f"Status: {facts.status} · Type: {facts.case_type} · Priority: {facts.priority} · Severity: {facts.severity}"
              f" · Opened {_stamp(facts.created_at)}",
              f"Assignee: {facts.assignee or 'nobody'} · Reporter: {facts.reporter or 'an alert'}",
              f"Description: {facts.description or '(none)'}"]
    if facts.signal_definition:
        header.append(f"Alert: {facts.signal_definition} ({facts.alert_count} alerts)"
                      + (f" · Runbook: {facts.runbook}" if facts.runbook else ""))
    if facts.entities:
        header.append("Entities: " + "; ".join(f"{t}={v}" for t, v in facts.entities))
    if facts.resolution:
        header.append(f"Resolution ({facts.resolution_reason}): {facts.resolution}")
    history = [(e.started_at if e.started_at.tzinfo else e.started_at.replace(tzinfo=UTC),
                f"{_stamp(e.started_at)} · timeline · {e.description}") for e in events]
    if with_messages:
        history += await case_messages(deps, case, ai)
    history.sort(key=lambda item: item[0])
    return Prompt(system, "\n".join(header), [line for _, line in history])


async def case_messages(deps: Deps, case: Case, ai: AIConfig) -> list[tuple[datetime, str]]:
    """The case's conversation: its own channel's recent messages, else its card's thread replies."""
    conv = deps.ports.conversation
    if case.channel_id:
        return await recent_messages(conv, case.channel_id, ai.history_messages, {})
    if not (case.card_channel_id and case.card_ts):
        return []
    try:
        page = await conv.replies(case.card_channel_id, case.card_ts)
    except PortError as exc:
        log.warning("AI read-in: could not read the thread of %s: %s", case.name, exc)
        return []
    said = [m for m in page.messages if not m.bot and not m.subtype and m.text.strip() and m.ts != case.card_ts]
    out = []
    for m in said[-ai.history_messages:] if ai.history_messages else []:
        when = datetime.fromtimestamp(float(m.ts), UTC)
        out.append((when, f"{_stamp(when)} · message · {m.user or 'someone'}: {m.text}"))
    return out


ANALYSIS_LEASE = timedelta(minutes=10)  # a claim older than this, still pending, is taken over
ANALYSIS_WINDOW = timedelta(days=1)  # only cases this recent get an analysis (turning it on analyses no backlog)


async def cases_to_analyse(deps: Deps, limit: int = 20) -> list[int]:
    """Recent signal cases whose card is posted and that have no analysis yet, AI on for their project."""
    now = utcnow()
    async with deps.sessions() as session:
        done = select(col(AISummary.subject_id)).where(col(AISummary.subject) == CASE, col(AISummary.kind) == ANALYSIS,
                                                       or_(col(AISummary.state) != "pending",
                                                           col(AISummary.updated_at) >= now - ANALYSIS_LEASE))
        cases = (await session.execute(
            select(Case).where(col(Case.signal_definition).is_not(None), col(Case.card_ts).is_not(None),
                               col(Case.created_at) >= now - ANALYSIS_WINDOW, col(Case.id).not_in(done))
            .order_by(col(Case.id)).limit(limit))).scalars().all()
        await session.commit()
    return [c.id for c in cases if ai_config_for(deps, case_project(deps, c), "case_analysis")]


async def claim_analysis(session: AsyncSession, case_id: int) -> AISummary | None:
    """Claim the analysis of a case for this process (a stale pending claim is taken over); commits."""
    now = utcnow()
    stmt = (upsert_insert(session, AISummary)
            .values(subject=CASE, subject_id=case_id, kind=ANALYSIS, state="pending", created_at=now, updated_at=now)
            .on_conflict_do_update(index_elements=["subject", "subject_id", "kind"], set_={"updated_at": now},
                                   where=(col(AISummary.state) == "pending")
                                   & (col(AISummary.updated_at) < now - ANALYSIS_LEASE))
            .returning(col(AISummary.id)))
    claimed = (await session.execute(stmt)).first()
    await session.commit()
    return await session.get(AISummary, claimed[0], populate_existing=True) if claimed else None


async def analyse_case(deps: Deps, case_id: int) -> bool:
    """Post a short AI analysis in the thread of a signal case's card: "Thinking…" first (recorded), then the
    analysis or why there is none in its place; stored. At most once per case across processes."""
    async with deps.sessions() as session:
        row = await claim_analysis(session, case_id)
        case = await session.get(Case, case_id)
        await session.commit()
    if row is None or case is None or not (case.card_channel_id and case.card_ts):
        return False
    ai = ai_config_for(deps, case_project(deps, case), "case_analysis")
    if ai is None:
        return False
    conv, title = deps.ports.conversation, f"AI analysis · {case.name}"
    message_ts = row.message_ts
    if message_ts is None:
        posted = await conv.post(case.card_channel_id, AIThinking(f"an analysis of {case.name}"),
                                 thread_ts=case.card_ts)
        message_ts = posted.ts
        async with deps.sessions() as session:
            await session.execute(update(AISummary).where(col(AISummary.id) == row.id).values(message_ts=message_ts))
            await session.commit()
    prompt = await case_prompt(deps, case_id, ANALYSIS_SYSTEM, ai, with_messages=False)
    try:
        answer: AIAnswer | AIFailed = AIAnswer(title, await ask(deps.ports.ai, ai, prompt))
    except AIUnavailable as exc:
        answer = AIFailed(title, exc.message)
    await conv.update(case.card_channel_id, message_ts, answer)
    async with deps.sessions() as session:
        await session.execute(update(AISummary).where(col(AISummary.id) == row.id).values(
            state="done" if isinstance(answer, AIAnswer) else "failed", model=ai.model, updated_at=utcnow(),
            text=answer.text if isinstance(answer, AIAnswer) else None,
            error=answer.reason if isinstance(answer, AIFailed) else None))
        await session.commit()
    return True


async def ai_followups(deps: Deps) -> int:
    """The `ai_followups` job: close summaries a dead process left unfinished, then new signal cases' analyses."""
    return await finish_close_summaries(deps) + await analyse_new_signal_cases(deps)


async def analyse_new_signal_cases(deps: Deps) -> int:
    """Analyse every recent signal case that has no analysis; returns how many."""
    if deps.config.ai is None or not deps.config.ai.features.case_analysis:
        return 0
    done = 0
    for case_id in await cases_to_analyse(deps):
        try:
            done += await analyse_case(deps, case_id)
        except PortError as exc:  # Slack refused the post or edit: the claim lapses and a later run tries again
            log.warning("AI analysis of case %s not shown: %s", case_id, exc)
    return done
