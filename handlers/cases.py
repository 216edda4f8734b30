"""Listeners for cases: create (command, message shortcut), card buttons, edit/resolve/escalate modals,
the update/escalate commands, and replies in a card's thread."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from domain.cases import lifecycle
from domain.cases.channel import give_case_channel
from domain.cases.escalate import escalate, plan_escalation
from domain.cases.lifecycle import CreateCaseForm
from domain.cases.notices import CaseOpened
from domain.cases.service import CaseRuleError, case_for_command
from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.core.ports import PortError
from handlers.registry import Registry, Submission
from modals import case_card, case_forms
from modals.create_case import (
    CALLBACK_ID,
    TYPE_ACTION,
    CaseDefaults,
    create_case_modal,
    parse_create_case,
    reload_defaults,
    selected_type,
)

log = logging.getLogger(__name__)
SHORTCUT_ID = "open_case_from_message"


def register(reg: Registry, deps: Deps) -> None:
    """Wire every case listener."""
    conv = deps.ports.conversation
    config = deps.config

    async def tell(channel: str | None, user: str, message) -> None:
        """Ephemeral in `channel`, else (no channel, or one the bot cannot post in) by DM."""
        notice = PlainNotice(message) if isinstance(message, str) else message
        if channel:
            try:
                await conv.post_ephemeral(channel, user, notice)
                return
            except PortError as exc:  # e.g. a DM between two people: use the bot's DM instead
                log.info("ephemeral to %s in %s failed (%s); sending a DM", user, channel, exc.code)
        await conv.send_direct(user, notice)

    async def suggestion(case_type: str | None) -> str | None:
        service = config.cases.type(case_type).oncall_service
        if not service:
            return None
        people = await deps.ports.oncall.resolve(service)
        return people[0] if people else None

    async def open_view(client, trigger_id: str, view: dict, channel: str | None, user: str) -> None:
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            await tell(channel, user, "Sorry, Slack would not open the form in time. Please try again.")

    # ------------------------------------------------------------------ create
    async def open_create(client, trigger_id: str, user: str, defaults: CaseDefaults) -> None:
        oncall = await suggestion(defaults.case_type)
        defaults = CaseDefaults(**{**defaults.__dict__, "assignee": oncall, "suggested": oncall})
        await open_view(client, trigger_id, create_case_modal(config.cases, defaults), defaults.origin_channel_id, user)

    @reg.command(config.commands.create_case, "Open a case", "[title]")
    async def on_create_command(ack, body, client):
        await ack()
        await open_create(client, body["trigger_id"], body["user_id"],
                          CaseDefaults(title=(body.get("text") or "").strip(), origin_channel_id=body.get("channel_id")))

    @reg.message_shortcut(SHORTCUT_ID, "Open a case from message", "Open a case pre-filled with this message")
    async def on_shortcut(ack, body, client):
        await ack()
        message, channel = body.get("message", {}), body.get("channel", {})
        text = message.get("text") or ""
        await open_create(client, body["trigger_id"], body["user"]["id"], CaseDefaults(
            title=text.splitlines()[0][:150] if text else "", description=text, origin_channel_id=channel.get("id"),
            message_permalink=conv.message_link(channel.get("id", ""), message.get("ts", ""))))

    @reg.action(TYPE_ACTION)
    async def on_type_changed(ack, body, client):
        await ack()
        view = body["view"]
        oncall = await suggestion(selected_type(view))
        defaults = reload_defaults(view, lambda _type: oncall)
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=create_case_modal(config.cases, defaults))

    @reg.submission(CALLBACK_ID, parse_create_case)
    async def on_create_submit(sub: Submission[CreateCaseForm]) -> None:
        form, user = sub.form, sub.user_id
        case, created = await lifecycle.open_case(deps, form, reporter=user, key=sub.view_id)
        if not created:
            log.info("duplicate submission of view %s ignored (%s)", sub.view_id, case.name)
            return
        channel_id = None
        if form.own_channel or config.cases.type(case.case_type).dedicated_channel:
            try:
                channel_id = (await give_case_channel(deps, case.id, actor=user)).channel_id
            except (PortError, CaseRuleError) as exc:
                await tell(form.origin_channel_id, user, f"{case.name} is open, but its own channel could not be made: {exc}")
        link = conv.message_link(case.card_channel_id, case.card_ts) if case.card_ts else None
        await tell(form.origin_channel_id, user, CaseOpened(case.name, case.title, link, channel_id))

    # ------------------------------------------------------------------ card buttons
    def clicked(body) -> tuple[int, str, str | None]:
        action = body["actions"][0]
        return int(action["value"]), body["user"]["id"], (body.get("channel") or {}).get("id")

    async def guarded_change(channel: str | None, user: str, change) -> None:
        try:
            await change()
        except CaseRuleError as exc:
            await tell(channel, user, str(exc))

    @reg.action(case_card.TRIAGE_ACTION)
    async def on_triage(ack, body):
        await ack()
        case_id, user, channel = clicked(body)
        await guarded_change(channel, user, lambda: lifecycle.triage(deps, case_id, actor=user))

    @reg.action(case_card.REOPEN_ACTION)
    async def on_reopen(ack, body):
        await ack()
        case_id, user, channel = clicked(body)
        await guarded_change(channel, user, lambda: lifecycle.reopen(deps, case_id, actor=user))

    @reg.action(case_card.JOIN_ACTION)
    async def on_join(ack, body):
        await ack()
        case_id, user, channel = clicked(body)

        async def join():
            case, added = await lifecycle.join(deps, case_id, user)
            where = f" Its channel is <#{case.channel_id}>." if case.channel_id else ""
            await tell(channel, user, (f"You joined {case.name}." if added else f"You already work on {case.name}.") + where)

        await guarded_change(channel, user, join)

    @reg.action(case_card.CHANNEL_ACTION)
    async def on_create_channel(ack, body):
        await ack()
        case_id, user, channel = clicked(body)

        async def migrate():
            result = await give_case_channel(deps, case_id, actor=user)
            if result.busy:
                await tell(channel, user, f"The channel of {result.case_name} is being created; it will appear in a moment.")
            elif not result.created:
                await tell(channel, user, f"{result.case_name} already has its channel: <#{result.channel_id}>.")

        await guarded_change(channel, user, migrate)

    async def load_facts(case_id: int):
        async with deps.sessions() as session:
            return await lifecycle.load_facts(session, case_id, config)

    async def open_edit(client, trigger_id: str, case_id: int, channel: str | None, user: str) -> None:
        facts = await load_facts(case_id)
        if facts.status == "Closed":
            raise CaseRuleError(f"{facts.name} is Closed; reopen it to edit it.")
        await open_view(client, trigger_id, case_forms.edit_case_modal(facts, config.cases, channel), channel, user)

    async def open_resolve(client, trigger_id: str, case_id: int, channel: str | None, user: str) -> None:
        facts = await load_facts(case_id)
        if facts.status == "Closed":
            raise CaseRuleError(f"{facts.name} is already Closed.")
        await open_view(client, trigger_id, case_forms.resolve_case_modal(facts, channel), channel, user)

    async def open_escalate(client, trigger_id: str, case_id: int, channel: str | None, user: str) -> None:
        async with deps.sessions() as session:
            plan = await plan_escalation(session, case_id, config)
        if plan.resume:
            await run_escalation(plan.resume, user, None, channel)
            return
        view = case_forms.escalate_case_modal(plan.facts, plan.project.priorities, plan.project.name, channel)
        await open_view(client, trigger_id, view, channel, user)

    for action_id, opener in ((case_card.EDIT_ACTION, open_edit), (case_card.RESOLVE_ACTION, open_resolve),
                              (case_card.ESCALATE_ACTION, open_escalate)):
        def make(opener=opener):
            async def on_click(ack, body, client):
                await ack()
                case_id, user, channel = clicked(body)
                await guarded_change(channel, user, lambda: opener(client, body["trigger_id"], case_id, channel, user))

            on_click.__name__ = f"on_{opener.__name__}"
            return on_click

        reg.action(action_id)(make())

    # ------------------------------------------------------------------ modals on a case
    def on_submit(callback_id: str, parse, act) -> None:
        """A case modal's submission (acked once parsed): `act(submission, channel)`, refusals told to the user."""
        async def listener(sub: Submission) -> None:
            _, channel = case_forms.view_target(sub.view)
            await guarded_change(channel, sub.user_id, lambda: act(sub, channel))

        listener.__name__ = f"on_{callback_id}_submit"
        reg.submission(callback_id, parse)(listener)

    on_submit(case_forms.EDIT_CALLBACK, case_forms.parse_edit_case,
              lambda sub, _: lifecycle.edit(deps, sub.form, actor=sub.user_id))
    on_submit(case_forms.RESOLVE_CALLBACK, case_forms.parse_resolve_case,
              lambda sub, _: lifecycle.resolve(deps, sub.form, actor=sub.user_id))
    on_submit(case_forms.ESCALATE_CALLBACK, case_forms.parse_escalate_case,
              lambda sub, channel: run_escalation(sub.form, sub.user_id, sub.user_name, channel))

    async def run_escalation(form, user: str, name: str | None, channel: str | None) -> None:
        try:
            incident = await escalate(deps, form, actor=user, actor_name=name)
        except PortError as exc:
            await tell(channel, user, f"The escalation is recorded but not finished ({exc}); "
                                      "press Escalate again to resume it.")
            return
        await tell(channel, user, f"Escalated to {incident.name}: <#{incident.channel_id}>.")

    # ------------------------------------------------------------------ commands in a case's channel
    async def case_here(body: dict, respond) -> int | None:
        async with deps.sessions() as session:
            case = await case_for_command(session, body.get("text"), body.get("channel_id"))
        if case is None:
            await respond(response_type="ephemeral", text=(
                f"`{body.get('command')}` works in a case's own channel, or name the case first "
                f"(e.g. `{body.get('command')} CASE-12`)."))
            return None
        return case.id

    for command, description, opener in (
        (config.commands.update_case, "Edit this case", open_edit),
        (config.commands.escalate_case, "Escalate this case to an incident", open_escalate),
    ):
        def make_command(opener=opener):
            async def on_command(ack, body, client, respond):
                await ack()
                case_id = await case_here(body, respond)
                if case_id is None:
                    return
                user, channel = body["user_id"], body.get("channel_id")
                try:
                    await opener(client, body["trigger_id"], case_id, channel, user)
                except CaseRuleError as exc:
                    await respond(response_type="ephemeral", text=str(exc))

            on_command.__name__ = f"on_command_{opener.__name__}"
            return on_command

        reg.command(command, description, "[CASE-n]")(make_command())

    # ------------------------------------------------------------------ thread replies
    @reg.event("message")
    async def on_message(ack, event):
        await ack()
        thread_ts = event.get("thread_ts")
        if (not thread_ts or thread_ts == event.get("ts") or event.get("subtype") or event.get("bot_id")
                or not event.get("user")):
            return
        await lifecycle.thread_reply(deps, event["channel"], thread_ts, event["user"])

