"""Shared guard of incident commands: run in an incident channel, by someone allowed to."""

from __future__ import annotations

from domain.command_notices import IncidentRef, NotAllowed, NotInIncidentChannel
from domain.deps import Deps
from domain.incident_channel import active_incidents_of, incident_for_channel, may_manage
from modals.messages import render
from storage.models import Incident


async def say(respond, notice) -> None:
    text, blocks = render(notice)
    await respond(response_type="ephemeral", text=text, blocks=blocks)


async def incident_here(deps: Deps, body: dict, respond, *, managing: bool) -> Incident | None:
    """The incident of the command's channel, or None after an ephemeral refusal.

    Outside an incident channel the refusal lists the runner's active incidents; with
    `managing`, only the commander, scribes and admins get through.
    """
    user, command = body["user_id"], body.get("command", "")
    async with deps.sessions() as session:
        incident = await incident_for_channel(session, body.get("channel_id"))
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
