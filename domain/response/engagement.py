"""Engagement rules (config as code): who to pull into an incident, matched on its text and fields."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config.engagement import EngagementRule
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.ports import PortError
from domain.core.vocabulary import IncidentStatus, Role
from domain.incidents.notices import IncidentFacts
from domain.incidents.service import incident_facts
from domain.incidents.tags import incident_tag_names
from domain.response.membership import Engage, engage
from domain.response.notices import EngagementSuggestion
from domain.timeline import record_event
from storage.models import Incident

log = logging.getLogger(__name__)
_NOT_WORD = re.compile(r"[^\w]+")


def normalize(text: str) -> str:
    """Lowercase with punctuation turned into single spaces."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def term_matches(term: str, text: str) -> bool:
    """A term matches a normalized `text` as a whole phrase or by any of its words."""
    term = normalize(term)
    if not term:
        return False
    padded, words = f" {text} ", set(text.split())
    return f" {term} " in padded or any(w in words for w in term.split())


def rule_matches(rule: EngagementRule, facts: IncidentFacts, tags: list[str]) -> bool:
    """OR semantics: any term, or the type, or the priority."""
    text = normalize(" ".join([facts.title, facts.description, *tags]))
    fold = str.casefold
    return (any(term_matches(t, text) for t in rule.terms)
            or fold(facts.incident_type) in map(fold, rule.incident_types)
            or fold(facts.priority) in map(fold, rule.priorities))


@dataclass(frozen=True)
class Targets:
    people: list[Engage]
    services: list[str]
    external: list[tuple[str, str]]


def targets(config: WarroomConfig, facts: IncidentFacts, tags: list[str]) -> Targets:
    rules = config.engagement
    people: list[Engage] = []
    external: list[tuple[str, str]] = []
    for person in rules.individuals:
        if rule_matches(person, facts, tags):
            if person.user:
                people.append(Engage(person.user, (Role.OBSERVER,), f"Engagement rule: {person.name}"))
            elif person.email:
                external.append((person.name, person.email))
    for team in rules.teams:
        if rule_matches(team, facts, tags):
            people += [Engage(uid, (Role.OBSERVER,), f"Engagement rule: team {team.name}") for uid in team.members]
            if team.email and not team.members:
                external.append((team.name, team.email))
    services = [s.name for s in rules.services if rule_matches(s, facts, tags)]
    return Targets(people, services, external)


async def run_engagement(deps: Deps, incident_id: int, facts: IncidentFacts | None = None) -> None:
    """Engage whoever the rules match (only while Active); nobody is engaged or suggested twice.
    `facts`: the incident's, when the caller just read them."""
    rules = deps.config.engagement
    if not (rules.individuals or rules.teams or rules.services):
        return  # nothing could match: not even the tags are read
    async with deps.sessions() as session:
        if facts is None:
            incident = await session.get(Incident, incident_id)
            facts = await incident_facts(session, incident) if incident is not None else None
        if facts is None or facts.status != IncidentStatus.ACTIVE or facts.channel_id is None:
            return
        tags = await incident_tag_names(session, incident_id)
    channel, found = facts.channel_id, targets(deps.config, facts, tags)
    people = list(found.people)
    for service in found.services:  # the pager's answer is awaited outside any transaction
        people += [Engage(uid, (Role.OBSERVER,), f"On call for {service}") for uid in await _on_call(deps, service)]
    fresh: list[tuple[str, str]] = []
    if found.external:
        async with deps.sessions() as session:
            fresh = [(name, email) for name, email in found.external if await _first_time(
                session, incident_id, f"suggest:{email.casefold()}", f"Suggested {name} ({email})")]
            await session.commit()
    unique = list({p.user_id: p for p in reversed(people)}.values())[::-1]
    await engage(deps, incident_id, unique)
    if fresh:
        await deps.ports.conversation.post(channel, EngagementSuggestion(facts.name, fresh))


async def _on_call(deps: Deps, service: str) -> list[str]:
    """The service's on-call people; none (logged) while the pager is down: the rest of the rules still apply."""
    try:
        return await deps.ports.oncall.resolve(service)
    except PortError as exc:
        log.warning("engagement: on-call of %s not found: %s", service, exc)
        return []


async def _first_time(session: AsyncSession, incident_id: int, key: str, description: str) -> bool:
    return await record_event(session, incident_id, description, dedupe_key=f"incident:{incident_id}:{key}")
