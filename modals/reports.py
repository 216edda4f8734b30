"""Report modals (builder + parser) and the report / reminder messages. Pure functions."""

from __future__ import annotations

import json

from blockkit import Actions, Button, Context, Header, Input, Message, Modal, PlainTextInput, Section

from domain.reports import FIELDS, SNOOZE_MINUTES, TACTICAL, ReportDue, ReportPosted
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

CALLBACK_ID = "write_report"
WRITE_ACTION = "report_write"
SNOOZE_ACTION = "report_snooze"
FIELD_MAX = 2000


DRAFT_ACTION = "report_draft_ai"
DRAFT_BLOCK = "ai_draft"
NOTE_BLOCK = "ai_note"


def report_modal(kind: str, incident_id: int, channel_id: str, defaults: dict[str, str], *, ai_draft: bool = False,
                 block_ids: dict[str, str] | None = None, suggestions: dict[str, str] | None = None,
                 note: str | None = None, drafting: bool = False) -> dict:
    """Conditions/Actions/Needs (tactical) or Current status/Overview/Next steps (executive).

    With `ai_draft`, a *Draft with AI* button (hidden while `drafting`) and a `note` under it. `block_ids`
    names each field's input block: Slack keeps what the person typed in an input whose block id stays
    the same across views.update (its initial value is then ignored), and shows the initial value of an
    input with a new block id, which is how a draft reaches the fields the person had not touched.
    `suggestions` are shown under a field the person had typed in, for them to copy from."""
    title = "Tactical report" if kind == TACTICAL else "Executive report"
    block_ids = block_ids or {}
    modal = (
        Modal().title(plain(title)).submit(plain("Post")).close(plain("Cancel")).callback_id(CALLBACK_ID)
        .private_metadata(json.dumps({"kind": kind, "incident": incident_id, "channel": channel_id}))
    )
    if ai_draft:
        if not drafting:
            modal.add_block(Actions().block_id(DRAFT_BLOCK).add_element(
                Button(plain("Draft with AI"), DRAFT_ACTION, value=str(incident_id))))
        modal.add_block(Context().block_id(NOTE_BLOCK).add_element(md(escape(note or (
            "*Draft with AI* fills the fields you have not changed from this channel, its timeline, tasks and "
            "reports (secrets removed first); what you typed stays."))[:2000])))
    for key, label in FIELDS[kind]:
        field = PlainTextInput().action_id(key).multiline(True).max_length(FIELD_MAX)
        if defaults.get(key):
            field.initial_value(truncate(defaults[key], FIELD_MAX))
        modal.add_block(Input(plain(label)).block_id(block_ids.get(key, key)).element(field))
        if suggestions and suggestions.get(key):
            modal.add_block(Context().add_element(plain(truncate(f"AI suggestion: {suggestions[key]}", 2000))))
    return modal.build()


def field_block(key: str, block_id: str) -> bool:
    """Whether `block_id` is an input of field `key` (`key`, or `key.<n>` after a draft was filled in)."""
    return block_id == key or block_id.startswith(key + ".")


def report_fields(view: dict) -> dict[str, tuple[str, str, str]]:
    """{field key: (block id, initial value, current value)} of a report modal as Slack sent it."""
    values = view.get("state", {}).get("values", {})
    found = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        key = element.get("action_id")
        if block.get("type") != "input" or not key:
            continue
        current = ((values.get(block.get("block_id")) or {}).get(key) or {}).get("value")
        initial = element.get("initial_value") or ""
        found[key] = (block["block_id"], initial, initial if current is None and block["block_id"] not in values
                      else (current or ""))
    return found


def fill_draft(fields: dict[str, tuple[str, str, str]], draft: dict[str, str]
               ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(values, block ids, suggestions) of the form once the AI drafted `draft`, from `report_fields`.

    A field the person left as it opened gets the draft, through a new block id (so Slack shows it);
    a field they typed in keeps its block id, hence their text, and shows the draft beneath as a suggestion."""
    values, ids, suggestions = {}, {}, {}
    for key, (block_id, initial, typed) in fields.items():
        proposal = draft.get(key)
        if proposal and typed.strip() == initial.strip():
            generation = int(block_id.rsplit(".", 1)[1]) + 1 if "." in block_id else 1
            values[key], ids[key] = truncate(proposal, FIELD_MAX), f"{key}.{generation}"
        else:
            values[key], ids[key] = typed, block_id
            if proposal:
                suggestions[key] = proposal
    return values, ids, suggestions


def parse_report(view: dict) -> tuple[dict | None, dict[str, str]]:
    """({kind, incident, channel, details}, {}) or (None, {block_id: error})."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = view.get("state", {}).get("values", {})
    details, errors = {}, {}
    for key, label in FIELDS[meta["kind"]]:
        block_id = next((b for b in values if field_block(key, b)), key)
        text = (((values.get(block_id) or {}).get(key) or {}).get("value") or "").strip()
        if not text:
            errors[block_id] = f"{label} cannot be empty."
        details[key] = text
    if errors:
        return None, errors
    return {"kind": meta["kind"], "incident": meta["incident"], "channel": meta["channel"], "details": details}, {}


@render.register
def render_report_posted(notice: ReportPosted) -> Rendered:
    title = f"{notice.kind.capitalize()} report · {notice.incident_name}"
    msg = Message().add_block(Header(plain(title, 150))).add_block(Context().add_element(
        md(f"{escape(truncate(notice.title, 200))} · by <@{notice.author}>")))
    for key, label in FIELDS[notice.kind]:
        msg.add_block(Section(md(truncate(f"*{label}*\n{escape(notice.details.get(key, ''))}", 3000))))
    if notice.response_cost:
        msg.add_block(Context().add_element(md(f"*Response cost so far* {escape(notice.response_cost)}")))
    return f"{title}: {notice.title}", msg.build()["blocks"]


@render.register
def render_report_due(notice: ReportDue) -> Rendered:
    where = f" in <#{notice.channel_id}>" if notice.channel_id else ""
    text = (f"{notice.incident_name}{where} is due a {notice.kind} report "
            f"(every {notice.hours} h at this priority).")
    value = f"{notice.kind}:{notice.incident_id}"
    actions = Actions().add_element(Button(plain("Write report"), WRITE_ACTION, value=value, style="primary"))
    for minutes in SNOOZE_MINUTES:
        label = f"Remind me in {minutes} min" if minutes < 60 else f"Remind me in {minutes // 60} h"
        actions.add_element(Button(plain(label), f"{SNOOZE_ACTION}_{minutes}", value=f"{value}:{minutes}"))
    msg = Message().add_block(Section(md(f":memo: {escape(notice.title)}\n{text}"))).add_block(actions)
    return text, msg.build()["blocks"]
