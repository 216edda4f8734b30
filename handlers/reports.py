"""Listeners for tactical and executive reports and their reminders."""

from __future__ import annotations

import asyncio

from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.reports import EXECUTIVE, SNOOZE_MINUTES, TACTICAL, report_defaults, save_report, snooze
from handlers.incident_context import incident_here
from handlers.registry import Registry
from modals.reports import CALLBACK_ID, SNOOZE_ACTION, WRITE_ACTION, parse_report, report_modal
from storage.models import Incident


def register(reg: Registry, deps: Deps) -> None:
    """`/…-report-tactical`, `/…-report-executive`, the report modal and reminder buttons."""
    conv = deps.ports.conversation

    async def open_report(client, trigger_id: str, incident: Incident, kind: str) -> None:
        async with deps.sessions() as session:
            defaults = await report_defaults(session, incident, kind)
        await client.views_open(trigger_id=trigger_id, view=report_modal(kind, incident.id, incident.channel_id, defaults))

    def command(kind: str, name: str, description: str) -> None:
        @reg.command(name, description, "[INC-n]")
        async def on_command(ack, body, client, respond):
            await ack()
            incident = await incident_here(deps, body, respond, managing=True)
            if incident is not None:
                await open_report(client, body["trigger_id"], incident, kind)

    command(TACTICAL, deps.config.commands.report_tactical, "Post a tactical report (conditions, actions, needs)")
    command(EXECUTIVE, deps.config.commands.report_executive, "Post an executive report for stakeholders")

    @reg.view(CALLBACK_ID)
    async def on_submit(ack, body, view):
        form, errors = parse_report(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        async with deps.sessions() as session:
            incident = await session.get(Incident, form["incident"])
            posted, recipients = await save_report(session, incident, form["kind"], form["details"], body["user"]["id"],
                                                   deps.config)
        # Recipients are people (DM) and notification channels; a user id posts as a DM.
        effects = [conv.post(form["channel"], posted), *(conv.post(target, posted) for target in recipients)]
        if form["kind"] == EXECUTIVE:
            effects.append(deps.ports.documents.add_report(posted.incident_name, posted.kind, posted.details))
        await asyncio.gather(*effects)

    @reg.action(WRITE_ACTION)
    async def on_write(ack, body, client):
        await ack()
        kind, incident_id = body["actions"][0]["value"].split(":")
        async with deps.sessions() as session:
            incident = await session.get(Incident, int(incident_id))
        await open_report(client, body["trigger_id"], incident, kind)

    for minutes in SNOOZE_MINUTES:

        @reg.action(f"{SNOOZE_ACTION}_{minutes}")
        async def on_snooze(ack, body):
            await ack()
            kind, incident_id, mins = body["actions"][0]["value"].split(":")
            async with deps.sessions() as session:
                await snooze(session, int(incident_id), kind, int(mins))
            await conv.send_direct(body["user"]["id"], PlainNotice(f"OK, I will remind you again in {mins} minutes."))


