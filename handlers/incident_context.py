"""Shared guard of incident commands: run in an incident channel, by someone allowed to."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncRespond

from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.incidents.queries import Incident, incident_for_command
from modals.renderers import render


async def say(respond: AsyncRespond, notice: Notice) -> None:
    text, blocks = render(notice)
    await respond(response_type="ephemeral", text=text, blocks=blocks)


async def incident_here(deps: Deps, body: dict[str, Any], respond: AsyncRespond, *, managing: bool) -> Incident | None:
    """The incident of the command's channel (or, for managing commands, named first in its text),
    or None after an ephemeral refusal (see `incident_for_command`)."""
    async with deps.sessions() as session:
        found = await incident_for_command(
            session, deps.config, user_id=body["user_id"], channel_id=body.get("channel_id"), text=body.get("text"),
            command=body.get("command", ""), managing=managing)
    if isinstance(found, Notice):
        await say(respond, found)
        return None
    return found
