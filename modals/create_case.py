"""Create-case modal: pure builder and submission parser.

The assignee follows the case type's on-call person while nobody touched it. Slack keeps what a
person picked in an input across `views.update` as long as its block_id stays the same, so the
assignee's block_id carries the suggestion it was built with (`assignee.<user>`): a new
suggestion gets a new block (showing the new person), and comparing the submitted value with the
block's suggestion tells whether the person changed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from blockkit import Checkboxes, Context, Input, Modal, Option, PlainTextInput, StaticSelect, UsersSelect

from domain.cases.lifecycle import CreateCaseForm
from domain.config.cases import CasesConfig
from modals.text import md, plain, truncate

CALLBACK_ID = "create_case"
TYPE_ACTION = "create_case_type"
TITLE_MAX = 150
DESCRIPTION_MAX = 3000
ASSIGNEE_BLOCK = "assignee"
OWN_CHANNEL = "own_channel"


@dataclass(frozen=True)
class CaseDefaults:
    """What the modal shows pre-filled (from the command, a message, or the modal being re-rendered)."""

    title: str = ""
    description: str = ""
    case_type: str | None = None
    priority: str | None = None
    assignee: str | None = None  # shown in the assignee select
    suggested: str | None = None  # the on-call person the type suggests
    own_channel: bool = False
    origin_channel_id: str | None = None
    message_permalink: str | None = None


def _option(name: str, description: str = "") -> Option:
    opt = Option(plain(name, 75), name)
    if description:
        opt.description(plain(description, 75))
    return opt


def level_select(block_id: str, label: str, items, selected: str | None, action_id: str | None = None) -> Input:
    """A static select over config items (`name`, `description`), `selected` pre-chosen."""
    select = StaticSelect().action_id(action_id or block_id)
    for item in items[:100]:
        select.add_option(_option(item.name, item.description))
    chosen = next((i for i in items if selected and i.name.casefold() == selected.casefold()), None) \
        or next((i for i in items if i.default), items[0])
    select.initial_option(_option(chosen.name, chosen.description))
    return Input(plain(label)).block_id(block_id).element(select)


def assignee_input(suggested: str | None, shown: str | None, *, optional: bool = True) -> Input:
    element = UsersSelect().action_id(ASSIGNEE_BLOCK)
    if shown:
        element.initial_user(shown)
    block = Input(plain("Assignee")).block_id(f"{ASSIGNEE_BLOCK}.{suggested or '-'}").element(element)
    return block.optional(optional)


def create_case_modal(cases: CasesConfig, defaults: CaseDefaults) -> dict:
    """Title, description, type (re-renders on change), priority, assignee, own channel."""
    ctype = cases.type(defaults.case_type)
    metadata = {"origin": defaults.origin_channel_id, "permalink": defaults.message_permalink}
    modal = (Modal().title(plain("Open a case")).submit(plain("Open")).close(plain("Cancel"))
             .callback_id(CALLBACK_ID).private_metadata(json.dumps(metadata)))
    modal.add_block(Context().add_element(md("A case is something to look into. Its card gets a thread for the "
                                             "conversation; escalate it if it turns out to be an incident.")))
    title = PlainTextInput().action_id("title").max_length(TITLE_MAX).placeholder(plain("What needs a look"))
    if defaults.title:
        title.initial_value(truncate(defaults.title, TITLE_MAX))
    description = PlainTextInput().action_id("description").multiline(True).max_length(DESCRIPTION_MAX)
    if defaults.description:
        description.initial_value(truncate(defaults.description, DESCRIPTION_MAX))
    modal.add_block(Input(plain("Title")).block_id("title").element(title))
    modal.add_block(Input(plain("Description")).block_id("description").optional(True).element(description))
    modal.add_block(level_select("case_type", "Type", cases.types, ctype.name, TYPE_ACTION).dispatch_action(True))
    modal.add_block(level_select("case_priority", "Priority", cases.priorities, defaults.priority))
    modal.add_block(assignee_input(defaults.suggested, defaults.assignee))
    own = Option(plain("Give it its own channel"), OWN_CHANNEL).description(
        plain("A channel case-<n>-… instead of the card's thread"))
    box = Checkboxes().action_id(OWN_CHANNEL).add_option(own)
    if defaults.own_channel or ctype.dedicated_channel:
        box.initial_options(own)
    modal.add_block(Input(plain("Channel")).block_id(OWN_CHANNEL).optional(True).element(box))
    return modal.build()


def _value(values: dict, block_id: str, action_id: str | None = None) -> dict:
    return (values.get(block_id) or {}).get(action_id or block_id) or {}


def _offered(view: dict, block_id: str) -> set[str]:
    block: dict[str, Any] = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), {})
    return {o["value"] for o in block.get("element", {}).get("options", [])}


def assignee_state(view: dict) -> tuple[str, str | None, str | None]:
    """(block_id, suggested user, selected user) of the assignee input of an open or submitted view."""
    values = view.get("state", {}).get("values", {})
    block_id = next((b.get("block_id") for b in view.get("blocks", [])
                     if (b.get("block_id") or "").startswith(f"{ASSIGNEE_BLOCK}.")), f"{ASSIGNEE_BLOCK}.-")
    suggested = block_id.split(".", 1)[1]
    selected = _value(values, block_id, ASSIGNEE_BLOCK).get("selected_user")
    return block_id, (None if suggested == "-" else suggested), selected


def reload_defaults(view: dict, suggestion_of_type) -> CaseDefaults:
    """Defaults to re-render the modal after its type changed: typed text kept; the assignee follows
    the new type's suggestion (`suggestion_of_type(type) -> user | None`) unless the person picked someone."""
    values = view.get("state", {}).get("values", {})
    metadata = json.loads(view.get("private_metadata") or "{}")
    case_type = (_value(values, "case_type", TYPE_ACTION).get("selected_option") or {}).get("value")
    priority = (_value(values, "case_priority").get("selected_option") or {}).get("value")
    _, suggested, selected = assignee_state(view)
    own = bool(_value(values, OWN_CHANNEL).get("selected_options"))
    if selected == suggested:
        suggested = selected = suggestion_of_type(case_type)
    return CaseDefaults(
        title=_value(values, "title").get("value") or "", description=_value(values, "description").get("value") or "",
        case_type=case_type, priority=priority, assignee=selected, suggested=suggested, own_channel=own,
        origin_channel_id=metadata.get("origin"), message_permalink=metadata.get("permalink"))


