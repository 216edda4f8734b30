"""Report-incident modal: pure builder and submission parser."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from blockkit import Checkboxes, Context, Input, Modal, Option, PlainTextInput, StaticSelect

from domain.core.vocabulary import IncidentStatus
from domain.incidents.service import Choice, ProjectChoices, ReportChoices, ReportIncidentForm
from modals.tags import parse_tags, tag_inputs, tag_metadata
from modals.text import md, plain, truncate

CALLBACK_ID = "report_incident"
STATUSES = tuple(IncidentStatus)
PROJECT_ACTION = "report_incident_project"
TITLE_MAX = 150
DESCRIPTION_MAX = 3000


@dataclass(frozen=True)
class ReportDefaults:
    """Pre-filled values: from a message shortcut or from the chosen project."""

    origin_channel_id: str | None = None
    title: str = ""
    description: str = ""
    message_permalink: str | None = None
    project: str | None = None


def _option(choice: Choice) -> Option:
    opt = Option(plain(choice.name, 75), choice.name)
    if choice.description:
        opt.description(plain(choice.description, 75))
    return opt


def _select(block_id: str, label: str, choices: list[Choice]) -> Input:
    select = StaticSelect().action_id(block_id)
    for choice in choices[:100]:
        select.add_option(_option(choice))
    default = next((c for c in choices if c.default), choices[0] if choices else None)
    if default:
        select.initial_option(_option(default))
    return Input(plain(label)).block_id(block_id).element(select)


_BUILT: dict[tuple[str, tuple[str, ...]], dict] = {}  # the modal without its defaults, by what it offers
_BUILT_MAX = 64


def report_incident_modal(choices: ReportChoices, defaults: ReportDefaults) -> dict:
    """The modal shown by the report command; defaults pre-selected.

    What the project offers changes only with the config, so the modal built for it is kept (blockkit takes
    ≈ 3 ms a build) and each call adds its defaults to a copy."""
    project = choices.project(defaults.project)
    key = (repr(project), tuple(p.name for p in choices.projects))
    base = _BUILT.get(key)
    if base is None:
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.clear()
        base = _BUILT[key] = _modal(choices, project)
    metadata = {
        "origin": defaults.origin_channel_id,
        "permalink": defaults.message_permalink,
        "project": project.name,
        "stable_ok": list(project.stable_ok),
        "tag_types": tag_metadata(project.tag_types),
    }
    initial = {"title": truncate(defaults.title, TITLE_MAX) if defaults.title else "",
               "description": truncate(defaults.description, DESCRIPTION_MAX) if defaults.description else ""}
    blocks = [{**b, "element": {**b["element"], "initial_value": initial[b["block_id"]]}}
              if initial.get(b.get("block_id", "")) else b for b in base["blocks"]]
    return {**base, "private_metadata": json.dumps(metadata), "blocks": blocks}


def _modal(choices: ReportChoices, project: ProjectChoices) -> dict:
    modal = (
        Modal()
        .title(plain("Report incident"))
        .submit(plain("Report"))
        .close(plain("Cancel"))
        .callback_id(CALLBACK_ID)
        .add_block(
            Context().add_element(
                md("Tell us what is happening. A dedicated channel opens as soon as you submit, "
                   "and you become its incident commander.")
            )
        )
    )
    if len(choices.projects) > 1:
        select = StaticSelect().action_id(PROJECT_ACTION)
        for p in choices.projects:
            select.add_option(Option(plain(p.name, 75), p.name))
        select.initial_option(Option(plain(project.name, 75), project.name))
        modal.add_block(Input(plain("Project")).block_id("project").dispatch_action(True).element(select))
    title_input = PlainTextInput().action_id("title").max_length(TITLE_MAX).placeholder(plain("A short, specific title"))
    desc_input = PlainTextInput().action_id("description").multiline(True).max_length(DESCRIPTION_MAX)
    desc_input.placeholder(plain("What is affected, since when, what you have seen"))
    modal.add_block(Input(plain("Title")).block_id("title").element(title_input))
    modal.add_block(Input(plain("Description")).block_id("description").element(desc_input))
    modal.add_block(_select("incident_type", "Type", project.types))
    modal.add_block(_select("incident_priority", "Priority", project.priorities))
    restricted = Option(plain("Private incident"), "restricted").description(
        plain("Private channel; never announced or listed to non-participants")
    )
    private = Checkboxes().action_id("private").add_option(restricted)
    if any(t.default and t.restricted for t in project.types):
        private.initial_options(restricted)
    modal.add_block(Input(plain("Visibility")).block_id("private").optional(True).element(private))
    if project.severities:
        modal.add_block(_select("incident_severity", "Severity", list(project.severities)))
    status = StaticSelect().action_id("status")
    for name in STATUSES:
        status.add_option(Option(plain(name), name))
    status.initial_option(Option(plain(IncidentStatus.ACTIVE), IncidentStatus.ACTIVE))
    modal.add_block(Input(plain("Status (Stable or Closed for a retroactive report)")).block_id("status").element(status))
    for block in tag_inputs(project.tag_types):
        modal.add_block(block)
    return modal.build()


def _value(values: dict, block_id: str) -> dict:
    return (values.get(block_id) or {}).get(block_id) or {}


def _offered(view: dict, block_id: str) -> set[str]:
    """Option values the view itself offered in a select block."""
    block: dict[str, Any] = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), {})
    return {o["value"] for o in block.get("element", {}).get("options", [])}


def parse_report_submission(view: dict) -> tuple[ReportIncidentForm | None, dict[str, str]]:
    """Turn a submitted view into a form, or into `{block_id: error}` for `response_action: errors`.

    Pure and I/O-free (choices are checked against the options the view offered), so the
    submission is acked within milliseconds.
    """
    values = view.get("state", {}).get("values", {})
    metadata = json.loads(view.get("private_metadata") or "{}")
    errors: dict[str, str] = {}

    project = selected_project(view) or metadata.get("project") or ""
    title = (_value(values, "title").get("value") or "").strip()
    description = (_value(values, "description").get("value") or "").strip()
    if not title:
        errors["title"] = "Give the incident a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters (it has {len(title)})."
    if not description:
        errors["description"] = "Describe what is happening, even briefly."
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description under {DESCRIPTION_MAX} characters (it has {len(description)})."

    type_name = (_value(values, "incident_type").get("selected_option") or {}).get("value")
    priority_name = (_value(values, "incident_priority").get("selected_option") or {}).get("value")
    if type_name is None or type_name not in _offered(view, "incident_type"):
        errors["incident_type"] = "Pick one of the listed types."
    if priority_name is None or priority_name not in _offered(view, "incident_priority"):
        errors["incident_priority"] = "Pick one of the listed priorities."

    status = (_value(values, "status").get("selected_option") or {}).get("value") or IncidentStatus.ACTIVE
    severity = (_value(values, "incident_severity").get("selected_option") or {}).get("value")
    if status not in STATUSES:
        errors["status"] = "Pick one of the listed statuses."
    elif status != IncidentStatus.ACTIVE and severity not in metadata.get("stable_ok", []):
        errors["incident_severity"] = f"Assess the severity to report an incident as {status}."

    tags, tag_errors = parse_tags(view, metadata.get("tag_types") or {}, closing=status == IncidentStatus.CLOSED)
    errors.update(tag_errors)

    selected = _value(values, "private").get("selected_options") or []
    restricted = any(o.get("value") == "restricted" for o in selected)
    if errors or type_name is None or priority_name is None:
        return None, errors
    return (
        ReportIncidentForm(
            project=project,
            title=title,
            description=description,
            incident_type=type_name,
            priority=priority_name,
            restricted=restricted,
            origin_channel_id=metadata.get("origin"),
            origin_message_permalink=metadata.get("permalink"),
            status=status,
            severity=severity,
            tags=tags,
        ),
        {},
    )


def selected_project(view: dict) -> str | None:
    """Project picked in an open modal (for re-rendering on `dispatch_action`)."""
    values = view.get("state", {}).get("values", {})
    opt = (values.get("project", {}).get(PROJECT_ACTION) or {}).get("selected_option") or {}
    return opt.get("value")
