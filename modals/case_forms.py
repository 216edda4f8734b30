"""Modals on an existing case: Edit, Resolve, Escalate. Pure builders and parsers.

Each view carries `{"case": id, "channel": where to answer}` in its private_metadata.
"""

from __future__ import annotations

import json
from typing import Any

from blockkit import Context, Input, Modal, Option, PlainTextInput, StaticSelect

from domain.cases.escalate import EscalateForm
from domain.cases.lifecycle import CaseEditForm, ResolveForm
from domain.cases.service import RESOLUTION_REASONS, CaseFacts
from domain.config.cases import CasesConfig
from domain.core.vocabulary import CaseStatus, ResolutionReason
from domain.incidents.service import Choice
from modals.create_case import DESCRIPTION_MAX, TITLE_MAX, assignee_input, assignee_state, level_select
from modals.text import escape, md, plain, truncate

EDIT_CALLBACK = "case_edit"
RESOLVE_CALLBACK = "case_resolve"
ESCALATE_CALLBACK = "case_escalate"
RESOLUTION_MAX = 3000
NOTE_MAX = 1000


def _metadata(case_id: int, channel_id: str | None, **more: str | None) -> str:
    return json.dumps({"case": case_id, "channel": channel_id, **more})


def view_target(view: dict) -> tuple[int | None, str | None]:
    """(case id, channel to answer in) of a case modal."""
    metadata = json.loads(view.get("private_metadata") or "{}")
    return metadata.get("case"), metadata.get("channel")


def _values(view: dict) -> dict:
    return view.get("state", {}).get("values", {})


def _get(view: dict, block_id: str) -> dict:
    return (_values(view).get(block_id) or {}).get(block_id) or {}


def _offered(view: dict, block_id: str) -> set[str]:
    block: dict[str, Any] = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), {})
    return {o["value"] for o in block.get("element", {}).get("options", [])}


def _text(block_id: str, label: str, value: str, limit: int, *, multiline: bool = False, optional: bool = False) -> Input:
    element = PlainTextInput().action_id(block_id).max_length(limit).multiline(multiline)
    if value:
        element.initial_value(truncate(value, limit))
    return Input(plain(label)).block_id(block_id).optional(optional).element(element)


def _title_errors(title: str, what: str) -> dict[str, str]:
    if not title:
        return {"title": f"Give the {what} a title."}
    if len(title) > TITLE_MAX:
        return {"title": f"Keep the title under {TITLE_MAX} characters (it has {len(title)})."}
    return {}


# --------------------------------------------------------------------------- edit


def edit_case_modal(case: CaseFacts, cases: CasesConfig, channel_id: str | None) -> dict:
    """Every editable field, pre-filled with the case's current values."""
    return (Modal().title(plain(f"Edit {case.name}", 24)).submit(plain("Save")).close(plain("Cancel"))
            .callback_id(EDIT_CALLBACK).private_metadata(_metadata(case.id, channel_id, status=case.status))
            .add_block(_text("title", "Title", case.title, TITLE_MAX))
            .add_block(_text("description", "Description", case.description, DESCRIPTION_MAX, multiline=True,
                             optional=True))
            .add_block(level_select("case_type", "Type", cases.types, case.case_type))
            .add_block(level_select("case_priority", "Priority", cases.priorities, case.priority))
            .add_block(level_select("case_severity", "Severity", cases.severities, case.severity))
            .add_block(assignee_input(case.assignee, case.assignee))
            .add_block(_status_select(case.status))
            .add_block(_reason_select(case.resolution_reason, optional=True))
            .add_block(_text("resolution", "Resolution", case.resolution or "", RESOLUTION_MAX, multiline=True,
                             optional=True))
            .add_block(Context().add_element(md("Closed needs a resolution reason and a resolution; "
                                                "Escalated comes from *Escalate*.")))
            .build())


def _status_select(current: str) -> Input:
    select = StaticSelect().action_id("case_status")
    for status in CaseStatus:
        select.add_option(Option(plain(status), status.value))
    select.initial_option(Option(plain(current), current))
    return Input(plain("Status")).block_id("case_status").element(select)


def _reason_select(current: str | None, *, optional: bool = False) -> Input:
    select = StaticSelect().action_id("reason").placeholder(plain("Why is it closed?"))
    for reason, description in RESOLUTION_REASONS.items():
        select.add_option(_reason_option(reason, description))
    if current in RESOLUTION_REASONS:
        select.initial_option(_reason_option(current, RESOLUTION_REASONS[ResolutionReason(current)]))
    return Input(plain("Resolution reason")).block_id("reason").element(select).optional(optional)


def _reason_option(reason: str, description: str) -> Option:
    return Option(plain(reason, 75), reason).description(plain(description, 75))


