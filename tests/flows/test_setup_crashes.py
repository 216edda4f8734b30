"""Set-up killed inside a Slack call, then resumed: nothing is made or said twice.

`Killed` stands for the process dying (no `except Exception` runs, only what was committed
survives); the resume runs as after a restart, once the dead attempt's lease has expired.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.config.engagement import EngageIndividual
from domain.config.notifications import NotificationChannelConfig
from domain.incidents.notices import IncidentReported, IncidentSummary, SetupDelayed
from domain.response.setup import resume_pending_setups, setup_incident
from storage.models import Incident
from tests.fakes import BOT, Killed
from tests.flows.test_setup_flow import REPORTER, reported
from tests.setup_leases import expire_setup_lease


async def killed_setup(deps, incident_id: int) -> None:
    with pytest.raises(Killed):
        await setup_incident(deps, incident_id)


async def restart(deps, incident_id: int) -> Incident:
    """What a restarted process does once the dead attempt's lease has run out: resume, then reload."""
    await expire_setup_lease(deps.sessions, incident_id)
    assert await resume_pending_setups(deps) == 1
    async with deps.sessions() as session:
        return await session.get(Incident, incident_id)


def incident_channels(conversation, incident: Incident) -> list[str]:
    return [cid for cid, c in conversation.channels.items() if c["name"].startswith(f"inc-{incident.number}-")]


@pytest.mark.parametrize("when", ["before", "after"])
async def test_killed_while_creating_the_channel_resumes_into_one_channel(deps, conversation, when):
    incident = await reported(deps, origin_channel_id="C0ORIGIN")
    conversation.crash["create_channel"] = when
    await killed_setup(deps, incident.id)

    ready = await restart(deps, incident.id)
    assert ready.setup_state == "ready"
    [channel] = incident_channels(conversation, incident)
    assert ready.channel_id == channel and ready.channel_name == f"inc-{incident.number}-checkout-is-down"
    assert REPORTER in conversation.channels[channel]["members"]
    assert len(conversation.posted(IncidentSummary)) == 1
    assert not conversation.posted(SetupDelayed)


async def test_channel_id_is_kept_even_when_the_process_dies_before_the_profile_arrives(deps, conversation):
    incident = await reported(deps)
    conversation.crash["get_user"] = "before"  # dies while users.info is in flight; the channel was made
    await killed_setup(deps, incident.id)
    async with deps.sessions() as session:
        assert (await session.get(Incident, incident.id)).channel_id is not None

    ready = await restart(deps, incident.id)
    assert incident_channels(conversation, incident) == [ready.channel_id]
    assert not conversation.called("find_channel")  # the id was recorded: nothing to look for


async def test_a_channel_of_that_name_made_by_someone_else_is_not_adopted(deps, conversation):
    incident = await reported(deps)
    conversation.crash["create_channel"] = "before"
    await killed_setup(deps, incident.id)
    squatter = conversation.add_channel(f"inc-{incident.number}-checkout-is-down", creator="UALICE")

    ready = await restart(deps, incident.id)
    assert ready.channel_id != squatter and ready.channel_name == f"inc-{incident.number}-checkout-is-down-2"
    assert conversation.channels[ready.channel_id]["creator"] == BOT


async def test_the_first_attempt_does_not_look_for_channels_or_messages(deps, conversation):
    incident = await reported(deps, origin_channel_id="C0ORIGIN")
    await setup_incident(deps, incident.id)
    assert not conversation.called("find_channel") and not conversation.called("find_marked")


async def test_killed_after_the_summary_was_posted_finds_it_instead_of_posting_again(deps, conversation):
    incident = await reported(deps, origin_channel_id="C0ORIGIN")
    conversation.crash["post"] = "after"
    await killed_setup(deps, incident.id)

    ready = await restart(deps, incident.id)
    [summary] = [m for m in conversation.messages(ready.channel_id) if isinstance(m["notice"], IncidentSummary)]
    assert summary["mark"].step == "summary" and summary["mark"].incident == incident.name
    assert ready.summary_message_ts == summary["ts"]
    assert [p["ts"] for p in conversation.called("pin")] == [summary["ts"]]
    [bookmark] = conversation.called("add_bookmark")
    assert bookmark["link"].endswith(summary["ts"].replace(".", ""))
    assert len(conversation.posted(IncidentReported)) == 1


