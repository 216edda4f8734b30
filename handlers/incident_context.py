"""Shared guard of incident commands: run in an incident channel, by someone allowed to."""

from __future__ import annotations

from domain.core.deps import Deps
from domain.incidents.notices import IncidentRef, NotAllowed, NotInIncidentChannel
from domain.incidents.queries import active_incidents_of, incident_for_channel, incident_named, may_manage, may_see
from modals.renderers import render
from storage.models import Incident


async def say(respond, notice) -> None:
    text, blocks = render(notice)
    await respond(response_type="ephemeral", text=text, blocks=blocks)


async def incident_here(deps: Deps, body: dict, respond, *, managing: bool) -> Incident | None:
    """The incident of the command's channel, or None after an ephemeral refusal. Managing
    commands may name it first in their text (`INC-12`), so an archived incident can be reopened
    from any channel.

    Outside an incident channel the refusal lists the runner's active incidents; with
    `managing`, only the commander, scribes and admins get through.
    """
    user, command = body["user_id"], body.get("command", "")
    async with deps.sessions() as session:
        # Naming an incident is only honoured for managing commands, whose permission check follows:
        # nobody reads a restricted incident by guessing its name. To someone outside a restricted
        # incident its name is unknown: they get the answer an unknown name gets (no commander, no hint).
        named = await incident_named(session, body.get("text")) if managing else None
        if named is not None and not await may_see(session, named, user, deps.config):
            named = None
        incident = named or await incident_for_channel(session, body.get("channel_id"))
        if incident is None:
            mine = await active_incidents_of(session, user)
            await say(respond, NotInIncidentChannel(command, [IncidentRef(i.name, i.title, i.status, i.channel_id) for i in mine]))
            return None
        if managing:
            permission = await may_manage(session, incident, user, deps.config)
            if not permission.allowed:
                await say(respond, NotAllowed(command, permission.who_can, bool(deps.config.admins)))
                return None
    return incident
