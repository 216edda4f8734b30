"""Workflow run form (builder + parser), run messages and the workflow list. Pure functions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from blockkit import Actions, Button, Context, Input, Message, Modal, Option, PlainTextInput, Section, StaticSelect

from domain.core.vocabulary import WorkflowStatus
from domain.workflows import WorkflowChoice, WorkflowListing, WorkflowRun
from modals.render import Rendered, render
from modals.text import escape, md, mention, plain, truncate

CALLBACK_ID = "run_workflow"
PICK_ACTION = "workflow_pick"
OPEN_ACTION = "workflow_open"  # the run's link button: Slack opens the URL and still sends the click, to be acked
WORKFLOW_BLOCK, REASON_BLOCK = "workflow", "reason"
PARAM_PREFIX = "wf_param_"
REASON_MAX, PARAM_MAX = 1000, 500

_ICON = {WorkflowStatus.PENDING: ":hourglass_flowing_sand:", WorkflowStatus.SUBMITTED: ":arrow_forward:",
         WorkflowStatus.RUNNING: ":gear:", WorkflowStatus.COMPLETED: ":white_check_mark:",
         WorkflowStatus.FAILED: ":x:"}


@dataclass(frozen=True)
class RunWorkflowForm:
    incident_id: int | None  # one of incident_id and case_id
    case_id: int | None
    channel_id: str
    workflow: str
    parameters: dict[str, str]
    reason: str


@dataclass(frozen=True)
class Subject:
    """What a run is for: an incident or a case."""

    name: str
    incident_id: int | None = None
    case_id: int | None = None


def run_workflow_modal(subject: Subject, channel_id: str, workflows: list[WorkflowChoice],
                       chosen: str | None = None, values: dict[str, str] | None = None, reason: str = "") -> dict:
    """Workflow (picking one re-draws the form with its parameters), its parameters, and a reason."""
    picked = next((w for w in workflows if w.name == chosen), workflows[0] if len(workflows) == 1 else None)
    select = StaticSelect().action_id(PICK_ACTION).placeholder(plain("Pick a workflow"))
    for w in workflows[:100]:
        option = Option(plain(w.name, 75), w.name)
        if w.description:
            option.description(plain(w.description, 75))
        select.add_option(option)
        if picked is not None and w.name == picked.name:
            select.initial_option(option)
    meta = {"incident": subject.incident_id, "case": subject.case_id, "channel": channel_id, "name": subject.name}
    modal = (Modal().title(plain(truncate(f"Run workflow {subject.name}", 24))).submit(plain("Run")).close(plain("Cancel"))
             .callback_id(CALLBACK_ID).private_metadata(json.dumps(meta))
             .add_block(Input(plain("Workflow")).block_id(WORKFLOW_BLOCK).dispatch_action(True).element(select)))
    for name, description, default, required in picked.parameters if picked else []:
        text = PlainTextInput().action_id(name).max_length(PARAM_MAX)
        value = (values or {}).get(name) or default
        if value:
            text.initial_value(truncate(value, PARAM_MAX))
        block = Input(plain(name, 2000)).block_id(f"{PARAM_PREFIX}{name}").element(text).optional(not required)
        if description:
            block.hint(plain(description, 2000))
        modal.add_block(block)
    reason_input = PlainTextInput().action_id(REASON_BLOCK).multiline(True).max_length(REASON_MAX)
    if reason:
        reason_input.initial_value(truncate(reason, REASON_MAX))
    modal.add_block(Input(plain("Why run it?")).block_id(REASON_BLOCK).element(reason_input))
    return modal.build()


def _values(view: dict[str, Any]) -> dict[str, dict]:
    return view.get("state", {}).get("values", {})


def picked_workflow(view: dict[str, Any]) -> str | None:
    return ((_values(view).get(WORKFLOW_BLOCK) or {}).get(PICK_ACTION) or {}).get("selected_option", {}) \
        .get("value") if _values(view).get(WORKFLOW_BLOCK) else None


def typed_parameters(view: dict[str, Any]) -> dict[str, str]:
    out = {}
    for block_id, actions in _values(view).items():
        if block_id.startswith(PARAM_PREFIX):
            name = block_id.removeprefix(PARAM_PREFIX)
            out[name] = ((actions.get(name) or {}).get("value") or "").strip()
    return out


def typed_reason(view: dict[str, Any]) -> str:
    return (((_values(view).get(REASON_BLOCK) or {}).get(REASON_BLOCK) or {}).get("value") or "").strip()


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    return json.loads(view.get("private_metadata") or "{}")


def view_subject(view: dict[str, Any]) -> Subject:
    meta = view_metadata(view)
    return Subject(str(meta.get("name", "")), meta.get("incident"), meta.get("case"))


def parse_run_workflow(view: dict[str, Any]) -> tuple[RunWorkflowForm | None, dict[str, str]]:
    meta = view_metadata(view)
    workflow, reason = picked_workflow(view), typed_reason(view)
    errors = {}
    if not workflow:
        errors[WORKFLOW_BLOCK] = "Pick a workflow."
    if not reason:
        errors[REASON_BLOCK] = "Say why it should run (it goes on the timeline)."
    if errors:
        return None, errors
    return RunWorkflowForm(meta.get("incident"), meta.get("case"), str(meta["channel"]), str(workflow),
                           typed_parameters(view), reason), {}


def field_errors(errors: dict[str, str]) -> dict[str, str]:
    """Errors by form field name (`workflow` or a parameter name) as errors by block id."""
    return {(WORKFLOW_BLOCK if name == "workflow" else f"{PARAM_PREFIX}{name}"): message for name, message in errors.items()}


def _run_lines(run: WorkflowRun) -> str:
    icon = _ICON.get(WorkflowStatus(run.status), "")
    by = f"requested by {mention(run.creator)}" if run.creator else "started by a signal"
    lines = [f"{icon} *{escape(run.workflow)}* — {escape(run.status)} · {by}"]
    if run.reason:
        lines.append(f"_{escape(truncate(run.reason, 500))}_")
    if run.parameters:
        lines.append(" · ".join(f"`{escape(k)}` {escape(truncate(v, 200))}" for k, v in run.parameters.items()))
    return "\n".join(lines)


@render.register
def render_workflow_run(run: WorkflowRun) -> Rendered:
    msg = Message().add_block(Section(md(truncate(_run_lines(run), 3000))))
    links = [f"<{a.link}|{escape(truncate(a.name, 100))}>" for a in run.artifacts]
    if links:
        msg.add_block(Section(md(truncate("*Artifacts* " + " · ".join(links), 3000))))
    notes = []
    if run.message:
        notes.append(escape(truncate(run.message, 500)))
    if run.error:
        notes.append(f":warning: {escape(truncate(run.error, 300))}"
                     + (" (retrying)" if run.status == WorkflowStatus.PENDING else ""))
    notes.append(f"{escape(run.subject)} · run `{run.id}`")
    msg.add_block(Context().add_element(md(truncate("  ·  ".join(notes), 3000))))
    if run.weblink:
        msg.add_block(Actions().add_element(Button(plain("Open run"), OPEN_ACTION, url=run.weblink)))
    return f"Workflow {run.workflow}: {run.status} ({run.subject})", msg.build()["blocks"]


@render.register
def render_workflow_listing(notice: WorkflowListing) -> Rendered:
    msg = Message()
    if not notice.workflows:
        msg.add_block(Section(md("No workflows are configured (`workflows:` in the warroom config).")))
    else:
        lines = [f"*Workflows* (run one with `{escape(notice.run_command)}`)"]
        for w in notice.workflows[:30]:
            params = ", ".join(f"{n}{'*' if req else ''}" for n, _, _, req in w.parameters)
            lines.append(f"• *{escape(w.name)}*" + (f" — {escape(truncate(w.description, 200))}" if w.description else "")
                         + (f" ({escape(params)})" if params else ""))
        msg.add_block(Section(md(truncate("\n".join(lines), 3000))))
    msg.add_block(Section(md(f"*Runs in {escape(notice.subject)}*" if notice.runs else f"_No runs in {escape(notice.subject)} yet._")))
    for run in notice.runs[:20]:
        extra = "".join(f" · <{a.link}|{escape(truncate(a.name, 60))}>" for a in run.artifacts[:5])
        web = f" · <{run.weblink}|open>" if run.weblink else ""
        msg.add_block(Section(md(truncate(_run_lines(run) + web + extra, 3000))))
    return f"Workflows of {notice.subject}", msg.build()["blocks"]
