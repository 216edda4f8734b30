"""The follow-up DM of a Stable incident and what it becomes once snoozed. Pure functions."""

from __future__ import annotations

from blockkit import Actions, Button, Context, Message, Section

from domain.response.follow_up import FollowUpSnoozed, StableFollowUp
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

CLOSE_ACTION, SNOOZE_ACTION = "follow_up_close", "follow_up_snooze"


@render.register
def render_stable_follow_up(n: StableFollowUp) -> Rendered:
    f = n.facts
    where = f" (<#{f.channel_id}>)" if f.channel_id else ""
    text = (f"{f.name} has been Stable for {n.stable_days} days. Is it time to close it?")
    msg = Message().add_block(Section(md(
        f":mag: *{escape(f.name)}* {escape(truncate(f.title, 200))}{where} has been *Stable for {n.stable_days} days*. "
        "Is it time to close it?")))
    if n.open_tasks:
        lines = "\n".join(f"• {escape(truncate(t, 200))}" for t in n.open_tasks[:10])
        more = f"\n…and {len(n.open_tasks) - 10} more" if len(n.open_tasks) > 10 else ""
        msg.add_block(Section(md(truncate(f"*{len(n.open_tasks)} open task(s)*\n{lines}{more}", 3000))))
    msg.add_block(Actions().add_element(
        Button(plain("Close it"), CLOSE_ACTION, value=str(n.incident_id), style="primary")).add_element(
        Button(plain("Remind me next week" if n.remind_every_days == 7 else f"Remind me in {n.remind_every_days} days"),
               SNOOZE_ACTION, value=str(n.incident_id))))
    msg.add_block(Context().add_element(md(f"Or run `{escape(n.update_command)} {escape(f.name)}` yourself.")))
    return text, msg.build()["blocks"]


@render.register
def render_follow_up_snoozed(n: FollowUpSnoozed) -> Rendered:
    text = f"OK: I'll ask about {n.incident_name} again on {n.next_at:%Y-%m-%d}."
    return text, Message().add_block(Section(md(escape(text)))).build()["blocks"]
