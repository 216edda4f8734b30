"""App Home: your incidents with your role, recent ones, and a Report button."""

from __future__ import annotations

from tests.e2e.incident_helpers import report


def home(slack, user):
    return next((v for v in slack.views.values() if v.type == "home" and v.user == user), None)


async def test_home_lists_incidents_and_reports(slack, people, warroom):
    await slack.open_home(people.bob)
    view = await slack.wait_for(lambda: home(slack, people.bob))
    assert "not in any active incident" in str(view.view["blocks"])

    incident = await report(slack, warroom, people.alice, people.general)
    secret = await report(slack, warroom, people.bob, people.general, title="Key leak", private=["restricted"])
    await slack.open_home(people.alice)
    view = await slack.wait_for(lambda: home(slack, people.alice))
    text = str(view.view["blocks"])
    assert incident.name in text and "commander" in text and f"<#{incident.channel_id}>" in text
    assert secret.name not in text

    before = set(slack.views)
    await slack.click(people.alice, "home_report_incident", view_id=view.id)
    modal = (await slack.wait_for(lambda: [v for v in slack.open_views(people.alice) if v.id not in before and v.type == "modal"]))[-1]
    assert modal.view["callback_id"] == "report_incident"
