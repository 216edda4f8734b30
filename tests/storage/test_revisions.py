"""`storage.revisions` (what start-up checks, without Alembic) agrees with Alembic, on the selected backend."""

from __future__ import annotations

import asyncio

import pytest
from alembic.script import ScriptDirectory

from storage import db, migrate
from storage.revisions import database_revision, shipped_revisions


async def _recorded(url: str) -> str | None:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(database_revision)
    finally:
        await engine.dispose()


def test_the_shipped_head_and_revisions_are_alembics():
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    shipped = shipped_revisions()
    assert shipped.head == migrate.head_revision()
    assert shipped.known == {script.revision for script in scripts.walk_revisions()}


def test_the_recorded_revision_is_alembics(empty_db_url):
    assert asyncio.run(_recorded(empty_db_url)) is None  # never migrated: no version table
    migrate.upgrade(empty_db_url, "0002_command_center")
    assert asyncio.run(_recorded(empty_db_url)) == migrate.current_revision(empty_db_url) == "0002_command_center"
    migrate.upgrade(empty_db_url)
    assert asyncio.run(_recorded(empty_db_url)) == migrate.current_revision(empty_db_url) == shipped_revisions().head
    migrate.downgrade(empty_db_url, "base")  # the version table stays, empty
    assert asyncio.run(_recorded(empty_db_url)) is None


def _script(directory, name: str, revision: str, down: str) -> None:
    (directory / f"{name}.py").write_text(
        f'"""{name}"""\nrevision: str = {revision!r}\ndown_revision: Union[str, Sequence[str], None] = {down}\n'
        "branch_labels = None\n")


def test_a_merge_revision_and_a_branch(tmp_path):
    _script(tmp_path, "0001_a", "a", "None")
    _script(tmp_path, "0002_b", "b", "'a'")
    _script(tmp_path, "0003_c", "c", '"a"  # a branch')
    _script(tmp_path, "0004_merge", "m", "('b', 'c')")
    assert shipped_revisions(tmp_path).head == "m"
    assert shipped_revisions(tmp_path).known == {"a", "b", "c", "m"}
    (tmp_path / "0004_merge.py").unlink()
    shipped_revisions.cache_clear()
    with pytest.raises(RuntimeError, match="2 heads"):
        shipped_revisions(tmp_path)
