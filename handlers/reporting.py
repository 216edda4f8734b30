"""Listeners for reporting an incident: slash command, message shortcut, modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.core.vocabulary import IncidentStatus
from domain.incidents.service import ReportIncidentForm, report_choices
from domain.incidents.tags import report_tag_errors
from domain.response.intake import accept_report, process_report
from handlers.registry import Errors, Registry, Submission
from modals.report_incident import (
    CALLBACK_ID,
    PROJECT_ACTION,
    ReportDefaults,
    parse_report_submission,
    report_incident_modal,
    selected_project,
)

log = logging.getLogger(__name__)
SHORTCUT_ID = "report_incident_from_message"


def register(reg: Registry, deps: Deps) -> None:
    """Wire the report-incident listeners."""
    async def open_modal(client: AsyncWebClient, trigger_id: str, defaults: ReportDefaults) -> None:
        """A failure of views.open is told to the person by the listener guard (handlers/registry.py)."""
        async with deps.sessions() as session:
            choices = await report_choices(session, deps.catalog)
        await client.views_open(trigger_id=trigger_id, view=report_incident_modal(choices, defaults))

    @reg.command(deps.config.commands.report_incident, "Report an incident", "[title]")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        defaults = ReportDefaults(origin_channel_id=body.get("channel_id"), title=(body.get("text") or "").strip())
        await open_modal(client, body["trigger_id"], defaults)

    @reg.message_shortcut(SHORTCUT_ID, "Report as incident", "Open an incident pre-filled with this message")
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        message, channel = body.get("message", {}), body.get("channel", {})
        text = message.get("text") or ""
        defaults = ReportDefaults(
            origin_channel_id=channel.get("id"),
            title=text.splitlines()[0][:150] if text else "",
            description=text,
            message_permalink=deps.ports.conversation.message_link(channel.get("id", ""), message.get("ts", "")),
        )
        await open_modal(client, body["trigger_id"], defaults)

    @reg.action(PROJECT_ACTION)
    async def on_project_changed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        values = view.get("state", {}).get("values", {})

        def typed(block: str) -> str:
            return ((values.get(block) or {}).get(block) or {}).get("value") or ""

        async with deps.sessions() as session:
            choices = await report_choices(session, deps.catalog)
        defaults = ReportDefaults(project=selected_project(view), title=typed("title"), description=typed("description"))
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=report_incident_modal(choices, defaults))

    async def refused_tags(sub: Submission[ReportIncidentForm]) -> Errors:
        async with deps.ack_lane() as session:
            return await report_tag_errors(session, sub.form.project, sub.form.tags,
                                           closing=sub.form.status == IncidentStatus.CLOSED)

    @reg.submission(CALLBACK_ID, parse_report_submission, check=refused_tags)
    async def on_submit(sub: Submission[ReportIncidentForm]) -> None:
        """The modal closes once the report is stored (one statement); the incident is created after."""
        arrival = await accept_report(deps, sub.form, key=sub.view_id, user_id=sub.user_id, user_name=sub.user_name)
        if arrival is not None:
            await process_report(deps, sub.view_id, arrival)
        else:
            log.info("duplicate submission of view %s ignored", sub.view_id)
