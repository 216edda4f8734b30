"""Announcements against a recording port: an incident changed while its announcement's post is in flight."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from domain.announcements.service import Announcement, refresh_announcements
from domain.config.schema import WarroomConfig
from domain.core.notices import PlainNotice
from domain.core.vocabulary import Visibility
from domain.incidents.service import incident_facts
from storage.models import Incident
from storage.rows import must_get
from tests.fakes import RecordingConversation
from tests.flows.test_setup_flow import reported

FEED = "C0FEED"


class SlowPosts(RecordingConversation):
    """Posts to the feed wait until `release` is set: Slack is slow to answer."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.posting = asyncio.Event()

    async def post(self, channel_id, notice, *, thread_ts=None, mark=None):
        if channel_id == FEED:
            self.posting.set()
            await self.release.wait()
        return await super().post(channel_id, notice, thread_ts=thread_ts, mark=mark)


@pytest.fixture
def conversation() -> SlowPosts:
    slow = SlowPosts()
    slow.channels[FEED] = {"name": "incidents-feed", "private": False, "members": set(), "archived": False,
                           "creator": "UOTHER", "messages": []}
    return slow


@pytest.fixture
def config() -> WarroomConfig:
    return WarroomConfig.model_validate({"notification_channels": [{"name": "feed", "channel": FEED}]})


async def refresh(deps, incident_id: int) -> None:
    async with deps.sessions() as session:
        incident = await must_get(session, Incident, incident_id)
        await refresh_announcements(session, deps.ports.conversation, incident,
                                    await incident_facts(session, incident), deps.config)


async def test_an_incident_restricted_while_its_announcement_is_posted_is_redacted_once_posted(deps, conversation):
    incident = await reported(deps, title="Odd logins")
    first = asyncio.create_task(refresh(deps, incident.id))  # announces the open incident; Slack is slow
    await asyncio.wait_for(conversation.posting.wait(), 5)

    async with deps.sessions() as session:  # made Restricted meanwhile; its refresh finds the post in flight
        await session.execute(update(Incident).where(Incident.id == incident.id)
                              .values(visibility=Visibility.RESTRICTED, title="Credential stuffing"))
        await session.commit()
    await refresh(deps, incident.id)
    assert not conversation.called("update"), "nothing to edit yet: the post has no ts"

    conversation.release.set()
    await asyncio.wait_for(first, 5)
    [posted] = conversation.posted(Announcement)
    assert posted["channel_id"] == FEED and "Odd logins" in str(posted["notice"])
    [edit] = conversation.called("update")
    assert edit["channel_id"] == FEED and isinstance(edit["notice"], PlainNotice)
    assert "no longer public" in edit["notice"].text and "Credential" not in str(edit["notice"])
