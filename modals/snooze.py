"""The snooze modal opened from a signal case card (builder + parsers) and the snooze notices. Pure functions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from blockkit import Checkboxes, Context, Input, Modal, Option, PlainTextInput, Section, StaticSelect

from domain.signals.snooze import DEFAULT_EXPIRY, EXPIRY_CHOICES, MAX_ENTITIES, PREVIEW_WINDOW, SnoozeCreated
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

CALLBACK_ID = "case_snooze_submit"
ENTITIES_ACTION = "snooze_entities"  # dispatches on every change, so the preview follows the checkboxes
NAME_MAX, REASON_MAX = 150, 1000
METADATA_MAX = 3000  # Slack's private_metadata limit

Entity = tuple[str, str]


@dataclass(frozen=True)
class SnoozeDraft:
    """What the modal shows: the case's entities, which are checked, and the preview (matched, total)."""

    case_id: int
    case_name: str
    definition: str
    entities: list[Entity]
    checked: list[Entity]
    preview: tuple[int, int] = (0, 0)
    name: str = ""
    reason: str = ""
    expiry: str = DEFAULT_EXPIRY


def new_draft(case_id: int, case_name: str, definition: str, entities: list[Entity]) -> SnoozeDraft:
    """A fresh draft: every entity offered is checked (the narrowest snooze), named after the definition."""
    offered = _fitting(case_id, case_name, definition, entities[:MAX_ENTITIES])
    return SnoozeDraft(case_id, case_name, definition, offered, list(offered),
                       name=truncate(f"Snooze {definition}", NAME_MAX))


def _metadata(case_id: int, case_name: str, definition: str, entities: list[Entity]) -> str:
    return json.dumps({"case": case_id, "name": case_name, "definition": definition,
                       "entities": [list(e) for e in entities]})


def _fitting(case_id: int, case_name: str, definition: str, entities: list[Entity]) -> list[Entity]:
    """The entities that still fit in private_metadata (very long values are left out rather than cut:
    a cut value would never match)."""
    kept: list[Entity] = []
    for entity in entities:
        if len(_metadata(case_id, case_name, definition, kept + [entity])) <= METADATA_MAX:
            kept.append(entity)
    return kept


def preview_line(definition: str, matched: int, total: int) -> str:
    days = PREVIEW_WINDOW.days
    return f"Would have matched {matched} of the last {total} alerts of {definition} in the past {days} days"


def _option(index: int, entity: Entity) -> Option:
    return Option(plain(truncate(f"{entity[0]}: {entity[1]}", 75)), str(index))


def snooze_modal(draft: SnoozeDraft) -> dict:
    """Name, reason, entities to match (checkboxes), expiry and the preview of what it would have matched."""
    chosen = draft.expiry if draft.expiry in EXPIRY_CHOICES else DEFAULT_EXPIRY
    expiry = StaticSelect().action_id("expiry").initial_option(Option(plain(EXPIRY_CHOICES[chosen][0]), chosen))
    for key, (label, _) in EXPIRY_CHOICES.items():
        expiry.add_option(Option(plain(label), key))
    boxes = Checkboxes().action_id(ENTITIES_ACTION)
    for i, entity in enumerate(draft.entities):
        boxes.add_option(_option(i, entity))
    for i, entity in enumerate(draft.entities):
        if entity in draft.checked:
            boxes.add_initial_option(_option(i, entity))
    name = PlainTextInput().action_id("name").max_length(NAME_MAX)
    if draft.name:
        name.initial_value(draft.name)
    reason = PlainTextInput().action_id("reason").multiline(True).max_length(REASON_MAX)
    if draft.reason:
        reason.initial_value(draft.reason)
    matched, total = draft.preview
    preview = preview_line(draft.definition, matched, total)
    if not draft.checked:
        preview += " (check at least one entity)"
    intro = (f"Alerts of *{escape(draft.definition)}* that carry every checked entity will make no case "
             f"until the snooze ends. Snoozed from {escape(draft.case_name)}.")
    return (
        Modal().title(plain("Snooze alerts")).submit(plain("Snooze")).close(plain("Cancel")).callback_id(CALLBACK_ID)
        .private_metadata(_metadata(draft.case_id, draft.case_name, draft.definition, draft.entities))
        .add_block(Section(md(truncate(intro, 3000))))
        .add_block(Input(plain("Name")).block_id("name").element(name))
        .add_block(Input(plain("Reason")).block_id("reason").optional(True).element(reason))
        .add_block(Input(plain("Entities to match")).block_id("entities").dispatch_action(True).element(boxes)
                   .hint(plain("An alert is snoozed only when it carries all the checked entities.")))
        .add_block(Context().block_id("preview").add_element(md(escape(truncate(preview, 3000)))))
        .add_block(Input(plain("Snooze for")).block_id("expiry").element(expiry))
        .build()
    )


def _values(view: dict) -> dict:
    return view.get("state", {}).get("values", {})


def _get(values: dict, block: str, action: str | None = None) -> dict:
    return (values.get(block) or {}).get(action or block) or {}


def read_draft(view: dict) -> SnoozeDraft:
    """The modal as the person left it (for rebuilding it with a fresh preview)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = _values(view)
    entities = [(str(t), str(v)) for t, v in meta.get("entities", [])]
    checked: list[Entity] = []
    for opt in _get(values, "entities", ENTITIES_ACTION).get("selected_options") or []:
        index = opt.get("value", "")
        if index.isdigit() and int(index) < len(entities):
            checked.append(entities[int(index)])
    expiry = (_get(values, "expiry").get("selected_option") or {}).get("value") or ""
    return SnoozeDraft(
        case_id=int(meta["case"]), case_name=meta.get("name", ""), definition=meta["definition"], entities=entities,
        checked=checked, name=_get(values, "name").get("value") or "", reason=_get(values, "reason").get("value") or "",
        expiry=expiry,
    )


def parse_snooze(view: dict) -> tuple[dict | None, dict[str, str]]:
    """The submitted snooze, or the errors to show under each input."""
    draft = read_draft(view)
    errors: dict[str, str] = {}
    name = draft.name.strip()
    if not name:
        errors["name"] = "Give the snooze a name."
    if not draft.checked:
        errors["entities"] = "Check at least one entity to match."
    if draft.expiry not in EXPIRY_CHOICES:
        errors["expiry"] = f"Pick one of: {', '.join(label for label, _ in EXPIRY_CHOICES.values())}."
    if errors:
        return None, errors
    return {"case": draft.case_id, "definition": draft.definition, "name": name, "reason": draft.reason.strip(),
            "entities": [{"type": t, "value": v} for t, v in draft.checked], "expiry": draft.expiry}, {}


def _date(at) -> str:
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


@render.register
def render_snooze_created(notice: SnoozeCreated) -> Rendered:
    shown = ", ".join(f"{escape(t)}: `{escape(truncate(v, 80))}`" for t, v in notice.entities)
    if notice.to_snoozer:
        text = (f"Snoozed: alerts of {escape(notice.definition)} carrying {shown} make no case until "
                f"{_date(notice.until)} (from {escape(notice.case_name)}).")
    else:
        text = (f":zzz: <@{notice.user}> snoozed *{escape(notice.name)}* for {notice.duration}, until "
                f"{_date(notice.until)}: alerts of {escape(notice.definition)} carrying {shown} make no case.")
        if notice.reason:
            text += f" Reason: {escape(notice.reason)}"
    text = truncate(text, 3000)
    return text, [Section(md(text)).build()]
