"""Listeners of /dispatch-update-incident: open the pre-filled modal, apply the submission."""

from __future__ import annotations

import logging

from domain.core.deps import Deps
from domain.incidents.queries import may_manage
from domain.incidents.update import apply_update, check_update, update_options
from domain.response.update import publish_update
from handlers.incident_context import incident_here
from handlers.registry import Registry
from modals.update_incident import CALLBACK_ID, parse_update_submission, update_incident_modal
from storage.models import Incident

log = logging.getLogger(__name__)


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.update_incident, "Update the incident of this channel", "[INC-n]")
    async def on_command(ack, body, client, respond):
        await ack()
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is None:
            return
        async with deps.sessions() as session:
            options = await update_options(session, incident)
        await client.views_open(trigger_id=body["trigger_id"], view=update_incident_modal(options, incident.name))

    @reg.view(CALLBACK_ID)
    async def on_submit(ack, body, view):
        incident_id, form, errors = parse_update_submission(view)
        if not errors:
            async with deps.sessions() as session:
                errors = await check_update(session, incident_id, form)
                incident = await session.get(Incident, incident_id)
                if not errors and not (await may_manage(session, incident, body["user"]["id"], deps.config)).allowed:
                    errors = {"title": "You are no longer allowed to update this incident."}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        async with deps.sessions() as session:
            result = await apply_update(session, incident_id, form, body["user"]["id"], deps.config)
        await publish_update(deps.sessions, result, deps.ports, deps.config)
