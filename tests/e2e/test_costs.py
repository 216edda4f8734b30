"""Response cost: people talk in the incident channel, the cost job runs, the summary shows the cost."""

from __future__ import annotations

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from jobs import cost_polling
from jobs.runner import run_job
from tests.e2e.incident_helpers import report

CONFIG = {
    "costs": {
        "annual_employee_cost": 208000, "business_year_hours": 2080,  # 100 an hour
        "models": [{"name": "chatty", "activities": [
            {"activity": "slack_channel_activity", "response_time_seconds": 300},
            {"activity": "slack_thread_activity", "response_time_seconds": 120}]}],
        "incident_types": {"Reliability": "chatty"},
    },
}


def _summary_text(slack, incident) -> str:
    return str(slack.channels[incident.channel_id].find(incident.summary_message_ts).blocks)


async def test_messages_become_cost_on_the_summary_once_even_across_a_failed_run_and_a_restart(slack, people, db_url):
    carol = slack.add_user("carol", real_name="Carol Dev")
    config = WarroomConfig.model_validate(CONFIG)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general, title="Cost me")
        channel = incident.channel_id
        await slack.join(people.bob, channel)
        await slack.join(carol, channel)
        first = await slack.post_message(people.alice, channel, "looking at the 502s")
        await slack.post_message(people.bob, channel, "db is fine")
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        # Alice and Bob: one 300 s span each, 600 s at 100/h
        assert "$16.67" in _summary_text(slack, incident)

        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        assert "$16.67" in _summary_text(slack, incident)  # nothing new, nothing added

        await slack.post_message(carol, channel, "rolled back", thread_ts=first)
        slack.inject("conversations.replies", error="internal_error")
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "failed"  # read, never stored
        assert "$16.67" in _summary_text(slack, incident)

    async with running_warroom(slack, db_url, config) as warroom:  # a restart
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        assert "$20.00" in _summary_text(slack, incident)  # + Carol's 120 s thread reply, once
        assert await run_job("cost_polling", cost_polling.run, warroom.deps) == "ran"
        assert "$20.00" in _summary_text(slack, incident)
