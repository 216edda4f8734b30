"""An announcement whose post failed is posted later by the resume job (never skipped for good), once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from jobs import resume_setups
from storage.command_models import IncidentAnnouncement
from storage.types import utcnow
from tests.e2e.incident_helpers import report


async def announcement_row(warroom) -> IncidentAnnouncement:
    async with warroom.deps.sessions() as session:
        return (await session.execute(select(IncidentAnnouncement))).scalar_one()


async def test_a_failed_announcement_is_retried_until_posted_and_posted_once(slack, people, db_url):
    feed = slack.add_channel("incidents-feed", members=[people.bob], bot_member=True)
    config = WarroomConfig.model_validate({"notification_channels": [{"name": "feed", "channel": feed}]})
    # Slack fails the announcement's post twice in a row (first try and both client retries, then the next try).
    slack.inject("chat.postMessage", status=503, times=6, when=lambda p: p.get("channel") == feed)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        row = await slack.wait_for(lambda: _failed_row(warroom))
        assert row.ts is None and "http_503" in row.error and not slack.channels[feed].messages

        # The next refresh (an update of the incident) or the resume job tries again: still failing.
        await resume_setups.run(warroom.deps)
        row = await announcement_row(warroom)
        assert row.ts is None and row.attempts == 2 and "http_503" in row.error
        # Backing off: the job does not try again at once...
        await resume_setups.run(warroom.deps)
        assert (await announcement_row(warroom)).attempts == 2
        # ...but does once the backoff has passed, and Slack now takes it.
        await _backdate(warroom, timedelta(minutes=5))
        await resume_setups.run(warroom.deps)
        row = await announcement_row(warroom)
        messages = slack.channels[feed].messages
        assert [m.ts for m in messages] == [row.ts] and incident.title in str(messages[0].blocks)

        # An attempt that died after Slack posted it (the reply lost, ts never stored): found by its mark,
        # edited in place, never posted twice.
        async with warroom.deps.sessions() as session:
            await session.execute(update(IncidentAnnouncement).values(ts=None, error=None))
            await session.commit()
        await _backdate(warroom, timedelta(minutes=5))
        await resume_setups.run(warroom.deps)
        assert (await announcement_row(warroom)).ts == messages[0].ts
        assert len(slack.channels[feed].messages) == 1
        await resume_setups.run(warroom.deps)
        assert len(slack.channels[feed].messages) == 1
        assert len([c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == feed and c.ok]) == 1


async def _failed_row(warroom) -> IncidentAnnouncement | None:
    async with warroom.deps.sessions() as session:
        row = (await session.execute(select(IncidentAnnouncement))).scalar_one_or_none()
    return row if row is not None and row.error else None


async def _backdate(warroom, by: timedelta) -> None:
    async with warroom.deps.sessions() as session:
        await session.execute(update(IncidentAnnouncement).values(claimed_at=utcnow() - by))
        await session.commit()
