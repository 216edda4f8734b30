"""Listeners of /dispatch-update-incident: open the pre-filled modal, apply the submission."""

from __future__ import annotations

import logging

from domain.core.deps import Deps
from domain.incidents.update import update_errors, update_options
from domain.response.update import update_incident
from handlers.incident_context import incident_here
from handlers.registry import Registry
from modals.update_incident import CALLBACK_ID, parse_update_submission, update_incident_modal

log = logging.getLogger(__name__)


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.update_incident, "Update the incident of this channel")
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
                errors = await update_errors(session, incident_id, form, body["user"]["id"], deps.config)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await update_incident(deps, incident_id, form, actor=body["user"]["id"])
