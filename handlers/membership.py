"""Channel membership events of incident and case channels keep participants in step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from domain.cases.chat import joined_channel, left_channel
from domain.core.deps import Deps
from domain.response.capture import message_time
from handlers.registry import Registry


def register(reg: Registry, deps: Deps) -> None:
    @reg.event("member_joined_channel")
    async def on_join(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        if event.get("user") != context.get("bot_user_id"):
            await joined_channel(deps, event["channel"], event["user"], at=_when(event))

    @reg.event("member_left_channel")
    async def on_leave(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        if event.get("user") != context.get("bot_user_id"):
            await left_channel(deps, event["channel"], event["user"], at=_when(event))


def _when(event: dict[str, Any]) -> datetime | None:
    """When Slack says the join or leave happened: events may arrive out of order, their `event_ts` does not."""
    try:
        return message_time(event["event_ts"])
    except (KeyError, TypeError, ValueError):
        return None
