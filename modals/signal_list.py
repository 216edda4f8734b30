"""The list-signals answer: definitions whose cases go to a channel, with their snoozes. Pure functions."""

from __future__ import annotations

from blockkit import Button, Context, Message, Section

from domain.signals.listing import SignalLine, SignalList, SnoozeLine
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

SHOWN = 40  # 1 heading + 40 definitions stays under Slack's 50 blocks
END_SNOOZE_ACTION = "snooze_end"


def _until(snooze: SnoozeLine) -> str:
    if snooze.until is None:
        when = "until removed"
    else:
        when = f"until <!date^{int(snooze.until.timestamp())}^{{date_short_pretty}} {{time}}|{snooze.until:%Y-%m-%d %H:%M} UTC>"
    return f"{escape(snooze.name)} ({when}{', config' if snooze.from_config else ''})"


def _line(s: SignalLine) -> str:
    lines = [f"*{escape(s.name)}*"]
    facts = [f"external id `{escape(s.external_id)}`" if s.external_id else "no external id",
             f"owner {escape(s.owner)}" if s.owner else "no owner",
             "creates cases" if s.create_case else "context only (no cases)"]
    lines.append(" · ".join(facts))
    lines.append(f"Entities: {escape(', '.join(s.entity_types))}" if s.entity_types else "Entities: _none_")
    if s.runbook:
        lines.append(f"Runbook: <{escape(s.runbook)}|open>")
    lines.append("Snoozed: " + "; ".join(_until(z) for z in s.snoozes) if s.snoozes else "Snoozed: _no_")
    return truncate("\n".join(lines), 3000)


@render.register
def render_signal_list(notice: SignalList) -> Rendered:
    if not notice.signals:
        text = (f"No enabled signal definition sends its cases to <#{notice.channel_id}> "
                f"({notice.total_definitions} definition(s) configured in total).")
        return text, Message().add_block(Section(md(text))).build()["blocks"]
    heading = f"Signals whose cases go to <#{notice.channel_id}> ({len(notice.signals)})"
    msg = Message().add_block(Section(md(f"*{heading}*")))
    for s in notice.signals[:SHOWN]:
        section = Section(md(_line(s)))
        ending = next((z for z in s.snoozes if z.filter_id is not None), None)
        if ending is not None:  # one accessory per section: the snooze that ends soonest
            section.accessory(Button(plain(f"End snooze: {ending.name}", 75), END_SNOOZE_ACTION,
                                     value=str(ending.filter_id)))
        msg.add_block(section)
    if len(notice.signals) > SHOWN:
        msg.add_block(Context().add_element(md(f"…and {len(notice.signals) - SHOWN} more")))
    return heading, msg.build()["blocks"]
