"""Listeners of update-cost: custom costs (costs.custom_types) entered for an incident."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.custom_costs import CustomCostForm, current_custom_costs, save_custom_costs
from domain.response.summary import cost_lines
from handlers.incident_context import incident_here, still_allowed
from handlers.registry import Registry, Submission
from modals.costs import UPDATE_COST_ID, parse_update_cost, update_cost_modal


def register(reg: Registry, deps: Deps) -> None:
    commands, costs = deps.config.commands, deps.config.costs

    @reg.command(commands.update_cost, "Enter this incident's other costs (lost revenue, credits…)", "[INC-n]")
    async def on_update_cost(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        if not costs.enabled or not costs.custom_types:
            await respond(response_type="ephemeral", text="No custom cost types are configured "
                          "(costs.custom_types in the config file), so there is nothing to enter.")
            return
        incident = await incident_here(deps, body, respond, managing=True)
        if incident is None:
            return
        async with deps.sessions() as session:
            current = await current_custom_costs(session, incident.id)
            response_cost, _ = await cost_lines(session, incident, deps.config)
            await session.commit()
        await client.views_open(trigger_id=body["trigger_id"], view=update_cost_modal(
            incident.id, incident.name, costs.custom_types, current, costs.currency, response_cost))

    @reg.submission(UPDATE_COST_ID, parse_update_cost,
                    check=still_allowed(deps, lambda form: form.incident_id, managing=True))
    async def on_update_cost_submit(sub: Submission[CustomCostForm]) -> None:
        await save_custom_costs(deps, sub.form, actor=sub.user_id)
