"""The vocabulary's values are what the database already holds: changing one needs a data migration."""

import json

import pytest

from domain.config.schema import DEFAULT_ROLES
from domain.core.vocabulary import (
    CaseStatus,
    FilterAction,
    IncidentStatus,
    ResolutionReason,
    Role,
    SetupState,
    SignalAuth,
    SignalStatus,
    TaskPriority,
    TaskStatus,
    Visibility,
)

STORED = {
    IncidentStatus: ["Active", "Stable", "Closed"],
    Visibility: ["Open", "Restricted"],
    Role: ["commander", "scribe", "liaison", "observer", "participant", "reporter"],
    SetupState: ["pending", "channel_created", "ready", "failed"],
    CaseStatus: ["New", "Triage", "Escalated", "Stable", "Closed"],
    TaskStatus: ["Open", "Resolved"],
    TaskPriority: ["Low", "Medium", "High"],
    ResolutionReason: ["Benign", "Contained", "Escalated", "False Positive", "Information Gathered",
                       "Insufficient Information", "Mitigated", "Operational Error", "Policy Violation",
                       "User Acknowledged"],
    SignalAuth: ["bearer", "hmac"],
    FilterAction: ["deduplicate", "snooze"],
    SignalStatus: ["pending", "processed", "parked"],
}


@pytest.mark.parametrize("vocabulary", STORED, ids=lambda v: v.__name__)
def test_values_are_the_stored_strings_in_order(vocabulary):
    assert [member.value for member in vocabulary] == STORED[vocabulary]


def test_a_member_is_its_string():
    member = IncidentStatus.CLOSED
    assert member == "Closed" and hash(member) == hash("Closed") and {"Closed": 1}[member] == 1
    assert f"{member}" == str(member) == "Closed" and json.dumps([member]) == '["Closed"]'


def test_default_roles_are_plain_strings():
    assert list(Role) == DEFAULT_ROLES and all(type(role) is str for role in DEFAULT_ROLES)