def parse_edit_case(view: dict) -> tuple[CaseEditForm | None, dict[str, str]]:
    case_id, _ = view_target(view)
    title = (_get(view, "title").get("value") or "").strip()
    description = (_get(view, "description").get("value") or "").strip()
    errors = _title_errors(title, "case")
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description under {DESCRIPTION_MAX} characters (it has {len(description)})."
    picked: dict[str, str] = {}
    for block, what in (("case_type", "type"), ("case_priority", "priority"), ("case_severity", "severity")):
        value = (_get(view, block).get("selected_option") or {}).get("value")
        if value is None or value not in _offered(view, block):
            errors[block] = f"Pick one of the listed {what} values."
        else:
            picked[block] = value
    _, _, assignee = assignee_state(view)
    status = (_get(view, "case_status").get("selected_option") or {}).get("value")
    if status is not None and status not in _offered(view, "case_status"):
        errors["case_status"] = "Pick one of the listed statuses."
    reason = (_get(view, "reason").get("selected_option") or {}).get("value")
    resolution = (_get(view, "resolution").get("value") or "").strip()
    if reason is not None and reason not in RESOLUTION_REASONS:
        errors["reason"] = "Pick a resolution reason."
    if len(resolution) > RESOLUTION_MAX:
        errors["resolution"] = f"Keep it under {RESOLUTION_MAX} characters (it has {len(resolution)})."
    if status == CaseStatus.CLOSED:
        if reason is None:
            errors["reason"] = "Closed needs a resolution reason."
        if not resolution:
            errors["resolution"] = "Closed needs a resolution: say what you found or did, even briefly."
    if errors or case_id is None:
        return None, errors or {"title": "This form lost track of its case; open it again from the card."}
    if status == json.loads(view.get("private_metadata") or "{}").get("status"):
        status = None  # left as it was when the form opened: whatever it is now stays (a Resolve meanwhile holds)
    return CaseEditForm(case_id=case_id, title=title, description=description, case_type=picked["case_type"],
                        priority=picked["case_priority"], severity=picked["case_severity"], assignee=assignee,
                        status=status, resolution_reason=reason, resolution=resolution), {}


# --------------------------------------------------------------------------- resolve


def resolve_case_modal(case: CaseFacts, channel_id: str | None) -> dict:
    """A resolution reason (each with its description) and what was found."""
    initial = ResolutionReason.ESCALATED if case.status == CaseStatus.ESCALATED else None
    return (Modal().title(plain(f"Resolve {case.name}", 24)).submit(plain("Resolve")).close(plain("Cancel"))
            .callback_id(RESOLVE_CALLBACK).private_metadata(_metadata(case.id, channel_id))
            .add_block(Context().add_element(md(f"*{escape(truncate(case.title, 200))}* will be Closed.")))
            .add_block(_reason_select(initial))
            .add_block(_text("resolution", "Resolution", "", RESOLUTION_MAX, multiline=True))
            .build())


def parse_resolve_case(view: dict) -> tuple[ResolveForm | None, dict[str, str]]:
    case_id, _ = view_target(view)
    reason = (_get(view, "reason").get("selected_option") or {}).get("value")
    resolution = (_get(view, "resolution").get("value") or "").strip()
    errors = {}
    if reason is None or reason not in RESOLUTION_REASONS:
        errors["reason"] = "Pick a resolution reason."
    if not resolution:
        errors["resolution"] = "Say what you found or did, even briefly."
    elif len(resolution) > RESOLUTION_MAX:
        errors["resolution"] = f"Keep it under {RESOLUTION_MAX} characters (it has {len(resolution)})."
    if errors or reason is None or case_id is None:
        return None, errors or {"resolution": "This form lost track of its case; open it again from the card."}
    return ResolveForm(case_id=case_id, reason=reason, resolution=resolution), {}


# --------------------------------------------------------------------------- escalate


def escalate_case_modal(case: CaseFacts, priorities: list[Choice], project: str, channel_id: str | None) -> dict:
    """Incident title (the case's), an incident priority of the project, an optional note."""
    select = StaticSelect().action_id("incident_priority")
    for p in priorities[:100]:
        opt = Option(plain(p.name, 75), p.name)
        if p.description:
            opt.description(plain(p.description, 75))
        select.add_option(opt)
    default = next((p for p in priorities if p.default), priorities[0] if priorities else None)
    if default:
        opt = Option(plain(default.name, 75), default.name)
        if default.description:
            opt.description(plain(default.description, 75))
        select.initial_option(opt)
    intro = (f"{escape(case.name)} becomes an incident of *{escape(project)}*: it gets an incident channel, "
             f"{'its assignee' if case.assignee else 'you'} command{'s' if case.assignee else ''} it, and the case's "
             f"people and timeline come along.")
    return (Modal().title(plain(f"Escalate {case.name}", 24)).submit(plain("Escalate")).close(plain("Cancel"))
            .callback_id(ESCALATE_CALLBACK).private_metadata(_metadata(case.id, channel_id))
            .add_block(Context().add_element(md(intro)))
            .add_block(_text("title", "Incident title", case.title, TITLE_MAX))
            .add_block(Input(plain("Incident priority")).block_id("incident_priority").element(select))
            .add_block(_text("note", "Note", "", NOTE_MAX, multiline=True, optional=True))
            .build())


def parse_escalate_case(view: dict) -> tuple[EscalateForm | None, dict[str, str]]:
    case_id, _ = view_target(view)
    title = (_get(view, "title").get("value") or "").strip()
    note = (_get(view, "note").get("value") or "").strip()
    priority = (_get(view, "incident_priority").get("selected_option") or {}).get("value")
    errors = _title_errors(title, "incident")
    if priority is None or priority not in _offered(view, "incident_priority"):
        errors["incident_priority"] = "Pick one of the listed priorities."
    if len(note) > NOTE_MAX:
        errors["note"] = f"Keep the note under {NOTE_MAX} characters (it has {len(note)})."
    if errors or priority is None or case_id is None:
        return None, errors or {"title": "This form lost track of its case; open it again from the card."}
    return EscalateForm(case_id=case_id, title=title, priority=priority, note=note), {}
