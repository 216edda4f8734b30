"""Workflows through Slack and a local workflow runner (webhookemu): the run form, the signed webhook, status
reports back through the callback API (bad inputs included), retries, and signals starting workflows."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from emulators.webhookemu import WebhookEmulator
from jobs import SCHEDULE
from jobs.runner import run_job
from storage.case_models import CaseEvent
from storage.tag_models import CaseTag, Tag
from storage.workflow_models import WorkflowInstance
from tests.e2e.incident_helpers import ephemerals_for, events, report
from tests.e2e.signal_helpers import alert, card_of, cases, store

RUN, LIST = "/dispatch-run-workflow", "/dispatch-list-workflows"
TOKEN, CALLBACK_SECRET, HOOK_SECRET = "runner-token", "callback-hmac", "hook-secret"


@pytest.fixture
async def runner():
    emu = WebhookEmulator({"isolate": HOOK_SECRET, "rotate": HOOK_SECRET})
    await emu.start()
    yield emu
    await emu.stop()


def workflow_config(runner: WebhookEmulator, triage: str | None = None, **workflows: Any) -> WarroomConfig:
    data: dict[str, Any] = {
        "oncall": {"schedules": {}},
        "signals": {
            "card_refresh_seconds": 0.3, "card_edits_per_minute": 600,
            "sources": [{"name": "runner", "auth": "bearer", "token": TOKEN},
                        {"name": "runner-hmac", "auth": "hmac", "secret": CALLBACK_SECRET}],
            "entity_types": [{"name": "host", "jsonpath": "$.detail.host"},
                             {"name": "user", "jsonpath": "$.detail.user"}],
            "definitions": [{"name": "Malware found", "external_id": "edr-1", "conversation_target": triage,
                             "entity_types": ["host", "user"], "workflow": "Isolate host"}] if triage else [],
        },
        "tags": {"types": [{"name": "Host", "entity_types": ["host"], "tags": []}]} if triage else {},
        "workflows": {"max_attempts": 3, "definitions": [
            {"name": "Isolate host", "description": "Cut a host off the network", "url": runner.hook_url("isolate"),
             "secret": HOOK_SECRET, "timeout_seconds": 2,
             "parameters": [{"name": "host", "required": True}, {"name": "mode", "default": "full"}]},
            {"name": "Rotate keys", "url": runner.hook_url("rotate"), "secret": HOOK_SECRET},
        ], **workflows},
    }
    return WarroomConfig.model_validate(data)


def base(warroom) -> str:
    return f"http://127.0.0.1:{warroom.http_port}"


async def runs(warroom) -> list[WorkflowInstance]:
    async with warroom.deps.sessions() as session:
        return list((await session.execute(select(WorkflowInstance).order_by(WorkflowInstance.created_at))).scalars())


async def new_view(slack, user, act):
    before = set(slack.views)
    await act()
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


def block_ids(view) -> list[str]:
    return [b.get("block_id") for b in view.view["blocks"]]


async def start_run(slack, warroom, people, incident, **values):
    """Alice picks Isolate host in the run form, fills it in and submits; returns the stored run once accepted."""
    view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, RUN, channel=incident.channel_id))
    assert block_ids(view) == ["workflow", "reason"]  # two workflows: nothing picked yet
    await slack.click(people.alice, "workflow_pick", "Isolate host", view_id=view.id)
    await slack.wait_for(lambda: "wf_param_host" in block_ids(slack.views[view.id]))
    assert block_ids(slack.views[view.id]) == ["workflow", "wf_param_host", "wf_param_mode", "reason"]
    await slack.submit_view(people.alice, view.id, {"wf_param_host": "db-7", "reason": "contain the intrusion", **values})
    found = await slack.wait_for(lambda: runner_has_run(warroom))
    return found


async def runner_has_run(warroom):
    rows = [r for r in await runs(warroom) if r.status != "pending" and r.message_ts]
    return rows[0] if rows else None


def message(slack, channel: str, ts: str):
    return slack.channels[channel].find(ts)


async def test_run_from_slack_signed_webhook_reports_back_edit_the_message_and_the_timeline(slack, people, db_url, runner):
    async with running_warroom(slack, db_url, workflow_config(runner)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        run = await start_run(slack, warroom, people, incident)

        # The runner got one signed request with the run, its parameters and where to report back.
        received = runner.runs[run.id]
        assert received.workflow == "isolate" and received.requests == 1 and not runner.refused
        body = received.body
        assert body["parameters"] == {"host": "db-7", "mode": "full"} and body["reason"] == "contain the intrusion"
        assert body["requested_by"] == people.alice and body["incident"]["name"] == incident.name
        assert body["callback_url"] == f"/api/v1/default/workflows/instances/{run.id}"

        # "submitted" in the channel, with the runner's link.
        assert run.status == "submitted" and run.channel_id == incident.channel_id
        shown = message(slack, incident.channel_id, run.message_ts)
        await slack.wait_for(lambda: "submitted" in message(slack, incident.channel_id, run.message_ts).text)
        assert runner.url + "/runs/" in json.dumps(shown.blocks)
        # The link button: Slack opens the page and sends the click, which is acked (the driver raises otherwise).
        await slack.click(people.bob, "workflow_open", channel=incident.channel_id, message_ts=run.message_ts)

        # Running, then completed with artifacts: the same message edited each time, the timeline records each.
        assert await runner.report(base(warroom), run.id, "running", token=TOKEN) == (
            200, {"id": run.id, "status": "running", "result": "updated"})
        await slack.wait_for(lambda: "running" in message(slack, incident.channel_id, run.message_ts).text)
        artifacts = [{"name": "isolation report", "link": "https://runner.example.com/r/1.pdf"}]
        status, answer = await runner.report(base(warroom), run.id, "completed", token=TOKEN, artifacts=artifacts)
        assert (status, answer["status"], answer["result"]) == (200, "completed", "updated")
        await slack.wait_for(lambda: "completed" in message(slack, incident.channel_id, run.message_ts).text)
        blocks = json.dumps(message(slack, incident.channel_id, run.message_ts).blocks)
        assert "https://runner.example.com/r/1.pdf" in blocks and "isolation report" in blocks
        ours = [m for m in slack.channels[incident.channel_id].messages if "Isolate host" in (m.text or "")]
        assert len(ours) == 1  # edited in place, never posted again

        # The same report again changes nothing; a finished run cannot go back.
        status, answer = await runner.report(base(warroom), run.id, "completed", token=TOKEN, artifacts=artifacts)
        assert (status, answer["result"]) == (200, "unchanged")
        status, answer = await runner.report(base(warroom), run.id, "failed", token=TOKEN)
        assert (status, answer["error"]) == (409, "conflict")
        status, answer = await runner.report(base(warroom), run.id, "running", token=TOKEN)  # late, out of order
        assert (status, answer["status"], answer["result"]) == (200, "completed", "unchanged")

        timeline = await events(warroom, incident.id)
        assert [e for e in timeline if e.startswith("Workflow Isolate host")] == [
            f"Workflow Isolate host requested by <@{people.alice}>: contain the intrusion",
            "Workflow Isolate host submitted", "Workflow Isolate host: running",
            "Workflow Isolate host: completed, artifact isolation report"]

        # The list shows the workflows and this incident's run.
        await slack.slash_command(people.bob, LIST, channel=incident.channel_id)
        listing = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
        text = json.dumps(listing[-1]["blocks"])
        assert "Isolate host" in text and "Rotate keys" in text and "completed" in text and "isolation report" in text


async def test_double_submit_makes_one_run_and_required_parameters_and_reason_are_checked(slack, people, db_url, runner):
    async with running_warroom(slack, db_url, workflow_config(runner)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, RUN, "Isolate host", channel=incident.channel_id))
        assert block_ids(view) == ["workflow", "wf_param_host", "wf_param_mode", "reason"]  # named: pre-picked
        slack.client_validation = False  # as if Slack's client let an empty required field through
        refused = await slack.submit_view(people.alice, view.id, {"wf_param_host": "", "reason": ""})
        assert refused.ack_payload["response_action"] == "errors"
        assert set(refused.ack_payload["errors"]) == {"reason"}
        refused = await slack.submit_view(people.alice, view.id, {"wf_param_host": " ", "reason": "why not"})
        assert refused.ack_payload["errors"] == {"wf_param_host": "host is required."}
        assert await runs(warroom) == []

        # Bob, a mere observer, may not run workflows.
        await slack.join(people.bob, incident.channel_id)
        await slack.slash_command(people.bob, RUN, channel=incident.channel_id)
        await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
        assert not slack.open_views(people.bob)

        await asyncio.gather(*(slack.submit_view(people.alice, view.id, {"wf_param_host": "web-1", "reason": "go"})
                               for _ in range(2)), return_exceptions=True)
        run = await slack.wait_for(lambda: runner_has_run(warroom))
        assert len(await runs(warroom)) == 1 and runner.runs[run.id].requests == 1


async def test_runner_down_then_back_retried_by_the_job_and_failed_after_max_attempts(slack, people, db_url, runner):
    async with running_warroom(slack, db_url, workflow_config(runner)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        runner.fail("isolate", 503, times=1)
        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, RUN, "Isolate host", channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"wf_param_host": "db-1", "reason": "contain"})

        async def retrying():
            rows = await runs(warroom)
            return rows[0] if rows and rows[0].attempts == 1 and rows[0].message_ts else None

        run = await slack.wait_for(retrying)
        assert run.status == "pending" and "http_503" in run.error and not runner.runs
        await slack.wait_for(lambda: "retrying" in json.dumps(message(slack, incident.channel_id, run.message_ts).blocks))
        async with warroom.deps.sessions() as session:  # the backoff has passed
            row = await session.get(WorkflowInstance, run.id)
            row.next_attempt_at = row.created_at
            await session.commit()
        job = SCHEDULE["workflow_runs"]
        assert await run_job("workflow_runs", job.func, warroom.deps) == "ran"
        assert runner.runs[run.id].requests == 1
        await slack.wait_for(lambda: "submitted" in message(slack, incident.channel_id, run.message_ts).text)

        # A runner that keeps failing: the run fails after max_attempts (3), said in place.
        runner.fail("rotate", 500, times=5)
        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, RUN, "Rotate keys", channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"reason": "leaked"})
        second = await slack.wait_for(lambda: _second(warroom))
        for _ in range(2):
            async with warroom.deps.sessions() as session:
                row = await session.get(WorkflowInstance, second.id)
                row.next_attempt_at = row.created_at
                await session.commit()
            await run_job("workflow_runs", job.func, warroom.deps)
        async with warroom.deps.sessions() as session:
            row = await session.get(WorkflowInstance, second.id)
        assert (row.status, row.attempts) == ("failed", 3)
        await slack.wait_for(lambda: "failed" in message(slack, incident.channel_id, row.message_ts).text)
        assert any(e.startswith("Workflow Rotate keys could not be started") for e in await events(warroom, incident.id))


async def _second(warroom):
    rows = [r for r in await runs(warroom) if r.workflow == "Rotate keys" and r.attempts >= 1 and r.message_ts]
    return rows[0] if rows else None


def signed(secret: str, body: bytes, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Warroom-Request-Timestamp": str(ts), "X-Warroom-Signature": sig, "Content-Type": "application/json"}


async def test_callback_refuses_bad_input_with_4xx_never_5xx_and_takes_signed_bodies_once(slack, people, db_url, runner):
    async with running_warroom(slack, db_url, workflow_config(runner)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        run = await start_run(slack, warroom, people, incident)
        url = f"{base(warroom)}/api/v1/default/workflows/instances/{run.id}"
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession() as http:
            async def post(path_url, data, headers):
                async with http.post(path_url, data=data, headers=headers) as response:
                    return response.status, await response.json(content_type=None)

            ok = json.dumps({"status": "running"}).encode()
            assert (await post(url, ok, {}))[0] == 401
            assert (await post(url, ok, {"Authorization": "Bearer nope"}))[0] == 401
            assert (await post(url, ok, signed("wrong", ok)))[0] == 401
            status, answer = await post(url, ok, signed(CALLBACK_SECRET, ok, int(time.time()) - 3600))
            assert (status, answer["error"]) == (401, "stale_timestamp")
            unknown = f"{base(warroom)}/api/v1/default/workflows/instances/7b1c1e4a-5c1f-4c4e-9a51-3f2f1d7e8c01"
            assert (await post(unknown, ok, bearer)) == (404, {"error": "unknown_instance", "field": "id",
                                                                "message": "there is no workflow instance with this id"})
            assert (await post(f"{base(warroom)}/api/v1/default/workflows/instances/not-a-uuid", ok, bearer))[0] == 404
            assert (await post(f"{base(warroom)}/api/v1/other/workflows/instances/{run.id}", ok, bearer))[0] == 404
            for body, field in [(b"{", None), (b"[]", None), (b'{"status": "pending"}', "status"),
                                (b'{"status": "done"}', "status"),
                                (b'{"status": "running", "artifacts": {}}', "artifacts"),
                                (b'{"status": "running", "artifacts": [{"name": "x", "link": "javascript:alert(1)"}]}',
                                 "artifacts[0].link"),
                                (b'{"status": "running", "artifacts": [{"name": "", "link": "https://x"}]}',
                                 "artifacts[0].name"),
                                (b'{"status": "running", "weblink": 7}', "weblink"),
                                (b'{"status": "running", "message": ["x"]}', "message"),
                                (b'{"status": "running", "message": "a\\u0000b"}', "message"),
                                (b'{"status": "running", "artifacts": [{"name": "a\\u0000", "link": "https://x"}]}',
                                 "artifacts[0].name"),
                                (b'{"status": "running", "weblink": "https://x/<script>"}', "weblink")]:
                status, answer = await post(url, body, bearer)
                assert status == 400 and answer["field"] == field, (body, answer)
            big = json.dumps({"status": "running", "message": "x" * 70000}).encode()
            assert (await post(url, big, bearer))[0] == 413

            # Fuzz: random shapes and bytes are refused with a 4xx, never a 5xx.
            rng = random.Random(16)
            values: list[Any] = [None, True, 0, -1, 1e308, "", "running", "completed", [], {}, [{}], {"name": 1},
                                 "x" * 300, "https://ok.example.com/a", "\u0000", {"status": "running"}]
            for _ in range(150):
                if rng.random() < 0.2:
                    data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 60)))
                else:
                    data = json.dumps({k: rng.choice(values) for k in rng.sample(
                        ["status", "artifacts", "weblink", "message", "extra"], rng.randint(0, 5))}).encode()
                status, _ = await post(url, data, bearer)
                assert status < 500, data

            # An HMAC-signed report is taken once; the same signed request again is a replay.
            done = json.dumps({"status": "completed", "artifacts": [{"name": "log", "link": "https://x.example.com/l"}]}).encode()
            headers = signed(CALLBACK_SECRET, done)
            status, answer = await post(url, done, headers)
            assert (status, answer["status"]) == (200, "completed")
            status, answer = await post(url, done, headers)
            assert (status, answer["error"]) == (401, "replayed_request")
        async with warroom.deps.sessions() as session:
            row = await session.get(WorkflowInstance, run.id)
        assert row.status == "completed" and row.artifacts == [{"name": "log", "link": "https://x.example.com/l"}]


async def test_a_signal_starts_its_definitions_workflow_with_the_case_entities_which_also_become_tags(slack, people, db_url, runner):
    triage = slack.add_channel("sec-triage", members=[people.alice, people.bob], bot_member=True)
    async with running_warroom(slack, db_url, workflow_config(runner, triage)) as warroom:
        sessions = warroom.deps.sessions
        await store(sessions, alert("edr-1", detail={"host": "laptop-42", "user": "mallory"}), "Malware found")
        warroom.wake_signals()

        async def carded():
            found = [c for c in await cases(sessions) if c.card_ts]
            return found[0] if found else None

        case = await slack.wait_for(carded)
        run = await slack.wait_for(lambda: runner_has_run(warroom), timeout=10)
        assert run.case_id == case.id and run.creator is None
        assert runner.runs[run.id].body["parameters"] == {"host": "laptop-42", "mode": "full"}
        assert runner.runs[run.id].body["case"]["name"] == case.name
        # The run's message is a reply in the case card's thread.
        shown = message(slack, triage, run.message_ts)
        assert shown.thread_ts == case.card_ts and "started by a signal" in json.dumps(shown.blocks)
        await runner.report(base(warroom), run.id, "completed", token=TOKEN)
        await slack.wait_for(lambda: "completed" in message(slack, triage, run.message_ts).text)
        async with sessions() as session:
            timeline = list((await session.execute(select(CaseEvent.description).where(
                CaseEvent.case_id == case.id).order_by(CaseEvent.id))).scalars())
            tags = list((await session.execute(select(Tag.name).join(CaseTag, CaseTag.tag_id == Tag.id)
                                               .where(CaseTag.case_id == case.id))).scalars())
        assert "Workflow Isolate host requested by a signal: Started by signal" in timeline
        assert "Workflow Isolate host: completed" in timeline
        assert tags == ["laptop-42"]  # the host entity became a Host tag; user is not a tag type's entity
        await slack.wait_for(lambda: "Host: laptop-42" in json.dumps(card_of(slack, triage, case).blocks)
                             if card_of(slack, triage, case) else False)


async def test_a_case_channel_lists_and_runs_workflows_for_its_people_only(slack, people, db_url, runner):
    triage = slack.add_channel("sec-triage", members=[people.alice, people.bob], bot_member=True)
    config = workflow_config(runner).model_dump()
    config["cases"] = {"types": [{"name": "Security triage", "default": True, "conversation_target": triage}]}
    async with running_warroom(slack, db_url, WarroomConfig.model_validate(config)) as warroom:
        view = await new_view(slack, people.alice, lambda: slack.slash_command(
            people.alice, "/dispatch-create-case", "Odd logins", channel=people.general))
        await slack.submit_view(people.alice, view.id, {"description": "TOR", "own_channel": ["own_channel"]})
        own = await slack.wait_for(lambda: slack.channel_by_name("case-1-odd-logins"))
        await slack.wait_for(lambda: people.alice in own.members)

        # Bob is in the channel (added by hand) but does not work the case: he may list, not run.
        own.members.add(people.bob)
        await slack.slash_command(people.bob, RUN, channel=own.id)
        said = await slack.wait_for(lambda: ephemerals_for(slack, people.bob, own.id))
        assert "Only the people working this case" in said[-1]["text"] and not slack.open_views(people.bob)

        view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, RUN, "Rotate keys",
                                                                               channel=own.id))
        assert view.view["title"]["text"].startswith("Run workflow CASE-1")
        await slack.submit_view(people.alice, view.id, {"reason": "token leaked"})
        run = await slack.wait_for(lambda: runner_has_run(warroom))
        assert run.case_id is not None and run.incident_id is None and run.channel_id == own.id
        assert runner.runs[run.id].body["case"]["name"] == "CASE-1"
        await slack.wait_for(lambda: "submitted" in message(slack, own.id, run.message_ts).text)

        await slack.slash_command(people.bob, LIST, channel=own.id)
        listing = await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.bob, own.id) if "Runs in CASE-1"
                                                in json.dumps(e["blocks"])])
        assert "Rotate keys" in json.dumps(listing[-1]["blocks"])
        async with warroom.deps.sessions() as session:
            timeline = list((await session.execute(select(CaseEvent.description).where(
                CaseEvent.case_id == run.case_id).order_by(CaseEvent.id))).scalars())
        assert f"Workflow Rotate keys requested by <@{people.alice}>: token leaked" in timeline


async def test_a_github_actions_workflow_is_dispatched_with_the_run_id_and_reports_back(slack, people, db_url, runner):
    runner.github_tokens.add("ghp_good")
    runner.github_workflow("acme/response", "patch.yml", {"package": True, "warroom_run": True})
    data = workflow_config(runner).model_dump()
    data["workflows"]["definitions"].append({
        "name": "Patch", "kind": "github", "repository": "acme/response", "workflow": "patch.yml", "token": "ghp_good",
        "api_url": runner.url, "parameters": [{"name": "package", "required": True}]})
    async with running_warroom(slack, db_url, WarroomConfig.model_validate(data)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, RUN, "Patch",
                                                                               channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"wf_param_package": "openssl", "reason": "CVE"})
        run = await slack.wait_for(lambda: runner_has_run(warroom))
        assert runner.runs[run.id].body == {"ref": "main", "inputs": {"package": "openssl", "warroom_run": run.id}}
        assert run.status == "submitted"
        status, answer = await runner.report(base(warroom), run.id, "completed", token=TOKEN,
                                             extra={"weblink": "https://github.com/acme/response/actions/runs/1"})
        assert (status, answer["status"]) == (200, "completed")
        await slack.wait_for(lambda: "completed" in message(slack, incident.channel_id, run.message_ts).text)
        assert "actions/runs/1" in json.dumps(message(slack, incident.channel_id, run.message_ts).blocks)


async def test_a_run_the_runner_took_but_answered_too_late_is_sent_again_with_the_same_idempotency_key(slack, people, db_url, runner):
    async with running_warroom(slack, db_url, workflow_config(runner)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        runner.latency = 2.5  # more than the workflow's timeout_seconds (2): warroom gives up, the runner goes on
        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, RUN, "Isolate host", channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"wf_param_host": "db-3", "reason": "contain"})

        async def timed_out():
            rows = await runs(warroom)
            return rows[0] if rows and rows[0].attempts == 1 else None

        run = await slack.wait_for(timed_out, timeout=10)
        assert run.status == "pending" and "timeout" in run.error
        await slack.wait_for(lambda: run.id in runner.runs, timeout=5)  # the runner did take it
        runner.latency = 0
        async with warroom.deps.sessions() as session:
            row = await session.get(WorkflowInstance, run.id)
            row.next_attempt_at = row.created_at
            await session.commit()
        await run_job("workflow_runs", SCHEDULE["workflow_runs"].func, warroom.deps)
        async with warroom.deps.sessions() as session:
            row = await session.get(WorkflowInstance, run.id)
        assert row.status == "submitted"
        assert len(runner.runs) == 1 and runner.runs[run.id].requests == 2  # one run, asked twice with its key