def selected_type(view: dict) -> str | None:
    values = view.get("state", {}).get("values", {})
    return (_value(values, "case_type", TYPE_ACTION).get("selected_option") or {}).get("value")


def parse_create_case(view: dict) -> tuple[CreateCaseForm | None, dict[str, str]]:
    """A form, or `{block_id: error}` for `response_action: errors`. Pure (choices checked against the view)."""
    values = view.get("state", {}).get("values", {})
    metadata = json.loads(view.get("private_metadata") or "{}")
    errors: dict[str, str] = {}
    title = (_value(values, "title").get("value") or "").strip()
    description = (_value(values, "description").get("value") or "").strip()
    if not title:
        errors["title"] = "Give the case a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters (it has {len(title)})."
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description under {DESCRIPTION_MAX} characters (it has {len(description)})."
    case_type = selected_type(view)
    priority = (_value(values, "case_priority").get("selected_option") or {}).get("value")
    if case_type is None or case_type not in _offered(view, "case_type"):
        errors["case_type"] = "Pick one of the listed types."
    if priority is None or priority not in _offered(view, "case_priority"):
        errors["case_priority"] = "Pick one of the listed priorities."
    _, _, assignee = assignee_state(view)
    own = any(o.get("value") == OWN_CHANNEL for o in _value(values, OWN_CHANNEL).get("selected_options") or [])
    if errors or case_type is None or priority is None:
        return None, errors
    return CreateCaseForm(title=title, description=description, case_type=case_type, priority=priority,
                          assignee=assignee, own_channel=own, origin_channel_id=metadata.get("origin"),
                          message_permalink=metadata.get("permalink")), {}
