"""The migration revisions shipped with the code, and the one a database is at, without Alembic.

Start-up only needs to know whether the database is at the newest revision. Importing Alembic and
loading every migration script for that costs a good part of a second (Alembic pulls in Mako and
Pygments); reading the `revision` / `down_revision` lines of the scripts and the one row of the
version table costs milliseconds. `storage.migrate.head_revision` (Alembic's own answer) stays the
reference: tests/unit/test_revisions.py checks that both agree.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps

# `revision: str = '0001'` and `down_revision: Union[...] = None | 'x' | ('x', 'y')`, at the start of a line.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*(?:#.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Revisions:
    head: str
    known: frozenset[str]


def _parents(value: str, script: Path) -> tuple[str, ...]:
    parsed = ast.literal_eval(value)
    if parsed is None:
        return ()
    if isinstance(parsed, str):
        return (parsed,)
    if isinstance(parsed, tuple | list) and all(isinstance(p, str) for p in parsed):
        return tuple(parsed)
    raise RuntimeError(f"{script.name}: down_revision is not a revision id or a tuple of them: {value}")


@functools.cache
def shipped_revisions(versions_dir: Path = VERSIONS_DIR) -> Revisions:
    """Every revision id in the migration scripts and the single head (raises if there is not exactly one)."""
    known: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions_dir.glob("*.py")):
        found = dict(reversed(_ASSIGNMENT.findall(script.read_text(encoding="utf-8"))))  # the first of each
        if "revision" not in found:
            continue
        revision = ast.literal_eval(found["revision"])
        if not isinstance(revision, str):
            raise RuntimeError(f"{script.name}: revision is not a string: {found['revision']}")
        known.add(revision)
        parents.update(_parents(found.get("down_revision", "None"), script))
    heads = known - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations in {versions_dir} have {len(heads)} heads ({', '.join(sorted(heads))}); "
                           "expected exactly one")
    return Revisions(head=heads.pop(), known=frozenset(known))


def database_revision(conn: Connection) -> str | None:
    """The revision recorded in the database's version table (None: never migrated)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = sorted(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    return ", ".join(rows) or None
