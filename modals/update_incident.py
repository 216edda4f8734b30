"""Update-incident modal: pure builder (pre-filled with the current values) and parser."""

from __future__ import annotations

import json
from typing import Any

from blockkit import Input, Modal, Option, PlainTextInput, StaticSelect

from domain.core.vocabulary import IncidentStatus, Visibility
from domain.incidents.update import UpdateIncidentForm, UpdateOptions
from modals.tags import parse_tags, tag_inputs, tag_metadata
from modals.text import plain, truncate

CALLBACK_ID = "update_incident"
TITLE_MAX, TEXT_MAX = 150, 3000


def _select(block_id: str, label: str, names: list[str], current: str) -> Input:
    select = StaticSelect().action_id(block_id)
    for name in names[:100]:
        select.add_option(Option(plain(name, 75), name))
    if current in names:
        select.initial_option(Option(plain(current, 75), current))
    return Input(plain(label)).block_id(block_id).element(select)


def _text(block_id: str, label: str, value: str, limit: int, *, multiline: bool = False, optional: bool = False) -> Input:
    element = PlainTextInput().action_id(block_id).max_length(limit).multiline(multiline)
    if value:
        element.initial_value(truncate(value, limit))
    return Input(plain(label)).block_id(block_id).optional(optional).element(element)


def update_incident_modal(options: UpdateOptions, incident_name: str) -> dict:
    cur = options.current
    metadata = {"incident": options.incident_id, "tag_types": tag_metadata(options.tag_types)}
    modal = (
        Modal()
        .title(plain(f"Update {incident_name}", 24))
        .submit(plain("Save"))
        .close(plain("Cancel"))
        .callback_id(CALLBACK_ID)
        .private_metadata(json.dumps(metadata))
        .add_block(_text("title", "Title", cur.title, TITLE_MAX))
        .add_block(_text("description", "Description", cur.description, TEXT_MAX, multiline=True))
        .add_block(_text("resolution", "Resolution", cur.resolution, TEXT_MAX, multiline=True, optional=True))
        .add_block(_select("incident_type", "Type", options.types, cur.incident_type))
        .add_block(_select("incident_priority", "Priority", options.priorities, cur.priority))
        .add_block(_select("incident_severity", "Severity", options.severities, cur.severity))
        .add_block(_select("status", "Status", list(IncidentStatus), cur.status))
        .add_block(_select("visibility", "Visibility", list(Visibility), cur.visibility))
    )
    for block in tag_inputs(options.tag_types, options.current_tags):
        modal.add_block(block)
    return modal.build()


def _values(view: dict) -> dict:
    return view.get("state", {}).get("values", {})


def _typed(view: dict, block: str) -> str:
    return ((_values(view).get(block) or {}).get(block) or {}).get("value") or ""


def _picked(view: dict, block: str) -> str | None:
    return (((_values(view).get(block) or {}).get(block) or {}).get("selected_option") or {}).get("value")


def _offered(view: dict, block_id: str) -> set[str]:
    block: dict[str, Any] = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), {})
    return {o["value"] for o in block.get("element", {}).get("options", [])}


def parse_update_submission(view: dict) -> tuple[int | None, UpdateIncidentForm | None, dict[str, str]]:
    """(incident id, form, {}) or (id, None, {block_id: error}); pure."""
    errors: dict[str, str] = {}
    try:
        metadata = json.loads(view.get("private_metadata") or "")
        incident_id = int(metadata["incident"] if isinstance(metadata, dict) else metadata)
    except (ValueError, KeyError, TypeError):
        return None, None, {"title": "This form is out of date; run the command again."}
    tag_types = (metadata.get("tag_types") if isinstance(metadata, dict) else None) or {}
    title, description = _typed(view, "title").strip(), _typed(view, "description").strip()
    if not title:
        errors["title"] = "The incident needs a title."
    if not description:
        errors["description"] = "The incident needs a description."
    picked: dict[str, str] = {}
    for block in ("incident_type", "incident_priority", "incident_severity", "status", "visibility"):
        value = _picked(view, block)
        if value is None or value not in _offered(view, block):
            errors[block] = "Pick one of the listed values."
        else:
            picked[block] = value
    tags, tag_errors = parse_tags(view, tag_types, closing=picked.get("status") == IncidentStatus.CLOSED)
    errors.update(tag_errors)
    if errors:
        return incident_id, None, errors
    return incident_id, UpdateIncidentForm(
        title, description, _typed(view, "resolution").strip(), picked["incident_type"], picked["incident_priority"],
        picked["incident_severity"], picked["status"], picked["visibility"], tags), {}
