"""Workflow commands: list the workflows and the runs of this incident (or of the case whose channel this is);
the run form (workflow, parameters, reason)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.workflows import case_of_channel, choices, form_errors, listing, may_run_for_case, request_run
from handlers.incident_context import incident_here, say, still_allowed
from handlers.registry import Errors, Registry, Submission, first_input
from modals.workflows import (
    CALLBACK_ID,
    OPEN_ACTION,
    PICK_ACTION,
    RunWorkflowForm,
    Subject,
    field_errors,
    parse_run_workflow,
    picked_workflow,
    run_workflow_modal,
    typed_parameters,
    typed_reason,
    view_metadata,
    view_subject,
)

NOT_A_CASE_WORKER = "Only the people working this case (its reporter, assignee and those who joined it) and admins can run workflows for it."


def register(reg: Registry, deps: Deps) -> None:
    commands = deps.config.commands

    async def subject_here(body: dict[str, Any], respond: AsyncRespond, *, managing: bool) -> Subject | None:
        """This channel's incident, else the case whose own channel it is; None after telling why not."""
        case = await case_of_channel(deps, body.get("channel_id"))
        if case is not None:
            if managing and not await may_run_for_case(deps, case[0], body["user_id"]):
                await say(respond, PlainNotice(NOT_A_CASE_WORKER))
                return None
            return Subject(case[1], case_id=case[0])
        incident = await incident_here(deps, body, respond, managing=managing)
        return Subject(incident.name, incident_id=incident.id) if incident is not None else None

    @reg.command(commands.list_workflows, "List workflows and this incident's runs")
    async def on_list(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        subject = await subject_here(body, respond, managing=False)
        if subject is not None:
            await say(respond, await listing(deps, subject.incident_id, subject.case_id))

    @reg.command(commands.run_workflow, "Run a workflow for this incident", "[INC-n] [workflow]")
    async def on_run(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        subject = await subject_here(body, respond, managing=True)
        if subject is None:
            return
        offered = choices(deps.config)
        if not offered:
            await say(respond, PlainNotice("No workflows are configured (`workflows:` in the warroom config)."))
            return
        text = (body.get("text") or "").strip()
        if text.upper().startswith(subject.name.upper()):
            text = text[len(subject.name):].strip()
        chosen = next((w.name for w in offered if w.name.casefold() == text.casefold()), None)
        await client.views_open(trigger_id=body["trigger_id"], view=run_workflow_modal(
            subject, body["channel_id"], offered, chosen))

    @reg.action(PICK_ACTION)
    async def on_pick(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=run_workflow_modal(
            view_subject(view), str(view_metadata(view)["channel"]), choices(deps.config),
            picked_workflow(view), typed_parameters(view), typed_reason(view)))

    @reg.action(OPEN_ACTION)
    async def on_open(ack: AsyncAck) -> None:
        await ack()  # a link button: Slack opened the run's page; nothing to do but acknowledge

    async def bad_parameters(sub: Submission[RunWorkflowForm]) -> Errors | None:
        return field_errors(form_errors(deps.config, sub.form.workflow, sub.form.parameters)) or None

    incident_allowed = still_allowed(deps, lambda form: form.incident_id or 0, managing=True, then=bad_parameters)

    async def allowed(sub: Submission[RunWorkflowForm]) -> Errors | None:
        if sub.form.incident_id is not None:
            return await incident_allowed(sub)
        if sub.form.case_id is None or not await may_run_for_case(deps, sub.form.case_id, sub.user_id):
            return {first_input(sub.view) or "workflow": NOT_A_CASE_WORKER}
        return await bad_parameters(sub)

    @reg.submission(CALLBACK_ID, parse_run_workflow, check=allowed)
    async def on_submit(sub: Submission[RunWorkflowForm]) -> None:
        form = sub.form
        await request_run(deps, workflow=form.workflow, key=f"view:{sub.view_id}", parameters=form.parameters,
                          reason=form.reason, creator=sub.user_id, incident_id=form.incident_id, case_id=form.case_id)
