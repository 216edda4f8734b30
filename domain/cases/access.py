"""Who warroom lets into a case whose work is not for everyone who can see its card.

A case is *sealed* when it was escalated to a Restricted incident, when its type is Restricted or escalates
to a Restricted incident type (its own channel is then private), or when its own channel is private.
The card of a sealed case stays visible where it was posted, but warroom never brings someone
from outside into its work: Join refuses, a thread reply makes nobody a participant, only
people already working it may reassign it, and naming it from elsewhere answers as for an
unknown name. Insiders are the case's participants and admins; once the case became a
Restricted incident, the incident's participants (current or past) and admins.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from domain.cases.service import case_for_command, case_participants
from domain.config.schema import WarroomConfig
from domain.core.deps import Deps
from domain.core.ports import ConversationPort, PortError
from domain.core.vocabulary import Visibility
from domain.incidents.queries import is_participant
from storage.case_models import Case
from storage.models import Incident, IncidentType, Project

RESTRICTED_INCIDENT = "restricted incident"
RESTRICTED_TYPE = "restricted type"
PRIVATE_CHANNEL = "private channel"


@dataclass(frozen=True)
class CaseAccess:
    """Whether a case is sealed (and why), and whether one person is inside it."""

    sealed: str | None  # RESTRICTED_INCIDENT, RESTRICTED_TYPE, PRIVATE_CHANNEL or None
    insider: bool
    incident: Incident | None  # the incident it was escalated to

    @property
    def shut_out(self) -> bool:
        """Sealed, and this person is outside it."""
        return self.sealed is not None and not self.insider


async def restricted_type(session: AsyncSession, case: Case, config: WarroomConfig) -> bool:
    """Whether the case's type is Restricted, or the incident type it would escalate to is."""
    ctype = config.cases.type(case.case_type)
    if ctype.visibility == Visibility.RESTRICTED:
        return True
    project_name = ctype.project or config.default_project().name
    query = (select(IncidentType).join(Project, col(Project.id) == col(IncidentType.project_id))
             .where(col(Project.name) == project_name, col(IncidentType.enabled))
             .order_by(col(IncidentType.default).desc(), col(IncidentType.id)))
    types = (await session.execute(query)).scalars().all()
    itype = next((t for t in types if ctype.incident_type and t.name.casefold() == ctype.incident_type.casefold()),
                 types[0] if types else None)
    return itype is not None and itype.visibility == Visibility.RESTRICTED


async def channel_is_private(conversation: ConversationPort, channel_id: str) -> bool:
    """Asked of Slack (an admin may have converted it); a channel that cannot be checked counts as private."""
    try:
        return await conversation.is_private(channel_id)
    except PortError:
        return True


async def case_access(session: AsyncSession, case: Case, user_id: str, config: WarroomConfig,
                      channel_private: bool = False) -> CaseAccess:
    """How sealed `case` is and whether `user_id` is inside it (`channel_private`: its own channel is); commits nothing."""
    incident = await session.get(Incident, case.incident_id) if case.incident_id else None
    admin = user_id in config.admins
    if incident is not None and incident.visibility == Visibility.RESTRICTED:
        return CaseAccess(RESTRICTED_INCIDENT, admin or await is_participant(session, incident.id, user_id), incident)
    sealed = None
    if incident is None and await restricted_type(session, case, config):
        sealed = RESTRICTED_TYPE
    elif case.channel_id and channel_private:
        sealed = PRIVATE_CHANNEL
    insider = (admin or user_id in await case_participants(session, case.id)
               or (incident is not None and await is_participant(session, incident.id, user_id)))
    return CaseAccess(sealed, insider, incident)


async def access_of(sessions: async_sessionmaker[AsyncSession], case_id: int, user_id: str, config: WarroomConfig,
                    conversation: ConversationPort) -> tuple[Case, CaseAccess] | None:
    """(case, access) with the case's own channel checked with Slack, outside any transaction; None
    when there is no such case."""
    async with sessions() as session:
        case = await session.get(Case, case_id)
        channel = case.channel_id if case else None
        await session.commit()
    if case is None:
        return None
    private = await channel_is_private(conversation, channel) if channel else False
    async with sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:  # deleted meanwhile
            return None
        access = await case_access(session, case, user_id, config, private)
        await session.commit()
    return case, access


def who_can_add(case: Case) -> str:
    """The person to ask, as a mention: the assignee (shown on the card), else the reporter."""
    person = case.assignee or case.reporter
    return f"<@{person}>" if person else "the people working it"


async def case_for_command_of(deps: Deps, text: str | None, channel_id: str | None, user_id: str) -> Case | None:
    """The case a command is about (named first in its text, else the one whose channel it ran in). A sealed
    case named from elsewhere does not exist to someone outside it: the same answer as an unknown name."""
    async with deps.sessions() as session:
        named = await case_for_command(session, text, None) if text else None
        here = await case_for_command(session, None, channel_id)
        await session.commit()
    if named is not None and (here is None or here.id != named.id):
        found = await access_of(deps.sessions, named.id, user_id, deps.config, deps.ports.conversation)
        if found is None or found[1].shut_out:
            named = None
    return named or here
