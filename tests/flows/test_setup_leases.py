"""The set-up lease: kept by a heartbeat while an attempt works, taken back at once by the same replica
restarted, left alone by other replicas until it runs out."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update

from domain.core.ports import PortError
from domain.incidents.service import OWN_SILENCE, SETUP_LEASE, keep_setup_lease
from domain.response.setup import resume_own_setups, resume_pending_setups, setup_incident
from storage.models import Incident
from storage.types import utcnow
from tests.fakes import Killed
from tests.flows.test_setup_flow import reported


async def silent_for(deps, incident_id: int, seconds: float) -> None:
    """The last heartbeat of the incident's set-up was `seconds` ago."""
    async with deps.sessions() as session:
        await session.execute(update(Incident).where(Incident.id == incident_id)
                              .values(updated_at=utcnow() - timedelta(seconds=seconds)))
        await session.commit()


async def test_a_restarted_replica_takes_back_its_own_setup_long_before_the_lease_runs_out(deps, conversation):
    first_boot = dataclasses.replace(deps, instance="replica-a")
    incident = await reported(first_boot)
    conversation.crash["post"] = "after"  # killed inside the summary's post
    with pytest.raises(Killed):
        await setup_incident(first_boot, incident.id)
    async with deps.sessions() as session:
        assert (await session.get(Incident, incident.id)).setup_holder == first_boot.holder

    other_replica = dataclasses.replace(deps, instance="replica-b")
    restarted = dataclasses.replace(deps, instance="replica-a", boot="second-boot")
    assert restarted.holder != first_boot.holder
    assert await resume_own_setups(restarted) == (0, 1), "a live holder beats more often: wait for its silence"
    await silent_for(deps, incident.id, OWN_SILENCE.total_seconds() + 1)
    assert await resume_pending_setups(other_replica) == 0, "another replica waits for the lease"
    assert await resume_own_setups(other_replica) == (0, 0), "not its own"
    assert await resume_own_setups(restarted) == (1, 0)
    async with deps.sessions() as session:
        ready = await session.get(Incident, incident.id)
    assert ready.setup_state == "ready" and ready.setup_holder == restarted.holder
    assert await resume_own_setups(restarted) == (0, 0)


async def test_another_replica_resumes_once_the_lease_runs_out(deps, conversation):
    dead = dataclasses.replace(deps, instance="replica-a")
    incident = await reported(dead)
    conversation.crash["create_channel"] = "before"
    with pytest.raises(Killed):
        await setup_incident(dead, incident.id)
    await silent_for(deps, incident.id, SETUP_LEASE.total_seconds() + 1)
    assert await resume_pending_setups(dataclasses.replace(deps, instance="replica-b")) == 1
    async with deps.sessions() as session:
        assert (await session.get(Incident, incident.id)).setup_state == "ready"


async def test_only_the_holder_keeps_the_lease(deps, conversation):
    holder = dataclasses.replace(deps, instance="replica-a")
    incident = await reported(holder)
    conversation.crash["post"] = "before"
    with pytest.raises(Killed):
        await setup_incident(holder, incident.id)
    async with deps.sessions() as session:
        assert await keep_setup_lease(session, incident.id, holder.holder)
        assert not await keep_setup_lease(session, incident.id, "replica-b#other")


async def test_a_failed_setup_is_retried_at_once_then_with_backoff(deps, conversation):
    incident = await reported(deps)
    conversation.fail["set_topic"] = PortError("fatal_error")
    await setup_incident(deps, incident.id)  # attempt 1 fails
    conversation.fail["set_topic"] = PortError("fatal_error")
    assert await resume_pending_setups(deps) == 1  # attempt 2, at once: fails again
    assert await resume_pending_setups(deps) == 0, "then it waits 30 s"
    await silent_for(deps, incident.id, 31)
    assert await resume_pending_setups(deps) == 1
    async with deps.sessions() as session:
        ready = await session.get(Incident, incident.id)
    assert ready.setup_state == "ready" and ready.setup_attempts == 3
