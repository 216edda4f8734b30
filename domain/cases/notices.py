"""What warroom says about cases, as plain data; modals/case_messages.py renders them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.core.notices import Notice


@dataclass(frozen=True)
class CaseOpened(Notice):
    """Ephemeral confirmation to the person who opened a case."""

    case_name: str
    title: str
    card_link: str | None  # None: the card is not posted yet (retried in the background)
    channel_id: str | None = None


@dataclass(frozen=True)
class CaseMovedToChannel(Notice):
    """Reply in the card's thread: the case is now worked in its own channel."""

    case_name: str
    channel_id: str


@dataclass(frozen=True)
class CaseChannelOpened(Notice):
    """First message of a case's own channel, linking back to the card's thread."""

    case_name: str
    title: str
    thread_link: str | None


@dataclass(frozen=True)
class CaseEscalated(Notice):
    """In the case's thread or channel: it became an incident. Both None for a Restricted incident: the
    thread and the channel are seen by people outside it, so the message says only that it was escalated."""

    case_name: str
    incident_name: str | None
    channel_id: str | None


@dataclass(frozen=True)
class EscalatedFromCase(Notice):
    """In the incident channel: where the incident came from."""

    incident_name: str
    case_name: str
    title: str
    card_link: str | None


@dataclass(frozen=True)
class CaseClosedWithIncident(Notice):
    """In the case's thread (and channel): the incident it became was closed, and so is the case. No incident
    name for a Restricted incident (the thread is seen by people outside it)."""

    case_name: str
    incident_name: str | None


@dataclass(frozen=True)
class CaseReminder(Notice):
    """To the assignee (else in the card's thread): the case has waited `waited` in its status."""

    case_id: int
    case_name: str
    title: str
    status: str
    waited: timedelta
    card_link: str | None
    channel_id: str | None
    assignee: str | None


@dataclass(frozen=True)
class AddMentionedOffer(Notice):
    """To the case's assignee: `mentioned` was @mentioned in the case's thread or channel but does not work the
    case; a button adds them."""

    case_id: int
    case_name: str
    mentioned: str
    by: str
