"""Individual contacts: the people warroom knows, keyed by Slack user id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.core.ports import UserProfile
from storage.models import IndividualContact
from storage.types import utcnow
from storage.upsert import upsert_insert


async def ensure_contact(session: AsyncSession, user_id: str, name: str | None = None) -> IndividualContact:
    """Return the contact for `user_id`, creating a minimal one if unknown (no Slack call). A known contact
    costs one read (no write: every listener and set-up asks this of people who are nearly always known)."""
    query = select(IndividualContact).where(col(IndividualContact.slack_user_id) == user_id)
    contact = (await session.execute(query)).scalar_one_or_none()
    if contact is not None:
        return contact
    now = utcnow()
    await session.execute(
        upsert_insert(session, IndividualContact)
        .values(slack_user_id=user_id, name=name or user_id, tz="UTC", created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["slack_user_id"])
    )
    return (await session.execute(query)).scalar_one()


async def update_contact(session: AsyncSession, profile: UserProfile) -> IndividualContact:
    """Store the latest profile (name, email, time zone) for a user."""
    return apply_profile(await ensure_contact(session, profile.user_id, profile.name), profile)


def apply_profile(contact: IndividualContact, profile: UserProfile) -> IndividualContact:
    """Write the profile's name, email and time zone onto `contact` (the same person), if they changed."""
    latest = (profile.name, profile.email, profile.tz or "UTC")
    if (contact.name, contact.email, contact.tz) != latest:  # unchanged: no write
        contact.name, contact.email, contact.tz = latest
        contact.updated_at = utcnow()
    return contact
