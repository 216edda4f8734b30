"""App Home tab: published when opened; its Report button opens the report modal."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from domain.cases.service import open_cases_for
from domain.core.deps import Deps
from domain.incidents.queries import home_incidents
from domain.incidents.service import report_choices
from handlers.registry import Registry
from modals.home import REPORT_ACTION, home_view
from modals.report_incident import ReportDefaults, report_incident_modal


def register(reg: Registry, deps: Deps) -> None:
    @reg.event("app_home_opened")
    async def on_home(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab", "home") != "home":
            return
        async with deps.sessions() as session:
            active, recent = await home_incidents(session, event["user"], deps.config)
            cases = await open_cases_for(session, event["user"])
        link = deps.ports.conversation.message_link
        shown = [(c, link(*c.card) if c.card else None) for c in cases]
        await client.views_publish(user_id=event["user"], view=home_view(active, recent, shown))

    @reg.action(REPORT_ACTION)
    async def on_report(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        async with deps.sessions() as session:
            choices = await report_choices(session, deps.catalog)
        await client.views_open(trigger_id=body["trigger_id"], view=report_incident_modal(choices, ReportDefaults()))
