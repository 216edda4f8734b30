"""The fixed words warroom stores and compares (statuses, visibilities, roles...), each defined once.

Every vocabulary is a `StrEnum`: a member is the very string stored in the database and shown
to people, compares and hashes equal to it, and formats as it. Rows read back hold plain
strings, which compare equal to the members, so nothing is migrated.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    """An incident's status, in its usual order (Active → Stable → Closed; reopening goes back)."""

    ACTIVE = "Active"
    STABLE = "Stable"
    CLOSED = "Closed"


ONGOING_STATUSES = (IncidentStatus.ACTIVE, IncidentStatus.STABLE)  # an incident not (yet) Closed


class Visibility(StrEnum):
    """Who may see an incident (and what an incident type makes it by default)."""

    OPEN = "Open"
    RESTRICTED = "Restricted"  # private channel, never announced


class Role(StrEnum):
    """Built-in participant roles, in the order the default config lists them.

    The config's `roles` may add others (stored as given); it must keep `commander`.
    """

    COMMANDER = "commander"
    SCRIBE = "scribe"
    LIAISON = "liaison"
    OBSERVER = "observer"
    PARTICIPANT = "participant"
    REPORTER = "reporter"


class CostActivity(StrEnum):
    """What an activity-based cost model can track."""

    SLACK_CHANNEL_ACTIVITY = "slack_channel_activity"  # a message in the incident channel
    SLACK_THREAD_ACTIVITY = "slack_thread_activity"  # a reply in a thread


class SetupState(StrEnum):
    """The last step an incident's set-up reached (`incident.setup_state`)."""

    PENDING = "pending"
    CHANNEL_CREATED = "channel_created"
    READY = "ready"
    FAILED = "failed"


class CaseStatus(StrEnum):
    """A case's status, in its usual order."""

    NEW = "New"
    TRIAGE = "Triage"
    ESCALATED = "Escalated"
    STABLE = "Stable"
    CLOSED = "Closed"


class TaskStatus(StrEnum):
    OPEN = "Open"
    RESOLVED = "Resolved"


class TaskPriority(StrEnum):
    """Incident task priorities, lowest first."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"


class ResolutionReason(StrEnum):
    """Why a case was Closed (descriptions: `domain.cases.service.RESOLUTION_REASONS`)."""

    BENIGN = "Benign"
    CONTAINED = "Contained"
    ESCALATED = "Escalated"
    FALSE_POSITIVE = "False Positive"
    INFORMATION_GATHERED = "Information Gathered"
    INSUFFICIENT_INFORMATION = "Insufficient Information"
    MITIGATED = "Mitigated"
    OPERATIONAL_ERROR = "Operational Error"
    POLICY_VIOLATION = "Policy Violation"
    USER_ACKNOWLEDGED = "User Acknowledged"


class SignalAuth(StrEnum):
    """How a signal source proves who it is."""

    BEARER = "bearer"  # Authorization: Bearer <token>
    HMAC = "hmac"  # HMAC-SHA256 signature of the body in a header


class FilterAction(StrEnum):
    """What a signal filter does (config filters, and snoozes stored in `signal_filter.action`)."""

    DEDUPLICATE = "deduplicate"  # join the open case of a recent signal sharing an entity
    SNOOZE = "snooze"  # make no case while it is in force


class SignalStatus(StrEnum):
    """Where a stored signal instance is in the worker's queue (`signal_instance.status`)."""

    PENDING = "pending"
    PROCESSED = "processed"
    PARKED = "parked"  # failed too often; an operator requeues it


class WorkflowStatus(StrEnum):
    """Where a workflow run is (`workflow_instance.status`). `pending`: stored, the webhook not yet accepted;
    the others are what the workflow reports back (`submitted` once the webhook accepted it)."""

    PENDING = "pending"
    SUBMITTED = "submitted"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED)
