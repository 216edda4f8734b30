"""Names derived from incidents: Slack channel names and topics."""

from __future__ import annotations

import re
import unicodedata

CHANNEL_NAME_MAX = 80


TOPIC_MAX = 250


_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")


def slugify(text: str, max_len: int) -> str:
    """ASCII, lowercase, hyphen-separated slug of at most `max_len` chars (may be empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NOT_ALLOWED.sub("-", ascii_text.lower()).strip("-_")
    slug = re.sub(r"-{2,}", "-", slug)
    return slug[:max_len].rstrip("-_")


def channel_name(prefix: str, number: int, title: str, attempt: int = 0) -> str:
    """`<prefix>-<number>-<slug>`; `attempt` > 0 appends `-<attempt+1>` to dodge collisions.

    Always a valid Slack channel name (lowercase, ≤ 80 chars, no spaces or periods), whatever
    the title's script: a title with no Latin letters falls back to the bare number.
    """
    head = f"{prefix}-{number}"
    tail = f"-{attempt + 1}" if attempt else ""
    room = CHANNEL_NAME_MAX - len(head) - len(tail) - 1
    slug = slugify(title, room)
    return f"{head}-{slug}{tail}" if slug else f"{head}{tail}"


def incident_topic(name: str, status: str, priority: str, commander_display: str) -> str:
    """Channel topic: name, status, priority, commander (Slack caps topics at 250 chars)."""
    topic = f"{name} · {status} · Priority: {priority} · Commander: {commander_display}"
    return topic[:TOPIC_MAX]
