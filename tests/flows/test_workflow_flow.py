"""Workflow runs against recording ports: stored before anything is sent, one message, retried after a crash
with the same instance id (the runner's idempotency key), never shown twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from domain.config.schema import WarroomConfig
from domain.core.ports import PortError
from domain.incidents.service import ReportIncidentForm, report_incident
from domain.response.setup import setup_incident
from domain.workflows import WorkflowRun, deliver_due, request_run
from storage.models import Event
from storage.types import utcnow
from storage.workflow_models import WorkflowInstance
from tests.fakes import Killed, RecordingWorkflows

ALICE = "U0ALICE"


@pytest.fixture
def config() -> WarroomConfig:
    return WarroomConfig.model_validate({"workflows": {"max_attempts": 2, "definitions": [
        {"name": "Isolate", "url": "https://runner.example.com/hook", "secret": "s",
         "parameters": [{"name": "host", "required": True}, {"name": "mode", "default": "full"}]}]}})


@pytest.fixture
def workflows(deps) -> RecordingWorkflows:
    found = deps.ports.workflows
    assert isinstance(found, RecordingWorkflows)
    return found


async def incident_id(deps) -> int:
    async with deps.sessions() as session:
        incident = (await report_incident(session, ReportIncidentForm(
            project="default", title="Intrusion", description="", incident_type="", priority="", restricted=False),
            reporter_user_id=ALICE, reporter_name="Alice", idempotency_key="V1", config=deps.config)).incident
        await session.commit()
    await setup_incident(deps, incident.id)
    return incident.id


async def rows(deps) -> list[WorkflowInstance]:
    async with deps.sessions() as session:
        return list((await session.execute(select(WorkflowInstance))).scalars())


async def due_now(deps) -> None:
    async with deps.sessions() as session:
        await session.execute(update(WorkflowInstance).values(next_attempt_at=utcnow() - timedelta(seconds=1),
                                                              claimed_until=None))
        await session.commit()


def run_messages(conversation) -> list[dict]:
    return [c for c in conversation.called("post") if isinstance(c["notice"], WorkflowRun)]


async def test_a_run_is_stored_posted_sent_once_and_its_message_edited(deps, conversation, workflows):
    incident = await incident_id(deps)
    run_id, created = await request_run(deps, workflow="Isolate", key="view:V9", parameters={"host": " db-1 "},
                                        reason="contain", creator=ALICE, incident_id=incident)
    again, created_again = await request_run(deps, workflow="Isolate", key="view:V9", parameters={"host": "db-1"},
                                             reason="contain", creator=ALICE, incident_id=incident)
    assert created and not created_again and again == run_id
    [(sent_id, payload)] = workflows.started
    assert sent_id == run_id and payload["parameters"] == {"host": "db-1", "mode": "full"}
    [posted] = run_messages(conversation)
    [edited] = [c for c in conversation.called("update") if isinstance(c["notice"], WorkflowRun)]
    assert posted["notice"].status == "pending" and edited["notice"].status == "submitted"
    [row] = await rows(deps)
    assert (row.status, row.shown_version, row.version) == ("submitted", 2, 2)
    assert row.weblink == f"https://runner.example.com/runs/{run_id}"


@pytest.mark.parametrize("moment", ["before", "after"])
async def test_a_crash_around_the_webhook_is_resumed_with_the_same_instance_id(deps, conversation, workflows, moment):
    incident = await incident_id(deps)
    workflows.crash = moment
    with pytest.raises(Killed):
        await request_run(deps, workflow="Isolate", key="view:V9", parameters={"host": "db-1"}, reason="contain",
                          creator=ALICE, incident_id=incident)
    [row] = await rows(deps)
    assert row.status == "pending" and row.claimed_until is not None and row.message_ts  # leased, message posted
    assert await deliver_due(deps) == 0  # the lease holds: nobody sends it meanwhile
    await due_now(deps)  # the lease has passed
    await deliver_due(deps)
    ids = [i for i, _ in workflows.started]
    assert ids == [row.id] * (2 if moment == "after" else 1)  # the runner sees its key twice at most, never another id
    [row] = await rows(deps)
    assert row.status == "submitted" and len(run_messages(conversation)) == 1  # one message, edited


async def test_a_failing_runner_is_retried_then_the_run_fails_visibly(deps, conversation, workflows):
    incident = await incident_id(deps)
    workflows.fail = [PortError("http_500", "boom"), PortError("http_500", "boom")]
    await request_run(deps, workflow="Isolate", key="view:V9", parameters={"host": "db-1"}, reason="contain",
                      creator=ALICE, incident_id=incident)
    [row] = await rows(deps)
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > utcnow() + timedelta(seconds=20)
    await due_now(deps)
    await deliver_due(deps)
    [row] = await rows(deps)
    assert (row.status, row.attempts) == ("failed", 2) and not workflows.started
    last = [c for c in conversation.called("update") if isinstance(c["notice"], WorkflowRun)][-1]
    assert last["notice"].status == "failed" and "http_500" in last["notice"].error
    async with deps.sessions() as session:
        timeline = list((await session.execute(select(Event.description).where(Event.incident_id == incident))).scalars())
    assert "Workflow Isolate could not be started: http_500: boom" in timeline
