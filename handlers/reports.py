"""Listeners for tactical and executive reports and their reminders."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.incidents.queries import may_manage_id
from domain.reports import EXECUTIVE, SNOOZE_MINUTES, TACTICAL, report_form, snooze
from domain.response.assistant import draft_available
from domain.response.stakeholders import post_report_and_email
from handlers.incident_context import incident_here, still_allowed
from handlers.registry import Registry, Submission
from modals.reports import CALLBACK_ID, SNOOZE_ACTION, WRITE_ACTION, parse_report, report_modal


def register(reg: Registry, deps: Deps) -> None:
    """`/…-report-tactical`, `/…-report-executive`, the report modal and reminder buttons."""
    conv = deps.ports.conversation

    async def open_report(client: AsyncWebClient, trigger_id: str, incident_id: int, kind: str, user: str) -> None:
        async with deps.sessions() as session:
            channel_id, defaults = await report_form(session, incident_id, kind)
        ai_draft = kind == TACTICAL and await draft_available(deps, incident_id)
        if channel_id is None:  # reports are posted in the incident channel, which its set-up has not created yet
            await conv.send_direct(user, PlainNotice("This incident has no channel yet (its set-up has not finished); "
                                                     "write the report once it has one."))
            return
        await client.views_open(trigger_id=trigger_id, view=report_modal(kind, incident_id, channel_id, defaults,
                                                                         ai_draft=ai_draft))

    def command(kind: str, name: str, description: str) -> None:
        @reg.command(name, description, "[INC-n]")
        async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
            await ack()
            incident = await incident_here(deps, body, respond, managing=True)
            if incident is not None:
                await open_report(client, body["trigger_id"], incident.id, kind, body["user_id"])

    command(TACTICAL, deps.config.commands.report_tactical, "Post a tactical report (conditions, actions, needs)")
    command(EXECUTIVE, deps.config.commands.report_executive, "Post an executive report for stakeholders")

    @reg.submission(CALLBACK_ID, parse_report, check=still_allowed(deps, lambda form: form["incident"], managing=True))
    async def on_submit(sub: Submission[dict[str, Any]]) -> None:
        form = sub.form
        await post_report_and_email(deps, form["incident"], form["kind"], form["details"], channel=form["channel"],
                          author=sub.user_id)

    async def reminded(user: str, incident_id: str) -> bool:
        """Whether `user` may still write the reports of a reminder button's incident; if not, tell them (the
        same answer for an unknown incident and one they may not manage, restricted or not)."""
        async with deps.sessions() as session:
            allowed = await may_manage_id(session, int(incident_id), user, deps.config)
        if not allowed:
            await conv.send_direct(user, PlainNotice("Only an incident's commander, scribes and admins can write "
                                                     "its reports or snooze their reminders."))
        return allowed

    @reg.action(WRITE_ACTION)
    async def on_write(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        kind, incident_id = body["actions"][0]["value"].split(":")
        if await reminded(body["user"]["id"], incident_id):
            await open_report(client, body["trigger_id"], int(incident_id), kind, body["user"]["id"])

    for minutes in SNOOZE_MINUTES:

        @reg.action(f"{SNOOZE_ACTION}_{minutes}")
        async def on_snooze(ack: AsyncAck, body: dict[str, Any]) -> None:
            await ack()
            kind, incident_id, mins = body["actions"][0]["value"].split(":")
            if not await reminded(body["user"]["id"], incident_id):
                return
            async with deps.sessions() as session:
                await snooze(session, int(incident_id), kind, int(mins))
            await conv.send_direct(body["user"]["id"], PlainNotice(f"OK, I will remind you again in {mins} minutes."))


