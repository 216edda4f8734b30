"""Deduplication by entity across batches: an alert joins the latest open case that carried its entity within
the filter's window, past closed cases; on Postgres that case is read off the entity index newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from domain.signals.worker import SignalWorker
from storage.case_models import Case
from storage.signal_models import SignalEntity, SignalInstance
from storage.types import utcnow
from tests.e2e.signal_helpers import alert, signal_config, store

ADDRESS = "198.51.100.66"


@pytest.fixture
def config():
    return signal_config("C0TRIAGE", filters=[
        {"name": "same ip", "action": "deduplicate", "entity_types": ["ip"], "window_seconds": 600}])


async def _case_that_carried(deps, number: int, *, ago: int, status: str = "New") -> int:
    """A case opened by an alert that carried ADDRESS `ago` seconds ago."""
    seen = utcnow() - timedelta(seconds=ago)
    async with deps.sessions() as session:
        case = Case(number=number, name=f"CASE-{number}", title=f"Login {number}", case_type="Security triage",
                    priority="High", severity="Low", status=status, signal_definition="Unusual login",
                    conversation_target="C0TRIAGE", alert_count=1, created_at=seen)
        session.add(case)
        await session.flush()
        raw = alert(user=f"user{number}", ip=ADDRESS)
        session.add(SignalInstance(id=raw["id"], organization="default", definition="Unusual login", source="siem",
                                   raw=raw, received_at=seen, next_attempt_at=seen, status="processed",
                                   outcome="case", case_id=case.id, processed_at=seen))
        await session.flush()
        session.add(SignalEntity(instance_id=raw["id"], entity_type="ip", value=ADDRESS, definition="Unusual login",
                                 created_at=seen))
        await session.commit()
        return case.id


async def _decided(deps, definition: str = "Port scan") -> int | None:
    """Store one alert carrying ADDRESS, let the worker decide it, and return the case it went to."""
    external = {"Port scan": "scan-1", "Unusual login": "login-1"}[definition]
    instance_id = await store(deps.sessions, alert(external, user="newcomer", ip=ADDRESS), definition)
    assert await SignalWorker(deps, worker_id="w").run_once() == 1
    async with deps.sessions() as session:
        instance = await session.get(SignalInstance, instance_id)
        assert instance is not None and instance.status == "processed"
        return instance.case_id


async def test_an_alert_joins_the_latest_open_case_carrying_its_entity_past_closed_ones_and_within_the_window(deps):
    oldest = await _case_that_carried(deps, 901, ago=300)
    latest_open = await _case_that_carried(deps, 902, ago=120)
    await _case_that_carried(deps, 903, ago=10, status="Closed")

    assert await _decided(deps) == latest_open, "the closed case is newer, yet never joined"
    async with deps.sessions() as session:
        await session.execute(update(Case).where(Case.id == latest_open).values(status="Closed"))
        await session.commit()
    assert await _decided(deps) == oldest, "with that one closed, the older open case"

    async with deps.sessions() as session:  # every alert so far falls out of the windows (filter 10 min, definition 1 h)
        await session.execute(update(SignalEntity).values(created_at=utcnow() - timedelta(minutes=11)))
        await session.execute(update(SignalInstance).values(received_at=utcnow() - timedelta(hours=2)))
        await session.commit()
    fresh = await _decided(deps)
    assert fresh not in (None, oldest, latest_open), "nothing open carried it recently: a case of its own"
    assert await _decided(deps, "Unusual login") == fresh, "and the next alert of any definition joins that one"
