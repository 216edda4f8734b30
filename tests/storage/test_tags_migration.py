"""Migration 0023: free-text incident tags become legacy tags in incident_tag; nothing is lost, both ways,
and declaring a tag of the same name adopts the legacy one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from domain.config.apply import apply_config
from domain.config.loader import parse_config
from storage import db, migrate

BEFORE = "0013_incident_ticket"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _execute(url: str, *statements: tuple[str, dict]) -> None:
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            for sql, params in statements:
                await conn.execute(text(sql), params)
    finally:
        await engine.dispose()


async def _query(url: str, sql: str) -> list[tuple]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


def _old_rows() -> list[tuple[str, dict]]:
    rows = [  # into a new database: ids are 1, 2, 3... in order of insertion
        ("INSERT INTO project (name, description, \"default\", created_at) VALUES ('default', '', true, :t)", {}),
        ("INSERT INTO incident_type (project_id, name, description, visibility, \"default\", enabled) "
         "VALUES (1, 'Reliability', '', 'Open', true, true)", {}),
        ("INSERT INTO incident_priority (project_id, name, description, view_order, \"default\", enabled, "
         "page_commander) VALUES (1, 'Low', '', 1, true, true, false)", {}),
        ("INSERT INTO incident_severity (project_id, name, description, view_order, \"default\", enabled, "
         "allowed_for_stable) VALUES (1, 'Minor', '', 1, true, true, true)", {}),
        ("INSERT INTO individual_contact (slack_user_id, name, tz, created_at, updated_at) "
         "VALUES ('U1', 'Ada', 'UTC', :t, :t)", {}),
    ]
    for n in (1, 2, 3):
        rows.append((
            "INSERT INTO incident (project_id, number, name, title, description, status, visibility, "
            "incident_type_id, incident_priority_id, incident_severity_id, reporter_id, setup_state, setup_attempts, "
            "created_at, reported_at, updated_at) VALUES "
            f"(1, {n}, 'INC-{n}', 't', '', 'Active', 'Open', 1, 1, 1, 1, 'done', 0, :t, :t, :t)", {}))
    rows += [
        ("INSERT INTO incident_detail (incident_id, tags, notify_user_ids, notify_emails) "
         "VALUES (1, '[\"payments\", \"eu\"]', '[\"U1\"]', '[]')", {}),
        ("INSERT INTO incident_detail (incident_id, tags, notify_user_ids, notify_emails) "
         "VALUES (2, '[\"Payments\", \" \", \"database\", \"payments\"]', '[]', '[]')", {}),
        ("INSERT INTO incident_detail (incident_id, tags, notify_user_ids, notify_emails) "
         "VALUES (3, '[]', '[]', '[\"a@example.com\"]')", {}),
    ]
    return [(sql, params | {"t": NOW}) for sql, params in rows]


TAGS_OF = ("SELECT it.incident_id, t.name, t.legacy, t.tag_type_id FROM incident_tag it "
           "JOIN tag t ON t.id = it.tag_id ORDER BY it.incident_id, t.name")


async def test_free_text_tags_become_legacy_tags_then_declared_ones_adopt_them(empty_db_url):
    url = empty_db_url
    await migrate.upgrade_async(url, BEFORE)
    await _execute(url, *_old_rows())

    await migrate.upgrade_async(url)

    assert migrate.check_models_match(url) == []
    tags = await _query(url, "SELECT project_id, name, legacy, tag_type_id FROM tag ORDER BY id")
    assert tags == [(1, "payments", True, None), (1, "eu", True, None), (1, "database", True, None)]
    assert await _query(url, TAGS_OF) == [
        (1, "eu", True, None), (1, "payments", True, None), (2, "database", True, None), (2, "payments", True, None)]
    details = await _query(url, "SELECT incident_id, notify_user_ids, notify_emails FROM incident_detail ORDER BY 1")
    assert [d[0] for d in details] == [1, 2, 3]  # the other command-center data is untouched

    config = parse_config("""
tags:
  types:
    - name: Component
      tags: [{name: Payments}, {name: Search}]
""")
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            report = await apply_config(session, config)
            await session.commit()
    finally:
        await engine.dispose()
    assert "adopted legacy tag default/Component/Payments" in report.changes
    [(type_id,)] = await _query(url, "SELECT id FROM tag_type")
    assert await _query(url, TAGS_OF) == [
        (1, "Payments", False, type_id), (1, "eu", True, None), (2, "Payments", False, type_id),
        (2, "database", True, None)]



def test_downgrade_writes_the_tags_back(empty_db_url):
    url = empty_db_url
    migrate.upgrade(url, BEFORE)
    migrate.run_blocking(lambda: _execute(url, *_old_rows()))
    migrate.upgrade(url)
    migrate.downgrade(url, BEFORE)
    rows = migrate.run_blocking(lambda: _query(url, "SELECT incident_id, tags FROM incident_detail ORDER BY 1"))
    as_lists = {incident_id: (tags if isinstance(tags, list) else json.loads(tags))
                for incident_id, tags in rows}
    assert {k: sorted(v) for k, v in as_lists.items()} == {1: ["eu", "payments"], 2: ["database", "payments"], 3: []}
