"""To someone outside a restricted incident, it does not exist: no title, no commander, no hint.

One table lists every command, shortcut, event and interaction the Registry records (handlers/registry.py)
with either a probe, in which an outsider tries it against two Restricted incidents (one reported private,
one escalated from a case whose own channel it took over), or the reason it cannot show an incident.
`test_every_listener_is_in_the_sweep` fails for a listener added without a line here, so a new button or
command is swept (or consciously set aside) from the day it exists. Probes for what warroom pushes on its
own (announcements, the daily summary, reminders, executive reports) follow.

After each probe the outsider's whole view of the workspace (ephemerals, modals, App Home, messages of
every channel they can read, public channel names and topics) must hold none of the restricted incidents'
markers (names, titles, descriptions, task and report text, the private commander, the private channel),
and they must be in none of those channels nor incidents. Where a listener takes a name or an id, the
answer to a restricted one must equal the answer to one that does not exist.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from bot.harness import running_warroom
from bot.manifest import offline_registry
from domain.config.schema import WarroomConfig
from domain.incidents.detail import notifications_group
from domain.incidents.service import incident_facts
from domain.response.follow_up import StableFollowUp
from emulators.slackemu.forms import DriverError
from jobs import case_feedback_digest, case_reminders, daily_summary, report_reminders, task_reminders
from storage.case_models import Case, CaseParticipant
from storage.feedback_models import Feedback
from storage.models import Incident
from storage.report_models import ReportReminder
from storage.task_models import IncidentTask
from storage.types import utcnow
from storage.workflow_models import IncidentFollowUp
from tests.e2e.incident_helpers import participant, report

UNKNOWN_INCIDENT, UNKNOWN_CASE, UNKNOWN_ID = "INC-99", "CASE-99", "999999"


def config_for(feed: str, security: str, carol: str) -> WarroomConfig:
    return WarroomConfig.model_validate({
        "notification_channels": [{"name": "incidents", "channel": feed}],
        "oncall": {"schedules": {"secops": [carol]}},
        "costs": {"custom_types": [{"name": "Lost revenue"}]},
        "cases": {"types": [
            {"name": "Security triage", "default": True, "conversation_target": security, "oncall_service": "secops",
             "incident_type": "Security"},
            {"name": "Ops triage", "conversation_target": security, "incident_type": "Reliability"},
        ]},
    })


def registered(registry) -> set[str]:
    """Every listener the Registry records, as `kind:key` (the table's keys)."""
    return ({f"command:{c.command}" for c in registry.commands} | {f"shortcut:{s.callback_id}" for s in registry.shortcuts}
            | {f"event:{e}" for e in registry.events} | set(registry.interactions))


# ----------------------------------------------------------------------------------------------- the world


@dataclass
class World:
    slack: object
    warroom: object
    eve: str  # the outsider: in #general, #security (the triage channel) and #incidents (announcements)
    rita: str  # commands the private incident; shares no channel with eve
    carol: str  # on call for secops: assignee of the case, then commander of the incident it became
    bob: str
    general: str
    security: str
    feed: str
    private: Incident | None = None  # INC-1, reported private by rita
    escalated: Incident | None = None  # escalated from the case, Restricted, in the case's own (private) channel
    eves: Incident | None = None  # an Open incident eve commands (carriers: a task card, a report reminder)
    closed: Incident | None = None  # an Open incident eve took part in, now Closed (carrier: a feedback request)
    case_id: int = 0  # the case escalated to `escalated`
    card: str = ""  # its card in #security
    carrier_case: str = ""  # an open Ops case's card: its buttons carry the restricted case's id
    closed_case: str = ""  # a closed case's card (its Reopen button)
    stale_escalate: str = ""  # an Escalate form eve opened on the case before it was escalated
    private_task: int = 0
    eves_task: int = 0
    markers: list[re.Pattern] = field(default_factory=list)

    # -- what eve can see
    def surface(self) -> list[str]:
        s, eve = self.slack, self.eve
        seen = [json.dumps([e["text"], e.get("blocks")]) for e in s.ephemerals if e["user"] == eve]
        seen += [json.dumps(v.view) for v in s.views.values() if v.user == eve]
        for c in s.channels.values():
            if eve in c.members or not (c.is_private or c.is_im):
                seen.append(json.dumps([c.name, c.topic]))
                seen += [json.dumps([m.text, m.blocks]) for m in c.messages]
        return seen

    def leaks(self, seen: list[str] | None = None) -> list[str]:
        text = "\n".join(self.surface() if seen is None else seen)
        return [m.pattern for m in self.markers if m.search(text)]

    async def settle(self) -> None:
        await self.warroom.registry.drain()
        for view in self.slack.open_views(self.eve):
            if view.id != self.stale_escalate:
                await self.slack.close_view(self.eve, view.id)

    async def answer(self, act: Callable[[], Awaitable]) -> list[str]:
        """What eve newly sees after `act`, normalised (timestamps and ids vary between two runs)."""
        before = Counter(self.surface())
        try:
            await act()
        except DriverError as exc:  # what Slack's UI would not let her do
            return [f"refused by Slack: {exc}"]
        await self.settle()
        new = (Counter(self.surface()) - before).elements()
        return sorted(re.sub(r"\b[VR]\d{7}\b|\d{10}\.\d{6}", "<id>", x) for x in new)

    async def same_as_unknown(self, act: Callable[[str], Awaitable], secrets: list[str], unknown: str) -> None:
        expected = await self.answer(lambda: act(unknown))
        for secret in secrets:
            got = await self.answer(lambda secret=secret: act(secret))
            assert got == expected, f"{secret} answered differently from an unknown one: {got} != {expected}"

    # -- the driver, as eve
    async def command(self, command: str, text: str = "", channel: str | None = None) -> None:
        await self.slack.slash_command(self.eve, command, text, channel=channel or self.general)

    async def click(self, action_id: str, channel: str, ts: str, value: str | None = None) -> None:
        await self.slack.click(self.eve, action_id, value, channel=channel, message_ts=ts)


async def new_view(slack, user, start):
    before = set(slack.views)
    await start()
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def top_level(slack, channel, prefix):
    return [m for m in slack.channels[channel].messages if m.text.startswith(prefix) and not m.thread_ts]


async def build(slack, warroom, w: World) -> World:
    s = slack
    rita, eve, carol, bob = w.rita, w.eve, w.carol, w.bob
    sessions = warroom.deps.sessions

    # The private incident: a task, a tactical report.
    w.private = await report(s, warroom, rita, None, title="Zephyr exfiltration", private=["restricted"],
                             description="Zephyr keys copied to an unknown host")
    view = await new_view(s, rita, lambda: s.slash_command(rita, "/dispatch-create-task", channel=w.private.channel_id))
    await s.submit_view(rita, view.id, {"description": "Rotate zephyr keys", "assignees": [rita]})
    view = await new_view(s, rita, lambda: s.slash_command(rita, "/dispatch-report-tactical", channel=w.private.channel_id))
    await s.submit_view(rita, view.id, {"conditions": "Zephyr host up", "actions": "Blocked zephyr egress",
                                        "needs": "Zephyr forensics"})

    # Eve's own Open incident with her task, and an Open one she took part in, now Closed.
    w.eves = await report(s, warroom, eve, w.general, title="Open drill")
    view = await new_view(s, eve, lambda: s.slash_command(eve, "/dispatch-create-task", channel=w.eves.channel_id))
    await s.submit_view(eve, view.id, {"description": "Check the drill", "assignees": [eve]})
    w.closed = await report(s, warroom, bob, w.general, title="Finished drill")
    await s.join(eve, w.closed.channel_id)
    await s.wait_for(lambda: participant(warroom, w.closed.id, eve))
    view = await new_view(s, bob, lambda: s.slash_command(bob, "/dispatch-update-incident", channel=w.closed.channel_id))
    await s.submit_view(bob, view.id, {"status": "Closed", "incident_severity": "Minor"})

    # The case: its card in #security, its own private channel, then escalated by its assignee.
    view = await new_view(s, carol, lambda: s.slash_command(carol, "/dispatch-create-case", "Odd logins", channel=w.general))
    await s.submit_view(carol, view.id, {"description": "Logins from a TOR exit node"})
    card = (await s.wait_for(lambda: top_level(s, w.security, "CASE-1")))[0]
    w.card = card.ts
    w.stale_escalate = (await new_view(s, eve, lambda: s.click(eve, "case_escalate", channel=w.security,
                                                                 message_ts=card.ts))).id
    await s.click(carol, "case_create_channel", channel=w.security, message_ts=card.ts)
    own = await s.wait_for(lambda: s.channel_by_name("case-1-odd-logins"))
    await s.wait_for(lambda: own.pins)
    view = await new_view(s, carol, lambda: s.click(carol, "case_escalate", channel=w.security, message_ts=card.ts))
    await s.submit_view(carol, view.id, {"title": "Quartz breach", "note": "Quartz host confirmed"})
    await s.wait_for(lambda: own.name.startswith("inc-") and "(Escalated)" in s.channels[w.security].find(card.ts).text)
    await warroom.registry.drain()
    async with sessions() as session:
        case = (await session.execute(select(Case).where(Case.number == 1))).scalar_one()
        w.case_id, w.escalated = case.id, await session.get(Incident, case.incident_id)
    assert w.escalated.visibility == "Restricted" and w.escalated.channel_id == own.id

    # Carrier cases: an open one (Join, Escalate, Create channel) and a closed one (Reopen).
    for number, title in ((2, "Ops noise"), (3, "Closed noise")):
        view = await new_view(s, bob, lambda title=title: s.slash_command(bob, "/dispatch-create-case", title,
                                                                          channel=w.general))
        await s.submit_view(bob, view.id, {"description": "Noise", "case_type": "Ops triage"})
        found = await s.wait_for(lambda number=number: top_level(s, w.security, f"CASE-{number}"))
        if number == 2:
            w.carrier_case = found[0].ts
    view = await new_view(s, bob, lambda: s.click(bob, "case_resolve", channel=w.security, message_ts=found[0].ts))
    await s.submit_view(bob, view.id, {"reason": "Benign", "resolution": "Noise"})
    w.closed_case = found[0].ts
    await s.wait_for(lambda: "(Closed)" in s.channels[w.security].find(w.closed_case).text)

    # Eve is due a report on her incident (a reminder DM); everyone's open incidents are summarised.
    async with sessions() as session:
        await session.execute(update(Incident).where(Incident.id == w.eves.id)
                              .values(reported_at=utcnow() - timedelta(hours=25)))
        tasks = {t.incident_id: t.id for t in (await session.execute(select(IncidentTask))).scalars()}
        await session.commit()
    w.private_task, w.eves_task = tasks[w.private.id], tasks[w.eves.id]
    assert await report_reminders.run(warroom.deps) >= 1
    await daily_summary.run(warroom.deps)
    await warroom.registry.drain()

    w.markers = [re.compile(p, re.I) for p in (
        rf"\b{w.private.name}\b", rf"\b{w.escalated.name}\b", "zephyr", "quartz", w.rita, w.private.channel_id,
        "unknown host", w.escalated.channel_name)]
    return w


# ----------------------------------------------------------------------------------------------- the probes


def dm(w: World):
    return w.slack.dm_channel(w.eve)


def dm_with(w: World, text: str):
    return next(m for m in reversed(dm(w).messages) if text in m.text)


async def by_name(w: World, command: str, managing: bool = True) -> None:
    """The command with a restricted incident's name answers as with an unknown one, outside any incident
    channel and, for the commands that honour a name (managing ones), in one of eve's own."""
    for channel in (w.general, w.eves.channel_id) if managing else (w.general,):
        await w.same_as_unknown(lambda name, channel=channel: w.command(command, name, channel),
                                [w.private.name, w.escalated.name], UNKNOWN_INCIDENT)


async def case_by_name(w: World, command: str) -> None:
    await w.same_as_unknown(lambda name: w.command(command, name), ["CASE-1"], UNKNOWN_CASE)


async def list_incidents(w: World) -> None:
    await w.answer(lambda: w.command("/dispatch-list-incidents"))
    await w.answer(lambda: w.command("/dispatch-list-incidents", "default"))
    await w.answer(lambda: w.command("/dispatch-list-incidents", "tag:payments"))


async def list_my_tasks(w: World) -> None:
    await w.answer(lambda: w.command("/dispatch-list-my-tasks"))


async def create_task_for_outsider(w: World) -> None:
    """The commander cannot give eve a task of the private incident (its card and reminders would name it)."""
    s = w.slack
    view = await new_view(s, w.rita, lambda: s.slash_command(w.rita, "/dispatch-create-task",
                                                             channel=w.private.channel_id))
    refused = await s.submit_view(w.rita, view.id, {"description": "Zephyr audit", "assignees": [w.eve]})
    assert set((refused.ack_payload or {}).get("errors") or {}) == {"assignees"}, "eve was given a task"
    if s.views[view.id].state == "open":
        await s.close_view(w.rita, view.id)


async def announcement_join(w: World) -> None:
    feed = w.slack.channels[w.feed]
    announcement = next(m for m in feed.messages if w.eves.name in m.text and not m.text.startswith("Incident summary"))
    summary = next(m for m in reversed(feed.messages) if m.text.startswith("Incident summary"))
    daily_join = f"announcement_join_{w.eves.name.lower()}"
    for action_id, ts in (("announcement_join", announcement.ts), (daily_join, summary.ts)):
        await w.same_as_unknown(lambda name, a=action_id, t=ts: w.click(a, w.feed, t, name),
                                [w.private.name, w.escalated.name], UNKNOWN_INCIDENT)


async def announcement_subscribe(w: World) -> None:
    announcement = next(m for m in w.slack.channels[w.feed].messages if w.eves.name in m.text
                        and not m.text.startswith("Incident summary"))
    await w.same_as_unknown(lambda name: w.click("announcement_subscribe", w.feed, announcement.ts, name),
                            [w.private.name, w.escalated.name], UNKNOWN_INCIDENT)
    async with w.warroom.deps.sessions() as session:
        for incident in (w.private, w.escalated):
            assert w.eve not in (await notifications_group(session, incident.id))[0]
        await session.commit()


async def home(w: World) -> None:
    await w.answer(lambda: w.slack.open_home(w.eve))


async def join_channels(w: World) -> None:
    """Restricted incidents have private channels: nobody joins one uninvited (member_joined_channel)."""
    for incident in (w.private, w.escalated):
        assert w.slack.channels[incident.channel_id].is_private
        assert (await w.answer(lambda incident=incident: w.slack.join(w.eve, incident.channel_id)))[0].startswith(
            "refused by Slack")


async def thread_reply(w: World) -> None:
    await w.answer(lambda: w.slack.post_message(w.eve, w.security, "anything I can do?", thread_ts=w.card))


async def case_card_click(w: World, action_id: str) -> None:
    """A button the escalated case's card still shows, clicked as it is."""
    await w.answer(lambda: w.click(action_id, w.security, w.card))


async def case_join(w: World) -> None:
    said = await w.answer(lambda: w.click("case_join", w.security, w.carrier_case, str(w.case_id)))
    assert any("CASE-1 was escalated" in x and f"<@{w.carol}>" in x for x in said), said


async def case_escalate(w: World) -> None:
    said = await w.answer(lambda: w.click("case_escalate", w.security, w.carrier_case, str(w.case_id)))
    assert any("CASE-1 was already escalated" in x for x in said), said


async def case_create_channel(w: World) -> None:
    await w.answer(lambda: w.click("case_create_channel", w.security, w.carrier_case, str(w.case_id)))


async def case_reopen(w: World) -> None:
    await w.answer(lambda: w.click("case_reopen", w.security, w.closed_case, str(w.case_id)))


async def case_edit(w: World) -> None:
    """Re-assigning the case to herself from its card would invite her to its channel, now the incident's."""
    s = w.slack
    view = await new_view(s, w.eve, lambda: w.click("case_edit", w.security, w.card))
    assignee = next(b["block_id"] for b in view.view["blocks"] if (b.get("block_id") or "").startswith("assignee."))
    refused = await s.submit_view(w.eve, view.id, {assignee: w.eve})
    said = str(refused.ack_payload["errors"])  # checked at submit: the form stays open with the reason
    assert "can reassign it" in said and "INC-" not in said, said


async def case_add_mentioned(w: World) -> None:
    """"Add them" is offered to a case's assignee: eve, assignee of her own case, mentions someone there, then
    presses her offer's button carrying the restricted case's id and her own."""
    s = w.slack
    view = await new_view(s, w.eve, lambda: s.slash_command(w.eve, "/dispatch-create-case", "Eve's case", channel=w.general))
    assignee = next(b["block_id"] for b in view.view["blocks"] if (b.get("block_id") or "").startswith("assignee."))
    await s.submit_view(w.eve, view.id, {"description": "Mine", "case_type": "Ops triage", assignee: w.eve})
    card = (await s.wait_for(lambda: [m for m in top_level(s, w.security, "CASE-") if "Eve's case" in m.text]))[0]
    await s.post_message(w.eve, w.security, f"<@{w.bob}> can you look?", thread_ts=card.ts)
    offer = await s.wait_for(lambda: [e for e in s.ephemerals if e["user"] == w.eve and "Add them" in str(e.get("blocks"))])
    said = await w.answer(lambda: s.click(w.eve, "case_add_mentioned", f"{w.case_id}:{w.eve}", channel=w.security,
                                          message_ts=offer[-1]["ts"]))
    assert any("can add someone to it" in x for x in said), said


async def case_feedback_button(w: World) -> None:
    """A case feedback button carrying the restricted case's id (eve never worked it): as for no case."""
    s = w.slack
    card = [m for m in top_level(s, w.security, "CASE-") if "Eve's case" in m.text]
    assert card, "eve's own case is made by the case_add_mentioned probe, which runs first"
    view = await new_view(s, w.eve, lambda: s.click(w.eve, "case_resolve", channel=w.security, message_ts=card[0].ts))
    await s.submit_view(w.eve, view.id, {"reason": "Benign", "resolution": "Mine"})
    request = await s.wait_for(lambda: [m for m in s.dm_messages(w.eve) if "Give feedback" in str(m.blocks)
                                        and "is closed. How was it handled" in m.text])
    said = await w.answer(lambda: s.click(w.eve, "case_feedback_open", str(w.case_id), channel=s.channels_for_dm(w.eve),
                                          message_ts=request[-1].ts))
    assert any("There is no case to give feedback on here." in x for x in said), said
    assert not [v for v in s.open_views(w.eve) if v.view.get("callback_id") == "give_case_feedback"]


async def stale_escalate_form(w: World) -> None:
    refused = await w.slack.submit_view(w.eve, w.stale_escalate, {"title": "Eve's view"})
    said = str(refused.ack_payload["errors"])  # checked at submit: the form stays open with the reason
    assert "CASE-1 was already escalated" in said and "INC-" not in said, said


async def task_buttons(w: World, action: str) -> None:
    s = w.slack
    card = next(m for m in s.channels[w.eves.channel_id].messages if m.text.startswith("Task: "))
    if action == "task_reopen":  # a Re-open button: her task resolved first
        await s.click(w.eve, f"task_resolve_{w.eves_task}", channel=w.eves.channel_id, message_ts=card.ts)
        await s.wait_for(lambda: "Re-open" in str(s.channels[w.eves.channel_id].find(card.ts).blocks))
    action_id = f"{action}_{w.eves_task}"
    await w.same_as_unknown(lambda task: w.click(action_id, w.eves.channel_id, card.ts, task), [str(w.private_task)],
                            UNKNOWN_ID)
    # The same button in the task list modal would replace the list with the other incident's tasks.
    view = await new_view(s, w.eve, lambda: w.command("/dispatch-list-tasks", channel=w.eves.channel_id))
    await w.answer(lambda: s.click(w.eve, action_id, str(w.private_task), view_id=view.id))
    if action == "task_reopen":
        await s.click(w.eve, action_id, channel=w.eves.channel_id, message_ts=card.ts)
    async with w.warroom.deps.sessions() as session:
        assert (await session.get(IncidentTask, w.private_task)).status == "Open"


async def report_button(w: World, action_id: str) -> None:
    reminder = dm_with(w, "is due a tactical report")
    suffix = action_id.rsplit("_", 1)[-1] if "snooze" in action_id else None
    await w.same_as_unknown(
        lambda incident_id: w.click(action_id, dm(w).id, reminder.ts,
                                    f"tactical:{incident_id}" + (f":{suffix}" if suffix else "")),
        [str(w.private.id), str(w.escalated.id)], UNKNOWN_ID)
    async with w.warroom.deps.sessions() as session:
        rows = (await session.execute(select(ReportReminder).where(
            ReportReminder.incident_id.in_([w.private.id, w.escalated.id])))).scalars().all()
    assert not [r for r in rows if r.snoozed_until], "a restricted incident's reminder was snoozed"


async def feedback_button(w: World) -> None:
    request = dm_with(w, "How did it go?")
    await w.same_as_unknown(lambda incident_id: w.click("feedback_open", dm(w).id, request.ts, incident_id),
                            [str(w.private.id), str(w.escalated.id)], UNKNOWN_ID)
    async with w.warroom.deps.sessions() as session:
        assert not (await session.execute(select(Feedback).where(Feedback.user_id == w.eve))).scalars().all()


async def update_private(w: World) -> None:
    """Announcements follow every change: a restricted incident's never reach the notification channel."""
    s = w.slack
    view = await new_view(s, w.rita, lambda: s.slash_command(w.rita, "/dispatch-update-incident",
                                                             channel=w.private.channel_id))
    await s.submit_view(w.rita, view.id, {"incident_priority": "High", "description": "Zephyr keys on two hosts"})
    await w.answer(lambda: s.wait_for(lambda: "Priority: High" in s.channels[w.private.channel_id].topic))


async def executive_report(w: World) -> None:
    s = w.slack
    view = await new_view(s, w.rita, lambda: s.slash_command(w.rita, "/dispatch-report-executive",
                                                             channel=w.private.channel_id))
    await s.submit_view(w.rita, view.id, {"current_status": "Zephyr contained", "overview": "Zephyr keys rotated",
                                          "next_steps": "Zephyr review"})
    await w.answer(lambda: s.wait_for(lambda: any(m.text.startswith("Executive report")
                                                  for m in s.channels[w.private.channel_id].messages)))


async def subscribed_while_open(w: World) -> None:
    """Someone who subscribed while an incident was Open gets no stakeholder update once it is Restricted again."""
    s, rita = w.slack, w.rita
    garnet = await report(s, w.warroom, rita, None, title="Garnet outage", private=["restricted"])

    async def update(values):
        view = await new_view(s, rita, lambda: s.slash_command(rita, "/dispatch-update-incident", channel=garnet.channel_id))
        await s.submit_view(rita, view.id, values)
        await w.warroom.registry.drain()

    await update({"visibility": "Open"})
    announcement = await s.wait_for(lambda: next((m for m in s.channels[w.feed].messages if garnet.name in m.text), None))
    await w.click("announcement_subscribe", w.feed, announcement.ts)
    await w.settle()
    await update({"visibility": "Restricted"})
    view = await new_view(s, rita, lambda: s.slash_command(rita, "/dispatch-report-executive", channel=garnet.channel_id))
    await s.submit_view(rita, view.id, {"current_status": "Garnet root cause found", "overview": "Garnet",
                                        "next_steps": "Garnet fix"})
    seen = await w.answer(lambda: s.wait_for(lambda: any(m.text.startswith("Executive report")
                                                         for m in s.channels[garnet.channel_id].messages)))
    assert not [x for x in seen if "root cause" in x], f"the executive report reached a former subscriber: {seen}"
    async with w.warroom.deps.sessions() as session:
        assert w.eve not in (await notifications_group(session, garnet.id))[0]
        await session.commit()


async def follow_up_button(w: World, action_id: str) -> None:
    """The follow-up DM of a Stable incident carries its id: a restricted incident's answers as an unknown one's,
    and is neither snoozed nor offered for closing."""
    async with w.warroom.deps.sessions() as session:
        facts = await incident_facts(session, await session.get(Incident, w.eves.id))
        await session.commit()
    notice = StableFollowUp(w.eves.id, facts, 8, [], "/dispatch-update-incident", 7)
    ref = await w.warroom.deps.ports.conversation.send_direct(w.eve, notice)
    await w.same_as_unknown(lambda incident_id: w.click(action_id, ref.channel_id, ref.ts, incident_id),
                            [str(w.private.id), str(w.escalated.id)], UNKNOWN_ID)
    async with w.warroom.deps.sessions() as session:
        assert not (await session.execute(select(IncidentFollowUp))).scalars().all()


async def jobs_run(w: World) -> None:
    async with w.warroom.deps.sessions() as session:
        await session.execute(update(IncidentTask).values(due_at=utcnow() - timedelta(hours=1)))
        await session.commit()

    async def run():
        await daily_summary.run(w.warroom.deps)
        await report_reminders.run(w.warroom.deps)
        await task_reminders.run(w.warroom.deps)
        await case_reminders.run(w.warroom.deps)
        await case_feedback_digest.run(w.warroom.deps)

    await w.answer(run)


FORM_OPENED_AFTER_A_CHECK = ("submits a form warroom opened only after its own check, for an incident or case in "
                             "its private_metadata, which the person cannot change; probed through what opens it")
CREATES = "starts something new (a report or case form); shows nothing that exists"
SIGNAL_CASE = "signal-case snoozes: show the case's own entities (on its card) and definitions, never an incident"
OWN_CHANNELS = ("acts on messages of a channel the person is in; restricted incidents' channels are private "
                "(probed by event:member_joined_channel)")

TABLE: dict[str, Callable[[World], Awaitable] | str] = {
    # Commands that take an incident's name (managing ones) or only work in an incident channel.
    "command:/dispatch-update-incident": lambda w: by_name(w, "/dispatch-update-incident"),
    "command:/dispatch-assign-role": lambda w: by_name(w, "/dispatch-assign-role"),
    "command:/dispatch-notifications-group": lambda w: by_name(w, "/dispatch-notifications-group"),
    "command:/dispatch-update-cost": lambda w: by_name(w, "/dispatch-update-cost"),
    "command:/dispatch-report-tactical": lambda w: by_name(w, "/dispatch-report-tactical"),
    "command:/dispatch-report-executive": lambda w: by_name(w, "/dispatch-report-executive"),
    "command:/dispatch-create-task": lambda w: by_name(w, "/dispatch-create-task"),
    "command:/dispatch-list-participants": lambda w: by_name(w, "/dispatch-list-participants", managing=False),
    "command:/dispatch-update-participant": lambda w: by_name(w, "/dispatch-update-participant", managing=False),
    "command:/dispatch-engage-oncall": lambda w: by_name(w, "/dispatch-engage-oncall", managing=False),
    "command:/dispatch-timeline": lambda w: by_name(w, "/dispatch-timeline", managing=False),
    "command:/dispatch-add-timeline-event": lambda w: by_name(w, "/dispatch-add-timeline-event", managing=False),
    "command:/dispatch-list-tasks": lambda w: by_name(w, "/dispatch-list-tasks", managing=False),
    "command:/dispatch-summary": lambda w: by_name(w, "/dispatch-summary", managing=False),
    "command:/dispatch-update-case": lambda w: case_by_name(w, "/dispatch-update-case"),
    "command:/dispatch-escalate-case": lambda w: case_by_name(w, "/dispatch-escalate-case"),
    # Commands that list.
    "command:/dispatch-list-incidents": list_incidents,
    "command:/dispatch-list-my-tasks": list_my_tasks,
    "command:/dispatch-list-signals": "lists the signal definitions whose cases go to this channel; no incident",
    "command:/dispatch-report-incident": CREATES,
    "command:/dispatch-create-case": CREATES,
    # Shortcuts.
    "shortcut:report_incident_from_message": CREATES,
    "shortcut:open_case_from_message": CREATES,
    "shortcut:add_to_timeline": OWN_CHANNELS,
    # Events.
    "event:app_home_opened": home,
    "event:member_joined_channel": join_channels,
    "event:message": thread_reply,
    "event:member_left_channel": OWN_CHANNELS,
    "event:reaction_added": OWN_CHANNELS,
    "event:reaction_removed": OWN_CHANNELS,
    # Announcement and daily summary buttons.
    r"action:^announcement_join(_[a-z0-9-]+)?$": announcement_join,
    "action:announcement_subscribe": announcement_subscribe,
    # Case card buttons and forms, on the card of the case escalated to a restricted incident.
    "action:case_join": case_join,
    "action:case_triage": lambda w: case_card_click(w, "case_triage"),
    "action:case_resolve": lambda w: case_card_click(w, "case_resolve"),
    "action:case_reopen": case_reopen,
    "action:case_escalate": case_escalate,
    "action:case_create_channel": case_create_channel,
    "action:case_edit": case_edit,
    "action:case_add_mentioned": case_add_mentioned,
    "action:case_feedback_open": case_feedback_button,
    "view:give_case_feedback": FORM_OPENED_AFTER_A_CHECK,
    "view:case_edit": case_edit,
    "view:case_escalate": stale_escalate_form,
    "view:case_resolve": "closes the case; the answer and the card show only the case",
    "action:create_case_type": CREATES,
    "view:create_case": CREATES,
    "action:case_snooze": SIGNAL_CASE,
    "action:snooze_entities": SIGNAL_CASE,
    "view:case_snooze_submit": SIGNAL_CASE,
    "action:snooze_end": SIGNAL_CASE,
    # Task, report-reminder and feedback buttons, clicked with a restricted incident's ids.
    r"action:^task_resolve_\d+$": lambda w: task_buttons(w, "task_resolve"),
    r"action:^task_reopen_\d+$": lambda w: task_buttons(w, "task_reopen"),
    "view:create_task": create_task_for_outsider,
    "action:report_write": lambda w: report_button(w, "report_write"),
    "action:report_snooze_30": lambda w: report_button(w, "report_snooze_30"),
    "action:report_snooze_60": lambda w: report_button(w, "report_snooze_60"),
    "action:report_snooze_120": lambda w: report_button(w, "report_snooze_120"),
    "action:feedback_open": feedback_button,
    "view:give_feedback": FORM_OPENED_AFTER_A_CHECK,
    "view:write_report": FORM_OPENED_AFTER_A_CHECK,
    "action:report_draft_ai": ("a button of the report form, which warroom opened only after its own check; the "
                               "incident is in its private_metadata, checked again (managing) before anything is "
                               "drafted (tests/e2e/test_ai.py)"),
    # Forms and buttons of new incidents, and forms opened by the commands above.
    "action:home_report_incident": CREATES,
    "action:report_incident_project": CREATES,
    r"options:^tag_type_\d+$": "type-ahead search of a tag type's tag names (from the config); shows no incident",
    "view:report_incident": CREATES,
    "view:update_incident": FORM_OPENED_AFTER_A_CHECK,
    "view:assign_role": FORM_OPENED_AFTER_A_CHECK,
    "view:update_participant": FORM_OPENED_AFTER_A_CHECK,
    "view:notifications_group": FORM_OPENED_AFTER_A_CHECK,
    "view:update_cost": FORM_OPENED_AFTER_A_CHECK,
    "view:engage_oncall": FORM_OPENED_AFTER_A_CHECK,
    "view:case_engage_oncall": ("engages on-call people in a case, from its own channel (a channel the person is "
                                "in); a case taken over by an incident gets the incident's form"),
    "view:add_timeline_event": FORM_OPENED_AFTER_A_CHECK,
    # Workflows: the commands check the incident like the others; the form is opened after that check.
    "command:/dispatch-run-workflow": lambda w: by_name(w, "/dispatch-run-workflow"),
    "command:/dispatch-list-workflows": lambda w: by_name(w, "/dispatch-list-workflows", managing=False),
    "action:workflow_pick": "re-draws the run form warroom opened after its check, from its private_metadata",
    "view:run_workflow": FORM_OPENED_AFTER_A_CHECK,
    "action:workflow_open": "a link button on a run's message (Slack opens the URL): acked, answers nothing",
    # The follow-up DM of a Stable incident, clicked with a restricted incident's id.
    "action:follow_up_close": lambda w: follow_up_button(w, "follow_up_close"),
    "action:follow_up_snooze": lambda w: follow_up_button(w, "follow_up_snooze"),
}

# What warroom says on its own: announcements (on every change), executive reports, the daily summary, reminders.
PUSHED: dict[str, Callable[[World], Awaitable]] = {
    "announcements after an update": update_private,
    "executive report (notification channels and group)": executive_report,
    "stakeholder updates to someone who subscribed while it was Open": subscribed_while_open,
    "daily summary, report, task and case reminder jobs, case feedback digest": jobs_run,
}


def test_every_listener_is_in_the_sweep():
    """A listener the Registry records must be probed or set aside with a reason; stale lines fail too."""
    keys = registered(offline_registry(WarroomConfig()))
    assert sorted(keys - set(TABLE)) == [], "new listeners: add a probe to TABLE (or a reason it shows no incident)"
    assert sorted(set(TABLE) - keys) == [], "TABLE lists listeners that no longer exist"
    assert all(callable(v) or (isinstance(v, str) and len(v) > 20) for v in TABLE.values())


async def test_an_outsider_gets_nothing_of_a_restricted_incident(slack, db_url):
    eve, rita, carol, bob = (slack.add_user(n) for n in ("eve", "rita", "carol", "bob"))
    general = slack.add_channel("general", members=[eve, carol, bob])
    security = slack.add_channel("security", members=[eve, carol, bob])
    feed = slack.add_channel("incidents", members=[eve, bob])
    async with running_warroom(slack, db_url, config_for(feed, security, carol)) as warroom:
        assert registered(warroom.registry) == set(TABLE), "the running app registers what the table lists"
        w = await build(slack, warroom, World(slack, warroom, eve, rita, carol, bob, general, security, feed))
        failures = [f"set-up (reports, escalation, announcements): eve can see {leaked}" for leaked in [w.leaks()] if leaked]
        probes = [(k, v) for k, v in TABLE.items() if callable(v)] + list(PUSHED.items())
        seen = set()
        for key, probe in probes:
            if probe in seen:
                continue
            seen.add(probe)
            before = Counter(w.surface())
            try:
                await probe(w)
            except Exception as exc:  # every probe runs; the failures are reported together
                failures.append(f"{key}: {type(exc).__name__}: {str(exc)[:600]}")
            await w.settle()
            leaked = w.leaks(list((Counter(w.surface()) - before).elements()))  # what this probe made her see
            if leaked:
                failures.append(f"{key}: eve can now see {leaked}")
        async with warroom.deps.sessions() as session:
            for incident in (w.private, w.escalated):
                if await participant(warroom, incident.id, eve) is not None:
                    failures.append(f"eve became a participant of {incident.name}")
                if eve in slack.channels[incident.channel_id].members:
                    failures.append(f"eve is in the channel of {incident.name}")
            if (await session.execute(select(CaseParticipant).where(CaseParticipant.case_id == w.case_id,
                                                                     CaseParticipant.user_id == eve))).first():
                failures.append("eve became a participant of the escalated case")
        assert failures == [], "\n".join(failures)
