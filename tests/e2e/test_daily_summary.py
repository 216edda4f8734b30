"""The daily summary: open incidents and those closed in the last day, restricted ones never."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from jobs import daily_summary
from storage.models import Incident
from storage.types import utcnow
from tests.e2e.incident_helpers import report


async def test_summary_lists_open_incidents_with_join_and_says_nothing_when_quiet(slack, people, db_url):
    room = slack.add_channel("incidents", members=[people.bob])
    config = WarroomConfig.model_validate({"notification_channels": [{"name": "incidents", "channel": room}]})
    async with running_warroom(slack, db_url, config) as warroom:
        assert await daily_summary.run(warroom.deps) == 0
        assert not [m for m in slack.channels[room].messages if m.text.startswith("Incident summary")]

        open_one = await report(slack, warroom, people.alice, people.general, title="Open one")
        await report(slack, warroom, people.alice, people.general, title="Private one", private=["restricted"])
        old = await report(slack, warroom, people.alice, people.general, title="Closed long ago")
        async with warroom.deps.sessions() as session:
            await session.execute(update(Incident).where(Incident.id == old.id)
                                  .values(status="Closed", closed_at=utcnow() - timedelta(days=2)))
            await session.commit()

        assert await daily_summary.run(warroom.deps) == 1
        (summary,) = [m for m in slack.channels[room].messages if m.text.startswith("Incident summary")]
        sections = [b for b in summary.blocks if b["type"] == "section"]
        assert len(sections) == 1 and "*INC-1* Open one" in sections[0]["text"]["text"]
        assert "Private one" not in str(summary.blocks) and "Closed long ago" not in str(summary.blocks)

        await slack.click(people.bob, sections[0]["accessory"]["action_id"], channel=room, message_ts=summary.ts)
        await slack.wait_for(lambda: people.bob in slack.channels[open_one.channel_id].members)
