"""`GET /metrics`: Prometheus text whose counters move when people use warroom through Slack."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.incident_helpers import REPORT, report


async def scrape(warroom) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} from the running bot's /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{warroom.http_port}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_report_moves_the_counters(slack, people, warroom):
    before = await scrape(warroom)
    assert value(before, "warroom_incidents", status="Active") == 0
    slack.inject("conversations.create", status=429, retry_after=0, times=1)
    incident = await report(slack, warroom, people.alice, people.general)
    after = await scrape(warroom)

    command = f"command:{REPORT}"
    assert value(after, "warroom_ack_latency_seconds_count", listener=command) == 1
    assert value(after, "warroom_ack_latency_seconds_sum", listener=command) > 0
    assert value(after, "warroom_ack_latency_seconds_count", listener="view:report_incident") == 1
    calls = "warroom_slack_api_calls_total"
    assert value(after, calls, method="conversations.create", outcome="rate_limited") == 1
    assert value(after, calls, method="conversations.create", outcome="ok") == 1
    assert value(after, calls, method="chat.postMessage", outcome="ok") >= 1
    assert value(after, calls, method="views.open", outcome="ok") == 1
    assert value(after, "warroom_incidents", status="Active") == 1
    assert value(after, "warroom_incident_setups_unfinished", state="pending") == 0
    assert value(after, "warroom_incident_setups_unfinished", state="failed") == 0
    assert value(after, "warroom_signal_queue_depth", status="pending") == 0
    assert ("warroom_signal_queue_oldest_pending_seconds", ()) in after
    assert incident.name.startswith("INC-")


async def test_job_runs_and_failures_are_counted(warroom):
    from jobs.runner import run_job

    async def broken(_deps):
        raise RuntimeError("boom")

    # The scheduler's listener counts what `run_job` returns; drive it as APScheduler does.
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

    outcome = await run_job("metrics_test_job", broken, warroom.deps)
    warroom.metrics.job_listener(JobExecutionEvent(EVENT_JOB_EXECUTED, "metrics_test_job", "default", None,
                                                   retval=outcome))
    warroom.metrics.job_listener(JobExecutionEvent(EVENT_JOB_ERROR, "other_job", "default", None,
                                                   exception=RuntimeError("x")))
    samples = await scrape(warroom)
    assert value(samples, "warroom_job_runs_total", job="metrics_test_job", outcome="failed") == 1
    assert value(samples, "warroom_job_runs_total", job="other_job", outcome="failed") == 1


async def test_each_runtime_has_its_own_registry(warroom):
    from bot.metrics import Metrics

    other = Metrics()
    other.slack_calls.labels("auth.test", "ok").inc(5)
    samples = await scrape(warroom)
    assert value(samples, "warroom_slack_api_calls_total", method="auth.test", outcome="ok") == 1


async def test_a_failed_set_up_is_counted(slack, people, warroom):
    from sqlalchemy import select

    from storage.models import Incident

    slack.inject("conversations.create", error="fatal_error")
    await slack.slash_command(people.alice, REPORT, channel=people.general)
    view = await slack.wait_for(lambda: slack.open_views(people.alice))
    await slack.submit_view(people.alice, view[-1].id, {"title": "Disk full", "description": "db-1",
                                                         "incident_priority": "Low"})

    async def failed():
        async with warroom.deps.sessions() as session:
            return (await session.execute(select(Incident).where(Incident.setup_error.is_not(None)))).first()

    await slack.wait_for(failed)
    samples = await scrape(warroom)
    assert value(samples, "warroom_incident_setups_unfinished", state="failed") == 1
    assert value(samples, "warroom_incident_setups_unfinished", state="pending") == 0
    assert value(samples, "warroom_slack_api_calls_total", method="conversations.create", outcome="fatal_error") == 1


async def test_the_scheduler_reports_its_runs(slack, warroom):
    from datetime import UTC, datetime

    warroom.scheduler.get_job("resume_incident_setups").modify(next_run_time=datetime.now(UTC))

    async def counted():
        samples = await scrape(warroom)
        return value(samples, "warroom_job_runs_total", job="resume_incident_setups", outcome="ran") >= 1

    await slack.wait_for(counted, timeout=10)
