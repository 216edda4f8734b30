"""A form is checked again when it comes back: the incident may be gone, or the person may have lost the
right since it opened. The modal then stays open with the reason; nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.report_models import IncidentReport
from storage.task_models import IncidentTask
from tests.e2e.incident_helpers import report
from tests.e2e.outage_helpers import vanish_row

ASSIGN = "/dispatch-assign-role"


async def open_form(slack, user, command, channel, text=""):
    before = set(slack.views)
    await slack.slash_command(user, command, text=text, channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


async def hand_command_to(slack, people, incident, new_commander):
    view = await open_form(slack, people.alice, ASSIGN, incident.channel_id)
    ok = await slack.submit_view(people.alice, view.id, {"person": new_commander, "role": "commander"})
    assert not ok.ack_payload
    await slack.wait_for(lambda: "Commander: Bob Sec" in slack.channels[incident.channel_id].topic)


async def count(warroom, table) -> int:
    async with warroom.deps.sessions() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def vanish(db_url: str, incident_id: int) -> None:
    await vanish_row(db_url, "incident", incident_id)


MANAGING_FORMS = {
    "create-task": ("/dispatch-create-task", lambda people: {"description": "Rotate the key", "assignees": [people.bob]},
                    IncidentTask),
    "tactical-report": ("/dispatch-report-tactical",
                        lambda people: {"conditions": "Degraded", "actions": "Failover", "needs": "None"},
                        IncidentReport),
}


@pytest.mark.parametrize("form", MANAGING_FORMS)
async def test_a_managing_form_submitted_after_handing_command_over_is_refused(slack, people, warroom, form):
    command, values, table = MANAGING_FORMS[form]
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_form(slack, people.alice, command, incident.channel_id)
    await hand_command_to(slack, people, incident, people.bob)
    refused = await slack.submit_view(people.alice, view.id, values(people))
    assert refused.ack_payload["response_action"] == "errors"
    assert "no longer allowed" in " ".join(refused.ack_payload["errors"].values())
    assert slack.open_views(people.alice), "the form stays open with the reason"
    await warroom.registry.drain()
    assert await count(warroom, table) == 0


NON_MANAGING_FORMS = {
    "create-task": ("/dispatch-create-task", "", lambda people: {"description": "Rotate the key", "assignees": [people.alice]}),
    "add-timeline-event": ("/dispatch-add-timeline-event", "DESC Failover done", lambda people: {}),
}


@pytest.mark.parametrize("form", NON_MANAGING_FORMS)
async def test_a_form_about_an_incident_that_no_longer_exists_is_refused(slack, people, warroom, db_url, caplog,
                                                                         form):
    command, text, values = NON_MANAGING_FORMS[form]
    incident = await report(slack, warroom, people.alice, people.general)
    view = await open_form(slack, people.alice, command, incident.channel_id, text)
    await warroom.registry.drain()
    await vanish(db_url, incident.id)
    refused = await slack.submit_view(people.alice, view.id, values(people))
    assert refused.ack_payload["response_action"] == "errors"
    assert "not available" in " ".join(refused.ack_payload["errors"].values())
    await warroom.registry.drain()
    assert not [r for r in caplog.records if r.levelname == "ERROR"], "no crash after the ack"
