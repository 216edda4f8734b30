"""Listeners for signals: the Snooze button of a signal case card, its modal, list-signals and ending a snooze."""

from __future__ import annotations

import logging
from dataclasses import replace

from domain.cases.service import add_case_participant
from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.core.ports import PortError
from domain.signals.listing import signals_for_channel
from domain.signals.snooze import (
    EXPIRY_CHOICES,
    PREVIEW_WINDOW,
    SnoozeCreated,
    case_entities,
    create_snooze,
    end_snooze,
    expires_at,
    preview,
)
from handlers.incident_context import say
from handlers.registry import Registry
from modals.case_card import SNOOZE_ACTION
from modals.signal_list import END_SNOOZE_ACTION
from modals.snooze import CALLBACK_ID, ENTITIES_ACTION, new_draft, parse_snooze, read_draft, snooze_modal
from storage.case_models import Case
from storage.types import utcnow

log = logging.getLogger(__name__)


def register(reg: Registry, deps: Deps) -> None:
    """Snooze button + modal (preview follows the checked entities) and the list-signals command."""
    conv = deps.ports.conversation

    @reg.action(SNOOZE_ACTION)
    async def on_snooze(ack, body, client, respond):
        await ack()
        async with deps.sessions() as session:
            case = await session.get(Case, int(body["actions"][0]["value"]))
            if case is None or not case.signal_definition:
                await say(respond, PlainNotice("Only cases opened from signals can be snoozed."))
                return
            entities = await case_entities(session, case.id)
            if not entities:
                await say(respond, PlainNotice(f"{case.name} has no entities to snooze on."))
                return
            draft = new_draft(case.id, case.name, case.signal_definition, entities)
            counts = await preview(session, draft.definition, draft.checked, utcnow() - PREVIEW_WINDOW)
        await client.views_open(trigger_id=body["trigger_id"], view=snooze_modal(replace(draft, preview=counts)))

    @reg.action(ENTITIES_ACTION)
    async def on_entities(ack, body, client):
        await ack()
        draft = read_draft(body["view"])
        async with deps.sessions() as session:
            counts = await preview(session, draft.definition, draft.checked, utcnow() - PREVIEW_WINDOW)
        # No hash: a click made before the previous update landed carries the old hash but the newest state.
        await client.views_update(view_id=body["view"]["id"], view=snooze_modal(replace(draft, preview=counts)))

    @reg.view(CALLBACK_ID)
    async def on_submit(ack, body, view):
        form, errors = parse_snooze(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user = body["user"]["id"]
        until = expires_at(form["expiry"], utcnow())
        async with deps.sessions() as session:
            case = await session.get(Case, form["case"])
            if case is None:
                log.warning("snooze of a case that no longer exists: %s", form["case"])
                return
            snooze = await create_snooze(session, definition=form["definition"], name=form["name"],
                                         reason=form["reason"], entities=form["entities"], expires_at=until,
                                         created_by=user, case_id=case.id)
            await add_case_participant(session, case.id, user, "Snoozed its alerts")
            await session.commit()
            channel, ts = case.card_channel_id, case.card_ts
            name, snooze_name = case.name, snooze.name
        if not (channel and ts):
            return
        notice = SnoozeCreated(user, snooze_name, form["definition"], [(e["type"], e["value"]) for e in form["entities"]],
                               until, EXPIRY_CHOICES[form["expiry"]][0], form["reason"], name)
        await conv.post(channel, notice, thread_ts=ts)
        try:
            await conv.post_ephemeral(channel, user, replace(notice, to_snoozer=True))
        except PortError as exc:  # not in the card's channel any more: the thread reply says it all
            log.info("snooze confirmation to %s not shown: %s", user, exc)

    @reg.action(END_SNOOZE_ACTION)
    async def on_end_snooze(ack, body, respond):
        await ack()
        user = body["user"]["id"]
        async with deps.sessions() as session:
            snooze = await end_snooze(session, int(body["actions"][0]["value"]), user, utcnow())
            await session.commit()
        if snooze is None:
            await say(respond, PlainNotice("That snooze had already ended."))
            return
        await say(respond, PlainNotice(f"Snooze {snooze.name} ended: alerts of {snooze.definition} open cases again."))
        async with deps.sessions() as session:
            case = await session.get(Case, snooze.case_id) if snooze.case_id else None
        if case is not None and case.card_ts:
            await conv.post(case.card_channel_id, PlainNotice(f"<@{user}> ended the snooze {snooze.name}."),
                            thread_ts=case.card_ts)

    @reg.command(deps.config.commands.list_signals, "List the alert signals whose cases go to this channel")
    async def on_list(ack, body, respond):
        await ack()
        async with deps.sessions() as session:
            listing = await signals_for_channel(session, deps.config, body["channel_id"], utcnow(),
                                                body.get("command", ""))
        await say(respond, listing)
