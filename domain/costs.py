"""Response cost rules (pure): the classic role-hours model and activity-based work spans.

Classic model (Dispatch's): each role a participant holds counts from when it was assumed to when
it ends (renounced; Stable or Closed for a resolved incident; now while Active), in hours, where
a span over 24 h counts 8 h per full day (`days * 24 / 3 + remaining hours`), times the role's
engagement multiplier; closing adds review hours once (`1 + 0.5 x participants`).

One deliberate change from Dispatch: Dispatch applies the >24 h rule to the slice since the last
calculation, so with a job every few minutes it never applies. Here each run adds
`f(span up to now) - f(span up to the last calculation)` where `f` applies the rule to the whole
role span: runs stay incremental and the sum equals the rule applied once. The rule as stated is
not monotonic (24 h counts 24, 25 h counts 9), so the run in which a span passes 24 h adds a
negative amount; kept as specified, to be decided (a monotonic variant would change the figures).

Activity-based models: each activity of a participant at `t` opens a work span `[t, t + response
time]`; a later activity of the same participant inside an open span extends it to its own
`t + response time`. Spans of different participants are independent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.core.vocabulary import Role

HOURS_IN_DAY = 24
ROLE_MULTIPLIERS: dict[str, float] = {
    Role.COMMANDER: 1.0,
    Role.SCRIBE: 0.75,
    Role.LIAISON: 0.75,
    Role.PARTICIPANT: 0.5,
    Role.REPORTER: 0.5,
    Role.OBSERVER: 0.0,
}
CUSTOM_ROLE_MULTIPLIER = 0.5  # roles added in config count like participants


def role_multiplier(role: str) -> float:
    return ROLE_MULTIPLIERS.get(role, CUSTOM_ROLE_MULTIPLIER)


def billable_hours(seconds: float) -> float:
    """Hours of a role span; over 24 h, each full day counts 8 h (a third of it)."""
    hours = max(seconds, 0.0) / 3600
    if hours <= HOURS_IN_DAY:
        return hours
    days, rest = divmod(hours, HOURS_IN_DAY)
    return days * HOURS_IN_DAY / 3 + rest


def review_hours(participants: int) -> float:
    """Hours of the incident review, added once when the incident is closed."""
    return 1 + 0.5 * participants


def amount(hours: float, hourly_rate: float) -> float:
    return hours * hourly_rate


def money(value: float, currency: str = "$") -> str:
    return f"{currency}{value:,.2f}"


@dataclass(frozen=True)
class RoleSpan:
    """A role a participant held: `end` is when it was renounced (None: still held)."""

    participant: str
    role: str
    start: datetime
    end: datetime | None = None


def _weighted_hours(span: RoleSpan, cut: datetime, t: datetime) -> float:
    end = min(span.end or t, cut, t)
    return billable_hours((end - span.start).total_seconds()) * role_multiplier(span.role)


def classic_hours(
    roles: Iterable[RoleSpan], *, since: datetime | None, until: datetime, resolved_at: datetime | None = None,
) -> dict[str, float]:
    """Weighted role hours accrued per participant in `(since, until]` (since None: from the start).

    `resolved_at` (Stable or Closed time) ends every role of a resolved incident."""
    cut = resolved_at or until
    out: dict[str, float] = {}
    for span in roles:
        before = _weighted_hours(span, cut, since) if since is not None and since > span.start else 0.0
        after = _weighted_hours(span, cut, until) if until > span.start else 0.0
        if after != before:  # negative when the span just passed 24 h (see the module docstring)
            out[span.participant] = out.get(span.participant, 0.0) + after - before
    return out


def classic_windows(assignments: Sequence[tuple[datetime, str]], model: str, since: datetime | None,
                    until: datetime) -> list[tuple[datetime | None, datetime]]:
    """The parts of `(since, until]` during which `model` was assigned (`assignments`: (since, model),
    oldest first; before the first assignment, the first model applies)."""
    if not assignments:
        return []
    windows: list[tuple[datetime | None, datetime]] = []
    for i, (start, name) in enumerate(assignments):
        end = assignments[i + 1][0] if i + 1 < len(assignments) else until
        lo: datetime | None = None if i == 0 else start
        if name != model:
            continue
        if since is not None and (lo is None or lo < since):
            lo = since
        hi = min(end, until)
        if lo is None or lo < hi:
            windows.append((lo, hi))
    return windows


def model_at(assignments: Sequence[tuple[float, str]], t: float) -> str | None:
    """The model in effect at epoch second `t` (assignments: (since, model), oldest first)."""
    current = assignments[0][1] if assignments else None
    for since, name in assignments:
        if since <= t:
            current = name
    return current


@dataclass(frozen=True)
class Activity:
    """One tracked activity: who, when (epoch seconds), and the work it stands for."""

    participant: str
    at: float
    response_time: float


def extend_spans(open_ends: dict[str, float], activities: Iterable[Activity]) -> dict[str, float]:
    """Add `activities` (any order; taken oldest first) to the participants' open spans, whose ends
    `open_ends` holds and which it is updated with; returns the span seconds added per participant."""
    added: dict[str, float] = {}
    for act in sorted(activities, key=lambda a: a.at):
        end = open_ends.get(act.participant)
        new_end = act.at + act.response_time
        if end is not None and act.at <= end:
            extra = max(new_end - end, 0.0)
            new_end = max(new_end, end)
        else:
            extra = act.response_time
        open_ends[act.participant] = new_end
        added[act.participant] = added.get(act.participant, 0.0) + extra
    return added


def work_spans(activities: Iterable[Activity]) -> list[tuple[str, float, float]]:
    """The work spans (participant, start, end) the activities make, in start order."""
    spans: list[list[float | str]] = []
    current: dict[str, list[float | str]] = {}
    for act in sorted(activities, key=lambda a: a.at):
        span = current.get(act.participant)
        if span is not None and act.at <= float(span[2]):
            span[2] = max(float(span[2]), act.at + act.response_time)
        else:
            span = [act.participant, act.at, act.at + act.response_time]
            current[act.participant] = span
            spans.append(span)
    return [(str(p), float(s), float(e)) for p, s, e in spans]


def activity_cost(activities: Iterable[Activity], hourly_rate: float) -> float:
    """Total span seconds / 3600 x hourly rate."""
    seconds = sum(extend_spans({}, activities).values())
    return seconds / 3600 * hourly_rate
