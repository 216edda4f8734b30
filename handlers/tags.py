"""Type-ahead of the tag selects of the report and update forms (tag types with more than 100 tags)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck

from domain.core.deps import Deps
from domain.incidents.tags import search_tags, tag_type_of_block
from handlers.registry import Registry
from modals.tags import tag_options

TAG_SELECT = re.compile(r"^tag_type_\d+$")


def register(reg: Registry, deps: Deps) -> None:
    @reg.options(TAG_SELECT)
    async def on_tag_search(ack: AsyncAck, body: dict[str, Any]) -> None:
        type_id = tag_type_of_block(body.get("action_id") or "")
        if type_id is None:
            await ack(options=[])
            return
        async with deps.sessions() as session:
            found = await search_tags(session, type_id, body.get("value") or "")
        await ack(options=tag_options(found))
