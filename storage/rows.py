"""Loading rows that must exist; the tables of models, for Core statements."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

T = TypeVar("T")


def table_of(model: type[SQLModel]) -> Table:
    """The table of a SQLModel class (its `__table__`, typed): Core statements on it skip the ORM's bulk path."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


class RowMissing(LookupError):
    """A row the caller holds a reference to is gone (deleted since, or never committed)."""


async def must_get(session: AsyncSession, model: type[T], ident: Any) -> T:
    """`session.get` for a row that must exist: raises `RowMissing` instead of returning None."""
    row = await session.get(model, ident)
    if row is None:
        raise RowMissing(f"{model.__name__} {ident!r} does not exist")
    return row


async def add_once(session: AsyncSession, row: object) -> bool:
    """Add `row` and commit; False (rolled back) when a unique constraint says it is there already."""
    session.add(row)
    try:
        await session.commit()
        return True
    except IntegrityError:
        await session.rollback()
        return False
