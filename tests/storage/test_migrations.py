"""Migrations build exactly the models, both ways, on the selected backend."""

import asyncio

from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage import db, migrate


async def _tables(url: str) -> set[str]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_upgrade_from_empty_creates_every_table(empty_db_url):
    assert migrate.current_revision(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()
    assert asyncio.run(_tables(empty_db_url)) == set(SQLModel.metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_then_upgrade_again(empty_db_url):
    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "base")
    assert asyncio.run(_tables(empty_db_url)) == {"alembic_version"}
    assert migrate.current_revision(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()


def test_models_match_migrations(db_url):
    assert migrate.check_models_match(db_url) == []


async def test_upgrade_works_inside_a_running_loop(empty_db_url):
    migrate.upgrade(empty_db_url)  # sync call from async code: runs in a worker thread
    await migrate.upgrade_async(empty_db_url)  # already at head: no-op
    assert migrate.check_models_match(empty_db_url) == []


def test_script_location_does_not_depend_on_cwd(empty_db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    migrate.upgrade(empty_db_url)
    assert migrate.current_revision(empty_db_url) == migrate.head_revision()
