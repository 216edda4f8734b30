"""Listeners for post-incident feedback."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from domain.core.deps import Deps
from domain.core.notices import PlainNotice
from domain.feedback import save_feedback
from domain.incidents.queries import incident_by_id, may_see
from handlers.incident_context import still_allowed
from handlers.registry import Registry, Submission
from modals.feedback import CALLBACK_ID, OPEN_ACTION, feedback_modal, parse_feedback


def register(reg: Registry, deps: Deps) -> None:
    """The "Give feedback" button and its modal."""
    conv = deps.ports.conversation

    @reg.action(OPEN_ACTION)
    async def on_open(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        incident_id, user = int(body["actions"][0]["value"]), body["user"]["id"]
        async with deps.sessions() as session:
            incident = await incident_by_id(session, incident_id)
            if incident is not None and not await may_see(session, incident, user, deps.config):
                incident = None
        if incident is None:  # no such incident, or a Restricted one this person was never in: the same answer
            await conv.send_direct(user, PlainNotice("There is no incident to give feedback on here."))
            return
        await client.views_open(trigger_id=body["trigger_id"], view=feedback_modal(incident.id, incident.name))

    @reg.submission(CALLBACK_ID, parse_feedback, check=still_allowed(deps, lambda form: form["incident"], managing=False))
    async def on_submit(sub: Submission[dict[str, Any]]) -> None:
        form, user = sub.form, sub.user_id
        async with deps.sessions() as session:
            stored = await save_feedback(session, form["incident"], user, form["rating"], form["comments"],
                                         anonymous=form["anonymous"])
        text = (f"Thank you: your feedback on {form['name']} is recorded." if stored
                else f"You already gave feedback on {form['name']}; the first answer is kept.")
        await conv.send_direct(user, PlainNotice(text))
