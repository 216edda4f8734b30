"""Tag selects shared by the report and update forms: one per tag type, and their parsing.

An exclusive type is a single select, others a multi-select; a type with more tags than a static
select holds is searched as you type (external select, answered by the tag options listener).
Option values are tag ids. The form's private metadata carries each type's name, `exclusive` and
`required` (`tag_metadata`), so the parser checks them without the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blockkit import ExternalSelect, Input, MultiExternalSelect, MultiStaticSelect, Option, StaticSelect

from domain.incidents.tags import LEGACY_BLOCK, IncidentTagView, TagChoice, TagTypeChoice, tag_block, tag_type_of_block
from modals.text import plain

MIN_QUERY = 1


def _option(tag_id: int, name: str, description: str = "") -> Option:
    option = Option(plain(name, 75), str(tag_id))
    if description:
        option.description(plain(description, 75))
    return option


def tag_options(choices: list[TagChoice]) -> list[dict[str, Any]]:
    """Options answering a type-ahead search of an external tag select."""
    return [_option(c.id, c.name, c.description).build() for c in choices]


def tag_inputs(types: list[TagTypeChoice], current: Sequence[IncidentTagView] = ()) -> list[Input]:
    """One optional input per tag type (and one keeping the legacy tags an incident has)."""
    inputs = []
    for tag_type in types:
        block = tag_block(tag_type.id)
        mine = [t for t in current if t.tag_type_id == tag_type.id]
        offered = {c.id for c in tag_type.tags}
        initial = [_option(t.id, t.name) for t in mine if tag_type.searchable or t.id in offered]
        element: Any
        if tag_type.searchable:
            element = (ExternalSelect() if tag_type.exclusive else MultiExternalSelect()).min_query_length(MIN_QUERY)
            element.placeholder(plain("Type to search"))
        else:
            element = StaticSelect() if tag_type.exclusive else MultiStaticSelect()
            for choice in tag_type.tags:
                element.add_option(_option(choice.id, choice.name, choice.description))
        element.action_id(block)
        if initial:
            if tag_type.exclusive:
                element.initial_option(initial[0])
            else:
                element.initial_options(*initial)
        label = f"{tag_type.name}{' (required to close)' if tag_type.required else ''}"
        inputs.append(Input(plain(label, 2000)).block_id(block).optional(True).element(element))
    legacy = [t for t in current if t.tag_type_id is None]
    if legacy:
        options = [_option(t.id, t.name) for t in legacy]
        element = MultiStaticSelect().action_id(LEGACY_BLOCK)
        for option in options:
            element.add_option(option)
        element.initial_options(*options)
        inputs.append(Input(plain("Other tags (from before tag types; untick to remove)")).block_id(LEGACY_BLOCK)
                      .optional(True).element(element))
    return inputs


def tag_metadata(types: list[TagTypeChoice]) -> dict[str, list[Any]]:
    """What the parser needs to know of each offered type: {type id: [name, exclusive, required]}."""
    return {str(t.id): [t.name, t.exclusive, t.required] for t in types}


def _selected(view: dict[str, Any], block_id: str) -> list[dict[str, Any]]:
    entry = ((view.get("state", {}).get("values", {}).get(block_id) or {}).get(block_id)) or {}
    if entry.get("selected_options"):
        return list(entry["selected_options"])
    return [entry["selected_option"]] if entry.get("selected_option") else []


def _element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    block: dict[str, Any] = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), {})
    return block.get("element") or {}


def parse_tags(view: dict[str, Any], types: dict[str, list[Any]], *, closing: bool) -> tuple[tuple[int, ...], dict[str, str]]:
    """(tag ids picked, {block id: error}): options not offered, two tags of an exclusive type, and a
    required type left empty when `closing`. Pure."""
    picked: list[int] = []
    errors: dict[str, str] = {}
    blocks = [b.get("block_id", "") for b in view.get("blocks", [])]
    for block_id in blocks:
        type_id = tag_type_of_block(block_id)
        if type_id is None and block_id != LEGACY_BLOCK:
            continue
        element = _element(view, block_id)
        external = element.get("type") in ("external_select", "multi_external_select")
        offered = {o.get("value") for o in element.get("options", [])}
        values = [o.get("value") for o in _selected(view, block_id)]
        if any(not (isinstance(v, str) and v.isdigit()) or (not external and v not in offered) for v in values):
            errors[block_id] = "Pick from the listed tags."
            continue
        ids = list(dict.fromkeys(int(v) for v in values if v is not None))
        name, exclusive, _required = (types.get(str(type_id)) or ["", False, False]) if type_id else ("", False, False)
        if exclusive and len(ids) > 1:
            errors[block_id] = f"{name} takes one tag only."
            continue
        picked += ids
    if closing:
        for type_id_text, (name, _exclusive, required) in types.items():
            block_id = tag_block(int(type_id_text))
            if required and block_id in blocks and not _selected(view, block_id) and block_id not in errors:
                errors[block_id] = f"Closing needs a {name} tag."
    return tuple(dict.fromkeys(picked)), errors
