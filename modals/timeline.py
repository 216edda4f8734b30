"""Timeline: the add-event modal (builder + parser) and the timeline page message."""

from __future__ import annotations

import json
from datetime import datetime

from blockkit import (
    Context,
    DatePicker,
    Header,
    Input,
    Message,
    Modal,
    Option,
    PlainTextInput,
    Section,
    StaticSelect,
    TimePicker,
)

from domain.timeline import ManualEventDraft, TimelineEventAdded, TimelineView, event_time, zone
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

CALLBACK_ID = "add_timeline_event"
DESCRIPTION_MAX = 2000


def add_event_modal(draft: ManualEventDraft, *, user_tz: str, now: datetime, incident_id: int, channel_id: str) -> dict:
    """Modal pre-filled with the draft; date and time default to now in the person's time zone."""
    local = now.astimezone(zone(user_tz))
    desc = PlainTextInput().action_id("description").multiline(True).max_length(DESCRIPTION_MAX)
    if draft.description:
        desc.initial_value(truncate(draft.description, DESCRIPTION_MAX))
    mine = Option(plain(f"Your time zone ({user_tz})", 75), user_tz)
    tz_select = StaticSelect().action_id("tz").add_option(mine).initial_option(mine)
    if user_tz != "UTC":
        tz_select.add_option(Option(plain("UTC"), "UTC"))
    return (
        Modal()
        .title(plain("Add timeline event"))
        .submit(plain("Add"))
        .close(plain("Cancel"))
        .callback_id(CALLBACK_ID)
        .private_metadata(json.dumps({"incident": incident_id, "channel": channel_id}))
        .add_block(Input(plain("What happened")).block_id("description").element(desc))
        .add_block(Input(plain("Date")).block_id("date").element(
            DatePicker().action_id("date").initial_date(draft.date or local.strftime("%Y-%m-%d"))))
        .add_block(Input(plain("Time")).block_id("time").element(
            TimePicker().action_id("time").initial_time(draft.time or local.strftime("%H:%M"))))
        .add_block(Input(plain("Time zone")).block_id("tz").element(tz_select))
        .build()
    )


def parse_add_event(view: dict, *, now: datetime | None = None) -> tuple[dict | None, dict[str, str]]:
    """({incident, channel, description, when}, {}) or (None, {block_id: error})."""
    values = view.get("state", {}).get("values", {})

    def get(block: str, key: str):
        return ((values.get(block) or {}).get(block) or {}).get(key)

    meta = json.loads(view.get("private_metadata") or "{}")
    description = (get("description", "value") or "").strip()
    errors: dict[str, str] = {}
    if not description:
        errors["description"] = "Say what happened."
    tz = (get("tz", "selected_option") or {}).get("value") or "UTC"
    when, error = event_time(get("date", "selected_date"), get("time", "selected_time"), tz, now=now)
    if error:
        errors["time"] = error
    if errors:
        return None, errors
    return {"incident": meta["incident"], "channel": meta["channel"], "description": description, "when": when}, {}


@render.register
def render_timeline_page(notice: TimelineView) -> Rendered:
    tz = zone(notice.tz)
    text = f"{notice.incident_name} timeline, page {notice.page} of {notice.pages}"
    msg = Message().add_block(Header(plain(f"{notice.incident_name} timeline", 150)))
    if not notice.entries:
        msg.add_block(Section(md("_Nothing on the timeline yet. React with the timeline emoji to add messages._")))
    for e in notice.entries:
        when = e.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        msg.add_block(Section(md(truncate(f"*{when}*  {escape(e.description)}", 3000))))
        msg.add_block(Context().add_element(md(escape(truncate(e.source, 300)))))
    more = f" · next: `{notice.command} {notice.page + 1}`" if notice.page < notice.pages else ""
    msg.add_block(Context().add_element(md(f"Times in {notice.tz} · page {notice.page} of {notice.pages}{more}")))
    return text, msg.build()["blocks"]


@render.register
def render_timeline_event_added(notice: TimelineEventAdded) -> Rendered:
    text = f"Added to the timeline by <@{notice.user_id}>: {notice.description}"
    when = f"<!date^{int(notice.when.timestamp())}^{{date_short_pretty}} {{time}}|{notice.when:%Y-%m-%d %H:%M} UTC>"
    msg = Message().add_block(Section(md(truncate(
        f":stopwatch: <@{notice.user_id}> added to the timeline ({when}):\n{escape(notice.description)}", 3000))))
    return truncate(text, 3000), msg.build()["blocks"]
