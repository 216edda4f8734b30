"""On close every participant is asked for feedback; commanders get a daily digest."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from jobs import SCHEDULE, feedback_digest
from jobs.runner import run_job
from storage.feedback_models import Feedback
from tests.e2e.incident_helpers import report


async def close(slack, warroom, incident, user):
    before = set(slack.views)
    await slack.slash_command(user, "/dispatch-update-incident", channel=incident.channel_id)
    view = (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]
    await slack.submit_view(user, view.id, {"status": "Closed", "incident_severity": "Minor"})


def requests(slack, user):
    dm = slack.dm_channel(user)
    return [m for m in (dm.messages if dm else []) if "How did it go?" in m.text]


async def give(slack, user, request, rating, **values):
    await slack.click(user, "feedback_open", channel=slack.dm_channel(user).id, message_ts=request.ts)
    view = (await slack.wait_for(lambda: slack.open_views(user)))[-1]
    return await slack.submit_view(user, view.id, {"rating": rating, **values})


async def test_feedback_asked_on_close_stored_once_and_digested(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.join(people.bob, incident.channel_id)
    await close(slack, warroom, incident, people.alice)
    (alice_req,) = await slack.wait_for(lambda: requests(slack, people.alice))
    (bob_req,) = await slack.wait_for(lambda: requests(slack, people.bob))

    await give(slack, people.bob, bob_req, "Somewhat satisfied", comments="Good comms, slow paging", anonymous=["yes"])
    await slack.wait_for(lambda: any("recorded" in m.text for m in slack.dm_messages(people.bob)))
    await give(slack, people.bob, bob_req, "Very dissatisfied")
    await slack.wait_for(lambda: any("already gave feedback" in m.text for m in slack.dm_messages(people.bob)))
    await give(slack, people.alice, alice_req, "Very satisfied")
    await slack.wait_for(lambda: any("recorded" in m.text for m in slack.dm_messages(people.alice)))
    async with warroom.deps.sessions() as session:
        rows = (await session.execute(select(Feedback).order_by(Feedback.id))).scalars().all()
    assert [(f.user_id, f.rating, f.anonymous) for f in rows] == [
        (people.bob, "Somewhat satisfied", True), (people.alice, "Very satisfied", False)]

    # The daily digest reaches the commander once, however many processes fire it.
    daily = SCHEDULE["feedback_digest"].interval(warroom.deps, "feedback_digest")
    outcomes = await asyncio.gather(
        run_job("feedback_digest", feedback_digest.run, warroom.deps, holder="a", interval=daily),
        run_job("feedback_digest", feedback_digest.run, warroom.deps, holder="b", interval=daily))
    assert sorted(outcomes) == ["ran", "skipped"]
    assert await run_job("feedback_digest", feedback_digest.run, warroom.deps, holder="c",
                         interval=daily) == "skipped", "not twice in a day"
    [digest] = [m for m in slack.dm_messages(people.alice) if m.text.startswith("Feedback received")]
    assert digest.text == "Feedback received in the last 24 hours (2)"
    shown = " ".join(b["text"]["text"] for b in digest.blocks)
    assert "anonymous" in shown and f"<@{people.bob}>" not in shown and "Good comms, slow paging" in shown


async def test_feedback_modal_requires_a_rating(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    await close(slack, warroom, incident, people.alice)
    (req,) = await slack.wait_for(lambda: requests(slack, people.alice))
    await slack.click(people.alice, "feedback_open", channel=slack.dm_channel(people.alice).id, message_ts=req.ts)
    view = (await slack.wait_for(lambda: slack.open_views(people.alice)))[-1]
    result = await slack.submit_view(people.alice, view.id, {"comments": "no rating"})
    assert not result.sent and "rating" in result.ack_payload["errors"], "Slack's client itself insists on a rating"
    assert slack.views[view.id].state == "open"
    async with warroom.deps.sessions() as session:
        assert (await session.execute(select(Feedback))).first() is None
