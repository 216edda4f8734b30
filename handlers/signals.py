"""Listeners for signals: the Snooze button of a signal case card, its modal, list-signals and ending a snooze."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from domain.cases.service import CaseRuleError
from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.signals.listing import signals_for_channel
from domain.signals.snooze import end_snooze_now, recent_preview, snooze_from_case, snooze_refusal, snooze_subject
from handlers.incident_context import say
from handlers.registry import Errors, Registry, Submission, first_input
from modals.case_card import SNOOZE_ACTION
from modals.signal_list import END_SNOOZE_ACTION
from modals.snooze import CALLBACK_ID, ENTITIES_ACTION, new_draft, parse_snooze, read_draft, snooze_modal


def register(reg: Registry, deps: Deps) -> None:
    """Snooze button + modal (preview follows the checked entities) and the list-signals command."""
    conv = deps.ports.conversation

    @reg.action(SNOOZE_ACTION)
    async def on_snooze(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        async with deps.sessions() as session:
            try:
                subject = await snooze_subject(session, int(body["actions"][0]["value"]))
            except CaseRuleError as exc:
                await say(respond, PlainNotice(str(exc)))
                return
            draft = new_draft(subject.case_id, subject.case_name, subject.definition, subject.entities)
            counts = await recent_preview(session, draft.definition, draft.checked)
        await client.views_open(trigger_id=body["trigger_id"], view=snooze_modal(replace(draft, preview=counts)))

    @reg.action(ENTITIES_ACTION)
    async def on_entities(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        draft = read_draft(body["view"])
        async with deps.sessions() as session:
            counts = await recent_preview(session, draft.definition, draft.checked)
        # No hash: a click made before the previous update landed carries the old hash but the newest state.
        await client.views_update(view_id=body["view"]["id"], view=snooze_modal(replace(draft, preview=counts)))

    async def case_still_there(sub: Submission[dict[str, Any]]) -> Errors | None:
        async with deps.sessions() as session:
            refusal = await snooze_refusal(session, sub.form["case"])
        return {first_input(sub.view) or "name": refusal} if refusal else None

    @reg.submission(CALLBACK_ID, parse_snooze, check=case_still_there)
    async def on_submit(sub: Submission[dict[str, Any]]) -> None:
        form = sub.form
        await snooze_from_case(deps, form["case"], definition=form["definition"], name=form["name"],
                               reason=form["reason"], entities=form["entities"], expiry=form["expiry"],
                               actor=sub.user_id)

    @reg.action(END_SNOOZE_ACTION)
    async def on_end_snooze(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = body["user"]["id"]
        async with deps.sessions() as session:
            ended = await end_snooze_now(session, int(body["actions"][0]["value"]), user)
        if ended is None:
            await say(respond, PlainNotice("That snooze had already ended."))
            return
        await say(respond, PlainNotice(f"Snooze {ended.name} ended: alerts of {ended.definition} open cases again."))
        if ended.card:
            channel, ts = ended.card
            await conv.post(channel, PlainNotice(f"<@{user}> ended the snooze {ended.name}."), thread_ts=ts)

    @reg.command(deps.config.commands.list_signals, "List the alert signals whose cases go to this channel")
    async def on_list(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        async with deps.sessions() as session:
            listing = await signals_for_channel(session, deps.config, body["channel_id"], body.get("command", ""))
        await say(respond, listing)