async def test_killed_while_the_summary_was_in_flight_posts_it_once(deps, conversation):
    incident = await reported(deps)
    conversation.crash["post"] = "before"  # Slack never stored it
    await killed_setup(deps, incident.id)

    ready = await restart(deps, incident.id)
    [summary] = [m for m in conversation.messages(ready.channel_id) if isinstance(m["notice"], IncidentSummary)]
    assert ready.summary_message_ts == summary["ts"]


async def test_the_confirmation_is_not_sent_again_once_recorded(deps, conversation):
    incident = await reported(deps, origin_channel_id="C0ORIGIN")
    conversation.crash["pin"] = "before"  # dies after the confirmation went out and was recorded
    await killed_setup(deps, incident.id)
    assert len(conversation.posted(IncidentReported)) == 1

    ready = await restart(deps, incident.id)
    assert ready.setup_state == "ready"
    assert len(conversation.posted(IncidentReported)) == 1
    assert len(conversation.posted(IncidentSummary)) == 1


async def test_the_confirmation_in_flight_when_killed_is_sent_on_resume(deps, conversation):
    incident = await reported(deps, origin_channel_id="C0ORIGIN")
    conversation.crash["post_ephemeral"] = "before"
    await killed_setup(deps, incident.id)

    await restart(deps, incident.id)
    assert len(conversation.posted(IncidentReported)) == 2  # the first call never reached the reporter
    assert [c["user_id"] for c in conversation.called("post_ephemeral")] == [REPORTER, REPORTER]


async def test_an_announcement_posted_by_a_killed_attempt_is_found_not_reposted(deps, conversation):
    notify = conversation.add_channel("incidents")
    deps.config.notification_channels.append(NotificationChannelConfig(name="incidents", channel=notify))
    incident = await reported(deps)
    conversation.crash[f"post:{notify}"] = "after"
    await killed_setup(deps, incident.id)

    await restart(deps, incident.id)
    [announcement] = conversation.messages(notify)
    assert announcement["mark"].step == "announcement" and announcement["mark"].incident == incident.name
    assert [u["ts"] for u in conversation.called("update") if u["channel_id"] == notify] == [announcement["ts"]]


async def test_someone_engaged_by_an_attempt_killed_before_inviting_them_is_invited_on_resume(deps, conversation):
    deps.config.engagement.individuals.append(EngageIndividual(name="Dana", user="U0DANA", terms=["checkout"]))
    incident = await reported(deps)
    conversation.crash["invite:U0DANA"] = "before"  # recorded as participant, never invited
    await killed_setup(deps, incident.id)

    ready = await restart(deps, incident.id)
    assert {REPORTER, "U0DANA"} <= conversation.channels[ready.channel_id]["members"]


async def test_a_name_taken_by_this_incidents_own_channel_is_adopted(deps, conversation):
    # What the client's retry of a conversations.create whose answer was lost gets: name_taken.
    incident = await reported(deps)
    own = conversation.add_channel(f"inc-{incident.number}-checkout-is-down", creator=BOT)
    ready = await setup_incident(deps, incident.id)
    assert ready.channel_id == own and incident_channels(conversation, incident) == [own]


async def test_a_bot_channel_older_than_the_incident_is_not_adopted(deps, conversation):
    incident = await reported(deps)  # say the database was started afresh: incident numbers begin again
    old = conversation.add_channel(f"inc-{incident.number}-checkout-is-down", creator=BOT,
                                   created=incident.created_at - timedelta(days=30))
    ready = await setup_incident(deps, incident.id)
    assert ready.channel_id != old and ready.channel_name.endswith("-2")


async def test_a_bot_channel_held_by_another_incident_is_not_adopted(deps, conversation):
    other = await setup_incident(deps, (await reported(deps, key="V-other")).id)
    incident = await reported(deps)
    async with deps.sessions() as session:  # as if an earlier attempt had asked for the other's channel name
        row = await session.get(Incident, incident.id)
        row.setup_channel_name = other.channel_name
        await session.commit()
    ready = await setup_incident(deps, incident.id)
    assert conversation.called("find_channel") == [{"name": other.channel_name}]
    assert ready.channel_id != other.channel_id and ready.channel_name.startswith(f"inc-{incident.number}-")
