"""Shared guard of incident commands: run in an incident channel, by someone allowed to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncRespond

from domain.core.deps import Deps
from domain.core.notices import Notice
from domain.incidents.queries import Incident, incident_for_command, submit_refusal
from handlers.registry import Check, Errors, Submission, first_input
from modals.renderers import render

F = TypeVar("F")


async def say(respond: AsyncRespond, notice: Notice) -> None:
    text, blocks = render(notice)
    await respond(response_type="ephemeral", text=text, blocks=blocks)


async def incident_here(deps: Deps, body: dict[str, Any], respond: AsyncRespond, *, managing: bool) -> Incident | None:
    """The incident of the command's channel (or, for managing commands, named first in its text),
    or None after an ephemeral refusal (see `incident_for_command`)."""
    async with deps.sessions() as session:
        found = await incident_for_command(
            session, deps.config, user_id=body["user_id"], channel_id=body.get("channel_id"), text=body.get("text"),
            command=body.get("command", ""), managing=managing)
    if isinstance(found, Notice):
        await say(respond, found)
        return None
    return found


def still_allowed(deps: Deps, incident_of: Callable[[F], int], *, managing: bool,
                  then: Check[F] | None = None) -> Check[F]:
    """The `check=` of a form about an incident: at submit, the incident still exists (and is visible to
    the submitter) and, for a managing form, the submitter may still manage it; then `then`, if any.
    A refusal is shown under the form's first input."""

    async def check(sub: Submission[F]) -> Errors | None:
        async with deps.sessions() as session:
            refusal = await submit_refusal(session, incident_of(sub.form), sub.user_id, deps.config,
                                           managing=managing)
        if refusal is not None:
            return {first_input(sub.view) or "incident": refusal}
        return await then(sub) if then is not None else None

    return check
