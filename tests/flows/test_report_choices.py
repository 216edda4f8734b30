"""The report form's choices: what only the config writes is kept for CATALOG_TTL, then read again."""

from __future__ import annotations

from sqlalchemy import update

from domain.core.aio import Memo
from domain.incidents.service import report_choices
from storage.models import IncidentType


async def _types(deps, catalog: Memo | None) -> list[str]:
    async with deps.sessions() as session:
        return [t.name for t in (await report_choices(session, catalog)).project(None).types]


async def test_the_catalog_is_kept_for_its_time_then_read_again(deps):
    catalog: Memo = Memo(ttl=60)
    offered = await _types(deps, catalog)
    assert len(offered) > 1
    async with deps.sessions() as session:
        await session.execute(update(IncidentType).where(IncidentType.name == offered[-1]).values(enabled=False))
        await session.commit()

    assert await _types(deps, catalog) == offered, "kept: read once per CATALOG_TTL"
    assert await _types(deps, None) == offered[:-1], "without a catalog: read each time"
    catalog.ttl = 0
    assert await _types(deps, catalog) == offered[:-1], "read again once its time is up"
