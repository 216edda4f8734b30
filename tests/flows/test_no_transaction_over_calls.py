"""No database transaction is open while a flow waits on Slack: a slow Slack would otherwise hold a row lock
(Postgres) or the single write lock (SQLite) for as long as the call takes, and stall every other incident."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event

from domain.core.vocabulary import IncidentStatus, Role
from domain.incidents.update import update_options
from domain.response.roles import AssignRoleForm, assign_role
from domain.response.setup import setup_incident
from domain.response.update import update_incident
from storage.models import Incident
from storage.rows import must_get
from tests.fakes import RecordingConversation
from tests.flows.test_setup_flow import REPORTER, reported


class WatchedConversation(RecordingConversation):
    """Notes, at every Slack call, which calls were made by a task that has a transaction open (a flow runs
    steps side by side: another task's transaction meanwhile is no fault of the call)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: dict[int, asyncio.Task | None] = {}  # connection -> the task that began its transaction
        self.during_transaction: list[str] = []

    def _record(self, method: str, **args: Any) -> None:
        if asyncio.current_task() in self.open.values():
            self.during_transaction.append(method)
        super()._record(method, **args)


@pytest.fixture
def conversation() -> WatchedConversation:
    return WatchedConversation()


@pytest.fixture(autouse=True)
def watch(engine, conversation):
    sync = engine.sync_engine
    listeners = {"begin": lambda conn: conversation.open.__setitem__(id(conn), asyncio.current_task()),
                 "commit": lambda conn: conversation.open.pop(id(conn), None),
                 "rollback": lambda conn: conversation.open.pop(id(conn), None)}
    for name, fn in listeners.items():
        event.listen(sync, name, fn)
    yield
    for name, fn in listeners.items():
        event.remove(sync, name, fn)


async def test_set_up_hand_off_close_and_reopen_call_slack_outside_transactions(deps, conversation):
    incident = await reported(deps)
    await setup_incident(deps, incident.id)
    assert conversation.called("create_channel") and conversation.called("pin")

    await assign_role(deps, AssignRoleForm(incident.id, "U0BOB", Role.COMMANDER), actor=REPORTER)
    assert conversation.called("set_topic")[-1]["topic"] != conversation.called("set_topic")[0]["topic"]

    async with deps.sessions() as session:
        current = (await update_options(session, await must_get(session, Incident, incident.id))).current
    await update_incident(deps, incident.id, replace(current, status=IncidentStatus.CLOSED), actor="U0BOB")
    assert conversation.called("archive")
    await update_incident(deps, incident.id, replace(current, status=IncidentStatus.ACTIVE), actor="U0BOB")
    assert conversation.called("unarchive")

    assert conversation.during_transaction == []
