"""Channel membership events of incident channels keep participants in step."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from domain.core.deps import Deps
from domain.response.membership import member_joined, member_left
from handlers.registry import Registry


def register(reg: Registry, deps: Deps) -> None:
    @reg.event("member_joined_channel")
    async def on_join(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        if event.get("user") != context.get("bot_user_id"):
            await member_joined(deps, event["channel"], event["user"])

    @reg.event("member_left_channel")
    async def on_leave(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        if event.get("user") != context.get("bot_user_id"):
            await member_left(deps, event["channel"], event["user"])
