"""Slack (or a proxy in front of it) answering a 5xx with a text body: still a PortError, still a fallback."""

from __future__ import annotations

from tests.e2e.incident_helpers import REPORT, report


async def test_confirmation_falls_back_to_a_dm_when_slack_answers_5xx_with_text(slack, people, warroom):
    # The emulator answers injected 5xx with a text/plain body, as proxies do: slack_sdk then hands
    # the adapter a str, not a dict. More failures than the client's retries, so the error surfaces.
    slack.inject("chat.postEphemeral", status=503, times=10)
    incident = await report(slack, warroom, people.alice, people.general)
    dm = await slack.wait_for(lambda: [m for m in slack.dm_messages(people.alice) if "is ready" in m.text])
    assert incident.name in dm[0].text
    failed = [c for c in slack.calls_to("chat.postEphemeral") if not c.ok]
    assert failed and all(c.error == "http_503" for c in failed)


async def test_a_form_slack_will_not_open_is_told_ephemerally_where_the_command_was_run(slack, people, warroom):
    # views.open answers 503 with a text body on the first try and both of the client's retries.
    slack.inject("views.open", status=503, times=3)
    await slack.slash_command(people.alice, REPORT, channel=people.general)
    told = await slack.wait_for(lambda: [e for e in slack.ephemerals if e["user"] == people.alice
                                         and "Slack did not let warroom finish that" in e["text"]])
    assert "http_503" in told[0]["text"] and told[0]["channel"] == people.general
    assert not slack.open_views(people.alice)
    assert [c.error for c in slack.calls_to("views.open")] == ["http_503"] * 3


async def test_a_form_slack_will_not_open_from_the_home_tab_is_told_by_dm(slack, people, warroom):
    await slack.open_home(people.alice)
    [home] = await slack.wait_for(lambda: [v for v in slack.views.values()
                                           if v.user == people.alice and v.view.get("type") == "home"])
    slack.inject("views.open", status=503, times=3)
    await slack.click(people.alice, "home_report_incident", view_id=home.id)  # a home tab click has no response URL
    dm = await slack.wait_for(lambda: [m for m in slack.dm_messages(people.alice)
                                       if "Slack did not let warroom finish that" in m.text])
    assert "http_503" in dm[0].text
