"""Listeners for cases: create (command, message shortcut), card buttons, edit/resolve/escalate modals,
the update/escalate commands, replies in a card's thread, and @mentions there or in a case channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.cases import lifecycle
from domain.cases.access import case_for_command_of
from domain.cases.channel import give_case_channel
from domain.cases.escalate import EscalateForm, escalate, plan_escalation
from domain.cases.feedback import may_give_feedback, save_case_feedback
from domain.cases.lifecycle import CaseEditForm, CreateCaseForm, ResolveForm
from domain.cases.mentions import add_mentioned
from domain.cases.notices import CaseOpened
from domain.cases.rechecks import CaseForm, case_submit_refusal
from domain.cases.service import CaseRuleError
from domain.cases.tickets import ensure_case_ticket
from domain.core.deps import Deps
from domain.core.notices import Notice, PlainNotice
from domain.core.ports import PortError
from domain.core.vocabulary import CaseStatus
from domain.response.paging import first_on_call
from handlers.registry import Check, Errors, Registry, Submission, first_input
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
from modals.feedback import CASE_CALLBACK_ID as CASE_FEEDBACK_CALLBACK
from modals.feedback import feedback_modal, parse_feedback

log = logging.getLogger(__name__)
SHORTCUT_ID = "open_case_from_message"
ONCALL_BUDGET = 1.5  # seconds a form waits for the suggested assignee (the trigger id lasts 3 s)

# Opens a case form: (deps, client, trigger_id, case_id, channel to answer in, user).
Opener = Callable[[Deps, AsyncWebClient, str, int, str | None, str], Awaitable[None]]


def register(reg: Registry, deps: Deps) -> None:
    """Wire every case listener."""
    _register_create(reg, deps)
    _register_card_buttons(reg, deps)
    _register_case_modals(reg, deps)
    _register_case_commands(reg, deps)
    _register_mentions(reg, deps)
    _register_feedback(reg, deps)


# ---------------------------------------------------------------------------------------------- listeners
def _register_create(reg: Registry, deps: Deps) -> None:
    """/…-create-case, the "Open a case from message" shortcut, the type select and the create modal."""

    @reg.command(deps.config.commands.create_case, "Open a case", "[title]")
    async def on_create_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        defaults = CaseDefaults(title=(body.get("text") or "").strip(), origin_channel_id=body.get("channel_id"))
        await open_create(deps, client, body["trigger_id"], body["user_id"], defaults)

    @reg.message_shortcut(SHORTCUT_ID, "Open a case from message", "Open a case pre-filled with this message")
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await open_create(deps, client, body["trigger_id"], body["user"]["id"], defaults_from_message(deps, body))

    @reg.action(TYPE_ACTION)
    async def on_type_changed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        oncall = await oncall_suggestion(deps, selected_type(view))
        defaults = reload_defaults(view, lambda _type: oncall)
        await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                  view=create_case_modal(deps.config.cases, defaults))

    @reg.submission(CALLBACK_ID, parse_create_case)
    async def on_create_submit(sub: Submission[CreateCaseForm]) -> None:
        form, user = sub.form, sub.user_id
        case, created = await lifecycle.open_case(deps, form, reporter=user, key=sub.view_id)
        if not created:
            log.info("duplicate submission of view %s ignored (%s)", sub.view_id, case.name)
            return
        channel_id = await own_channel_if_wanted(deps, case, form, user)
        link = (deps.ports.conversation.message_link(case.card_channel_id, case.card_ts)
                if case.card_channel_id and case.card_ts else None)
        await tell(deps, form.origin_channel_id, user, CaseOpened(case.name, case.title, link, channel_id))
        await ensure_case_ticket(deps, case.id)  # last: Jira may be slow; the confirmation is not held up


def _register_card_buttons(reg: Registry, deps: Deps) -> None:
    """The buttons of a case card: Triage, Reopen, Join, Create channel, Edit, Resolve, Escalate."""

    @reg.action(case_card.TRIAGE_ACTION)
    async def on_triage(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        case_id, user, channel = clicked(body)
        await telling_refusals(deps, channel, user, lambda: lifecycle.triage(deps, case_id, actor=user))

    @reg.action(case_card.REOPEN_ACTION)
    async def on_reopen(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        case_id, user, channel = clicked(body)
        await telling_refusals(deps, channel, user, lambda: lifecycle.reopen(deps, case_id, actor=user))

    @reg.action(case_card.JOIN_ACTION)
    async def on_join(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        case_id, user, channel = clicked(body)
        await telling_refusals(deps, channel, user, lambda: join_case(deps, case_id, user, channel))

    @reg.action(case_card.CHANNEL_ACTION)
    async def on_create_channel(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        case_id, user, channel = clicked(body)
        await telling_refusals(deps, channel, user, lambda: make_own_channel(deps, case_id, user, channel))

    @reg.action(case_card.EDIT_ACTION)
    async def on_edit_clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await open_from_card(deps, open_edit, body, client)

    @reg.action(case_card.RESOLVE_ACTION)
    async def on_resolve_clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await open_from_card(deps, open_resolve, body, client)

    @reg.action(case_card.ESCALATE_ACTION)
    async def on_escalate_clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await open_from_card(deps, open_escalate, body, client)


def _register_case_modals(reg: Registry, deps: Deps) -> None:
    """Submissions of the edit, resolve and escalate modals (acked once parsed; refusals told to the user)."""

    def still_actionable(form: CaseForm) -> Check[Any]:
        """At submit, the case still exists and this person may still do this to it (the modal keeps the reason)."""
        async def check(sub: Submission[Any]) -> Errors | None:
            refusal = await case_submit_refusal(deps, sub.form.case_id, sub.user_id, form,
                                                assignee=getattr(sub.form, "assignee", None))
            return {first_input(sub.view) or "case": refusal} if refusal else None
        return check

    edit_actionable = still_actionable("edit")

    async def edit_check(sub: Submission[CaseEditForm]) -> Errors | None:
        return await edit_actionable(sub) or await lifecycle.edit_refusals(deps, sub.form) or None

    @reg.submission(case_forms.EDIT_CALLBACK, case_forms.parse_edit_case, check=edit_check)
    async def on_edit_submit(sub: Submission[CaseEditForm]) -> None:
        await telling_refusals(deps, answer_channel(sub), sub.user_id,
                               lambda: lifecycle.edit(deps, sub.form, actor=sub.user_id))

    @reg.submission(case_forms.RESOLVE_CALLBACK, case_forms.parse_resolve_case, check=still_actionable("resolve"))
    async def on_resolve_submit(sub: Submission[ResolveForm]) -> None:
        await telling_refusals(deps, answer_channel(sub), sub.user_id,
                               lambda: lifecycle.resolve(deps, sub.form, actor=sub.user_id))

    @reg.submission(case_forms.ESCALATE_CALLBACK, case_forms.parse_escalate_case, check=still_actionable("escalate"))
    async def on_escalate_submit(sub: Submission[EscalateForm]) -> None:
        channel = answer_channel(sub)
        await telling_refusals(deps, channel, sub.user_id,
                               lambda: run_escalation(deps, sub.form, sub.user_id, sub.user_name, channel))


def _register_case_commands(reg: Registry, deps: Deps) -> None:
    """/…-update-case and /…-escalate-case, in a case's channel or naming the case."""
    commands = deps.config.commands

    @reg.command(commands.update_case, "Edit this case", "[CASE-n]")
    async def on_update_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await open_from_command(deps, open_edit, body, client, respond)

    @reg.command(commands.escalate_case, "Escalate this case to an incident", "[CASE-n]")
    async def on_escalate_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await open_from_command(deps, open_escalate, body, client, respond)


