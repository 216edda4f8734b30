"""Slack (or a proxy in front of it) answering a 5xx with a text body: still a PortError, still a fallback."""

from __future__ import annotations

from tests.e2e.incident_helpers import report


async def test_confirmation_falls_back_to_a_dm_when_slack_answers_5xx_with_text(slack, people, warroom):
    # The emulator answers injected 5xx with a text/plain body, as proxies do: slack_sdk then hands
    # the adapter a str, not a dict. More failures than the client's retries, so the error surfaces.
    slack.inject("chat.postEphemeral", status=503, times=10)
    incident = await report(slack, warroom, people.alice, people.general)
    dm = await slack.wait_for(lambda: [m for m in slack.dm_messages(people.alice) if "is ready" in m.text])
    assert incident.name in dm[0].text
    failed = [c for c in slack.calls_to("chat.postEphemeral") if not c.ok]
    assert failed and all(c.error == "http_503" for c in failed)
