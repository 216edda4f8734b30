"""AI listeners: `/…-summary` (an ephemeral read-in) and *Draft with AI* on the tactical report form.

Both ack at once and say "Thinking…" before asking the AI; the answer (or why there is none) replaces it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from domain.cases.assistant import readin, summary_subject, thinking
from domain.core.ai import THINKING, AIUnavailable
from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.response.assistant import tactical_draft
from handlers.incident_context import say
from handlers.registry import Registry
from modals.renderers import render
from modals.reports import DRAFT_ACTION, fill_draft, report_fields, report_modal

log = logging.getLogger(__name__)
DRAFTED = "Drafted by AI from this channel, its timeline, tasks and reports: check and edit before posting."


def register(reg: Registry, deps: Deps) -> None:
    @reg.command(deps.config.commands.summary, "An AI read-in of this incident or case, only for you")
    async def on_summary(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        subject = await summary_subject(deps, user_id=body["user_id"], channel_id=body.get("channel_id"),
                                        command=body.get("command", ""))
        if isinstance(subject, Notice):
            await say(respond, subject)
            return
        await say(respond, thinking(subject))
        text, blocks = render(await readin(deps, subject))
        await respond(response_type="ephemeral", replace_original=True, text=text, blocks=blocks)

    @reg.action(DRAFT_ACTION)
    async def on_draft(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        meta = json.loads(view.get("private_metadata") or "{}")
        fields = report_fields(view)

        def form(values: dict[str, str], note: str, **kw: Any) -> dict:
            return report_modal(meta["kind"], meta["incident"], meta["channel"], values, ai_draft=True,
                                note=note, **kw)

        current = {key: typed for key, (_, _, typed) in fields.items()}
        ids = {key: block_id for key, (block_id, _, _) in fields.items()}
        try:
            shown = await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                              view=form(current, THINKING, block_ids=ids, drafting=True))
            try:
                draft = await tactical_draft(deps, meta["incident"], body["user"]["id"])
            except AIUnavailable as exc:
                await client.views_update(view_id=view["id"], view=form(current, exc.message, block_ids=ids))
                return
            values, ids, suggestions = fill_draft(fields, draft)
            await client.views_update(view_id=view["id"], hash=shown["view"]["hash"],
                                      view=form(values, DRAFTED, block_ids=ids, suggestions=suggestions))
        except SlackApiError as exc:  # closed or changed meanwhile: nothing to fill
            log.info("AI draft not shown: %s", exc.response.get("error") if isinstance(exc.response.data, dict)
                     else exc)
