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


def report_modal(kind: str, incident_id: int, channel_id: str, defaults: dict[str, str]) -> dict:
    """Conditions/Actions/Needs (tactical) or Current status/Overview/Next steps (executive)."""
    title = "Tactical report" if kind == TACTICAL else "Executive report"
    modal = (
        Modal().title(plain(title)).submit(plain("Post")).close(plain("Cancel")).callback_id(CALLBACK_ID)
        .private_metadata(json.dumps({"kind": kind, "incident": incident_id, "channel": channel_id}))
    )
    for key, label in FIELDS[kind]:
        field = PlainTextInput().action_id(key).multiline(True).max_length(FIELD_MAX)
        if defaults.get(key):
            field.initial_value(truncate(defaults[key], FIELD_MAX))
        modal.add_block(Input(plain(label)).block_id(key).element(field))
    return modal.build()


def parse_report(view: dict) -> tuple[dict | None, dict[str, str]]:
    """({kind, incident, channel, details}, {}) or (None, {block_id: error})."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = view.get("state", {}).get("values", {})
    details, errors = {}, {}
    for key, label in FIELDS[meta["kind"]]:
        text = (((values.get(key) or {}).get(key) or {}).get("value") or "").strip()
        if not text:
            errors[key] = f"{label} cannot be empty."
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