def _register_mentions(reg: Registry, deps: Deps) -> None:
    """The "Add them" button offered to a case's assignee when someone not on the case is mentioned."""

    @reg.action(case_card.ADD_MENTIONED_ACTION)
    async def on_add_mentioned(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        case_id, mentioned = body["actions"][0]["value"].split(":", 1)
        user, channel = body["user"]["id"], (body.get("channel") or {}).get("id")
        await telling_refusals(deps, channel, user, lambda: add_mentioned_person(deps, int(case_id), mentioned, user,
                                                                                  channel))


def _register_feedback(reg: Registry, deps: Deps) -> None:
    """The "Give feedback" button of a closed case's request, and its form (only for people who worked it)."""
    conv = deps.ports.conversation

    @reg.action(case_card.FEEDBACK_ACTION)
    async def on_open(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        case_id, user = int(body["actions"][0]["value"]), body["user"]["id"]
        async with deps.sessions() as session:
            case = await may_give_feedback(session, case_id, user)
            await session.commit()
        if case is None:  # no such case, not Closed, or someone who never worked it: the same answer
            await conv.send_direct(user, PlainNotice("There is no case to give feedback on here."))
            return
        await client.views_open(trigger_id=body["trigger_id"], view=feedback_modal(case.id, case.name, about="case"))

    async def still_theirs(sub: Submission[dict[str, Any]]) -> dict[str, str] | None:
        async with deps.sessions() as session:
            case = await may_give_feedback(session, int(sub.form["case"] or 0), sub.user_id)
            await session.commit()
        return None if case is not None else {"rating": "There is no case to give feedback on here."}

    @reg.submission(CASE_FEEDBACK_CALLBACK, parse_feedback, check=still_theirs)
    async def on_submit(sub: Submission[dict[str, Any]]) -> None:
        form, user = sub.form, sub.user_id
        async with deps.sessions() as session:
            stored = await save_case_feedback(session, int(form["case"]), user, form["rating"], form["comments"],
                                              anonymous=form["anonymous"])
        await conv.send_direct(user, PlainNotice(f"Thank you: your feedback on {form['name']} is recorded." if stored
                                                 else f"You already gave feedback on {form['name']}; the first answer is kept."))


# ---------------------------------------------------------------------------------------------- helpers
async def tell(deps: Deps, channel: str | None, user: str, message: str | Notice) -> None:
    """Ephemeral in `channel`, else (no channel, or one the bot cannot post in) by DM."""
    conv = deps.ports.conversation
    notice = PlainNotice(message) if isinstance(message, str) else message
    if channel:
        try:
            await conv.post_ephemeral(channel, user, notice)
            return
        except PortError as exc:  # e.g. a DM between two people: use the bot's DM instead
            log.info("ephemeral to %s in %s failed (%s); sending a DM", user, channel, exc.code)
    await conv.send_direct(user, notice)


async def telling_refusals(deps: Deps, channel: str | None, user: str, change: Callable[[], Awaitable[Any]]) -> None:
    """Run `change`; a refusal of the case rules (CaseRuleError) is told to `user`."""
    try:
        await change()
    except CaseRuleError as exc:
        await tell(deps, channel, user, str(exc))


def clicked(body: dict[str, Any]) -> tuple[int, str, str | None]:
    """(case id, user, channel) of a click on a case card button."""
    action = body["actions"][0]
    return int(action["value"]), body["user"]["id"], (body.get("channel") or {}).get("id")


def answer_channel(sub: Submission[Any]) -> str | None:
    """Where a case modal's submitter is answered: the channel the modal was opened from."""
    return case_forms.view_target(sub.view)[1]


async def oncall_suggestion(deps: Deps, case_type: str | None) -> str | None:
    """The first on-call person of the type's `oncall_service`: the suggested assignee."""
    service = deps.config.cases.type(case_type).oncall_service
    if not service:
        return None
    return await first_on_call(deps, service, budget=ONCALL_BUDGET)


async def open_form(deps: Deps, client: AsyncWebClient, trigger_id: str, view: dict[str, Any], channel: str | None,
                    user: str) -> None:
    """Open a modal; when Slack refuses (e.g. the trigger expired) the listener guard tells the user."""
    await client.views_open(trigger_id=trigger_id, view=view)


def defaults_from_message(deps: Deps, body: dict[str, Any]) -> CaseDefaults:
    """The create form pre-filled from the message a shortcut was used on (its link goes on the timeline)."""
    message, channel = body.get("message", {}), body.get("channel", {})
    text = message.get("text") or ""
    return CaseDefaults(
        title=text.splitlines()[0][:150] if text else "", description=text, origin_channel_id=channel.get("id"),
        message_permalink=deps.ports.conversation.message_link(channel.get("id", ""), message.get("ts", "")))


async def open_create(deps: Deps, client: AsyncWebClient, trigger_id: str, user: str, defaults: CaseDefaults) -> None:
    oncall = await oncall_suggestion(deps, defaults.case_type)
    defaults = CaseDefaults(**{**defaults.__dict__, "assignee": oncall, "suggested": oncall})
    await open_form(deps, client, trigger_id, create_case_modal(deps.config.cases, defaults),
                    defaults.origin_channel_id, user)


async def own_channel_if_wanted(deps: Deps, case, form: CreateCaseForm, user: str) -> str | None:
    """The new case's own channel when the form or its type asks for one; a failure is told, not raised."""
    if not (form.own_channel or deps.config.cases.type(case.case_type).dedicated_channel):
        return None
    try:
        return (await give_case_channel(deps, case.id, actor=user)).channel_id
    except (PortError, CaseRuleError) as exc:
        await tell(deps, form.origin_channel_id, user, f"{case.name} is open, but its own channel could not be made: {exc}")
        return None


async def join_case(deps: Deps, case_id: int, user: str, channel: str | None) -> None:
    case, added = await lifecycle.join(deps, case_id, user)
    where = f" Its channel is <#{case.channel_id}>." if case.channel_id else ""
    await tell(deps, channel, user, (f"You joined {case.name}." if added else f"You already work on {case.name}.") + where)


async def add_mentioned_person(deps: Deps, case_id: int, mentioned: str, user: str, channel: str | None) -> None:
    case, added = await add_mentioned(deps, case_id, mentioned, actor=user)
    await tell(deps, channel, user, f"<@{mentioned}> now works on {case.name}." if added
               else f"<@{mentioned}> already works on {case.name}.")


async def make_own_channel(deps: Deps, case_id: int, user: str, channel: str | None) -> None:
    result = await give_case_channel(deps, case_id, actor=user)
    if result.busy:
        await tell(deps, channel, user, f"The channel of {result.case_name} is being created; it will appear in a moment.")
    elif not result.created:
        await tell(deps, channel, user, f"{result.case_name} already has its channel: <#{result.channel_id}>.")


async def open_edit(deps: Deps, client: AsyncWebClient, trigger_id: str, case_id: int, channel: str | None,
                    user: str) -> None:
    async with deps.sessions() as session:
        facts = await lifecycle.load_facts(session, case_id, deps.config)
    await open_form(deps, client, trigger_id, case_forms.edit_case_modal(facts, deps.config.cases, channel), channel, user)


async def open_resolve(deps: Deps, client: AsyncWebClient, trigger_id: str, case_id: int, channel: str | None,
                       user: str) -> None:
    async with deps.sessions() as session:
        facts = await lifecycle.load_facts(session, case_id, deps.config)
    if facts.status == CaseStatus.CLOSED:
        raise CaseRuleError(f"{facts.name} is already Closed.")
    await open_form(deps, client, trigger_id, case_forms.resolve_case_modal(facts, channel), channel, user)


async def open_escalate(deps: Deps, client: AsyncWebClient, trigger_id: str, case_id: int, channel: str | None,
                        user: str) -> None:
    async with deps.sessions() as session:
        plan = await plan_escalation(session, case_id, deps.config, user=user)
    if plan.resume:
        await run_escalation(deps, plan.resume, user, None, channel)
        return
    if plan.project is None:  # `plan_escalation` gives a project whenever there is nothing to resume
        raise RuntimeError(f"escalation plan of case {case_id} has neither a resume nor a project")
    view = case_forms.escalate_case_modal(plan.facts, plan.project.priorities, plan.project.name, channel)
    await open_form(deps, client, trigger_id, view, channel, user)


async def open_from_card(deps: Deps, opener: Opener, body: dict[str, Any], client: AsyncWebClient) -> None:
    case_id, user, channel = clicked(body)
    await telling_refusals(deps, channel, user, lambda: opener(deps, client, body["trigger_id"], case_id, channel, user))


async def open_from_command(deps: Deps, opener: Opener, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
    """Run `opener` on the case of the command's channel or named first in its text; refusals answered ephemerally."""
    case = await case_for_command_of(deps, body.get("text"), body.get("channel_id"), body["user_id"])
    if case is None:
        await respond(response_type="ephemeral", text=(
            f"`{body.get('command')}` works in a case's own channel, or name the case first "
            f"(e.g. `{body.get('command')} CASE-12`)."))
        return
    try:
        await opener(deps, client, body["trigger_id"], case.id, body.get("channel_id"), body["user_id"])
    except CaseRuleError as exc:
        await respond(response_type="ephemeral", text=str(exc))


async def run_escalation(deps: Deps, form: EscalateForm, user: str, name: str | None, channel: str | None) -> None:
    try:
        incident = await escalate(deps, form, actor=user, actor_name=name)
    except PortError as exc:
        await tell(deps, channel, user, f"The escalation is recorded but not finished ({exc}); "
                                        "press Escalate again to resume it.")
        return
    await tell(deps, channel, user, f"Escalated to {incident.name}: <#{incident.channel_id}>.")
