"""The facts of several case cards read together are each case's own, as read one by one."""

from __future__ import annotations

import uuid

from domain.cases.service import CARD_ENTITIES, case_facts, cases_facts
from storage.case_models import Case
from storage.signal_models import SignalEntity, SignalInstance
from storage.types import utcnow


async def _case(session, number: int, entities: list[tuple[str, str, int]]) -> Case:
    """A signal case whose alerts carry each (type, value) the given number of times."""
    case = Case(number=number, name=f"CASE-{number}", title=f"Scan {number}", case_type="Security triage",
                priority="High", severity="Low", signal_definition="Port scan", conversation_target="C1",
                created_at=utcnow())
    session.add(case)
    await session.flush()
    most = max(n for _, _, n in entities)
    for i in range(most):
        instance = SignalInstance(id=str(uuid.uuid4()), organization="default", definition="Port scan", source="siem",
                                  raw={}, received_at=utcnow(), next_attempt_at=utcnow(), case_id=case.id)
        session.add(instance)
        await session.flush()
        session.add_all(SignalEntity(instance_id=instance.id, entity_type=t, value=v, definition="Port scan",
                                     created_at=utcnow())
                        for t, v, n in entities if i < n)
    await session.flush()
    return case


async def test_each_case_gets_its_own_most_seen_entities(deps):
    async with deps.sessions() as session:
        many = await _case(session, 1, [("ip", f"10.0.0.{k}", k) for k in range(1, CARD_ENTITIES + 3)])
        few = await _case(session, 2, [("user", "mallory", 2), ("ip", "192.0.2.9", 2), ("ip", "192.0.2.1", 1)])
        bare = Case(number=3, name="CASE-3", title="By hand", case_type="Security triage", priority="High",
                    severity="Low", created_at=utcnow())
        session.add(bare)
        await session.commit()
        together = await cases_facts(session, [many, few, bare], deps.config)
        alone = {c.id: await case_facts(session, c, deps.config) for c in (many, few, bare)}

    assert together == alone
    assert together[many.id].entities == [("ip", f"10.0.0.{k}") for k in range(CARD_ENTITIES + 2, 2, -1)]
    assert together[few.id].entities == [("ip", "192.0.2.9"), ("user", "mallory"), ("ip", "192.0.2.1")]
    assert together[bare.id].entities == []
