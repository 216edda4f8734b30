"""AI read-ins, drafts and closing summaries, through the Slack emulator and an OpenAI-compatible emulator
(`openaiemu`) driven by the real `openai.AsyncOpenAI` client: what people see, what is stored, and what
reaches the AI server (never a secret, never more than the prompt bound), and that a slow or failing AI
never keeps a form from opening."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.harness import running_warroom
from bot.preflight import StartupError
from domain.config.ai import AIConfig
from domain.config.incidents import default_projects
from domain.config.schema import WarroomConfig
from emulators.openaiemu import OpenAIEmulator
from jobs import ai_followups
from storage.ai_models import AISummary
from storage.types import utcnow
from tests.e2e.incident_helpers import ephemerals_for, report
from tests.e2e.signal_helpers import alert, cases, signal_config, store
from tests.e2e.test_update_incident import open_update

KEY_ENV = "WARROOM_TEST_AI_KEY"
SUMMARY = "/dispatch-summary"
TACTICAL = "/dispatch-report-tactical"
FAKE_KEY = "sk-live-4f9d2c7b1a8e6f3d0c5b9a7e2d4f6a8c"
FAKE_SLACK = "xoxb-1234567890-abcdefghijklmnop"


@pytest.fixture
async def ai():
    emu = OpenAIEmulator(api_key="sk-emulator-test-key")
    await emu.start()
    yield emu
    await emu.stop()


def ai_config(emu: OpenAIEmulator, *, ai: dict | None = None, **overrides) -> WarroomConfig:
    settings = {"base_url": emu.base_url, "model": "gpt-4o-mini", "api_key_env": KEY_ENV, "timeout": 3,
                "max_retries": 0, **(ai or {})}
    return WarroomConfig.model_validate({"ai": AIConfig(**settings).model_dump(), "archive_on_close": False,
                                         **overrides})


@pytest.fixture
async def warroom(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    async with running_warroom(slack, db_url, ai_config(ai)) as runtime:
        yield runtime


async def join(slack, warroom, user, channel) -> None:
    await slack.join(user, channel)
    await warroom.registry.drain()


async def summary(slack, warroom, user, channel) -> dict:
    """Run `/dispatch-summary` as `user` in `channel`; the ephemeral once it no longer says Thinking."""
    before = len(ephemerals_for(slack, user, channel))
    delivery = await slack.slash_command(user, SUMMARY, channel=channel)
    assert delivery.latency < 1.0
    await warroom.registry.drain()
    shown = ephemerals_for(slack, user, channel)[before:]
    assert shown, "no answer"
    return shown[-1]


async def test_summary_reads_in_from_timeline_tasks_reports_and_messages(slack, people, warroom, ai):
    incident = await report(slack, warroom, people.alice, people.general)
    channel = incident.channel_id
    await join(slack, warroom, people.bob, channel)
    await slack.post_message(people.alice, channel, "Rolled back deploy 4812, errors dropping")
    await slack.post_message(people.bob, channel, "Seeing recovery in eu-west")
    reply = "What happened: checkout 502s after deploy 4812.\nCurrent status: recovering."
    ai.responder = lambda request: reply

    before = len(ephemerals_for(slack, people.bob, channel))
    answer = await summary(slack, warroom, people.bob, channel)

    assert "Read-in" in answer["text"] and "recovering" in answer["text"]
    assert "Written by AI" in json.dumps(answer["blocks"])
    assert len(ephemerals_for(slack, people.bob, channel)) == before + 1, "Thinking… was replaced, not followed"
    sent = ai.requests[-1]
    assert sent.model == "gpt-4o-mini"
    assert incident.title in sent.prompt and "30% of EU checkouts fail" in sent.prompt  # the facts
    assert "Rolled back deploy 4812" in sent.prompt and "Seeing recovery in eu-west" in sent.prompt  # messages
    assert "Alice Ops (commander" in sent.prompt and "Bob Sec (observer" in sent.prompt  # who is doing what
    assert people.bob not in sent.prompt  # people by name, not Slack id
    assert "timeline" in sent.prompt
    calls = [c.method for c in slack.calls if c.method == "response_url"]
    assert len(calls) >= 2  # "Thinking…" first, then the answer in its place


async def test_secrets_in_messages_never_reach_the_ai(slack, people, warroom, ai):
    incident = await report(slack, warroom, people.alice, people.general,
                            description=f"The leaked key was {FAKE_KEY}")
    channel = incident.channel_id
    await join(slack, warroom, people.bob, channel)
    await slack.post_message(people.alice, channel, f"try this one: OPENAI_API_KEY={FAKE_KEY}")
    await slack.post_message(people.bob, channel, f"bot token {FAKE_SLACK} and password: hunter2!x")
    await slack.post_message(people.bob, channel, "curl -H 'Authorization: Bearer abcdefgh12345678' https://x")
    await slack.post_message(people.bob, channel, "db at postgres://app:s3cretpw@db.internal/prod")

    await summary(slack, warroom, people.alice, channel)

    sent = ai.requests[-1].prompt
    for secret in (FAKE_KEY, FAKE_SLACK, "hunter2!x", "abcdefgh12345678", "s3cretpw"):
        assert secret not in sent
    assert "[REDACTED]" in sent and "try this one" in sent and "postgres://app:[REDACTED]@db.internal" in sent


async def test_configured_patterns_redact_too(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    config = ai_config(ai, ai={"extra_redact_patterns": [r"ACME-\d{6}"]})
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        await slack.post_message(people.alice, incident.channel_id, "badge ACME-123456 was used")
        await summary(slack, warroom, people.alice, incident.channel_id)
    assert "ACME-123456" not in ai.requests[-1].prompt and "badge [REDACTED] was used" in ai.requests[-1].prompt


async def test_prompt_is_bounded_oldest_lines_first(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    async with running_warroom(slack, db_url, ai_config(ai, ai={"max_prompt_chars": 2000})) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        for i in range(40):
            await slack.post_message(people.alice, incident.channel_id, f"update number {i:02d} " + "x" * 60)
        await summary(slack, warroom, people.alice, incident.channel_id)
    sent = ai.requests[-1]
    user_prompt = sent.messages[-1]["content"]
    assert len(user_prompt) <= 2000
    assert "update number 39" in user_prompt and "update number 00" not in user_prompt  # newest kept
    assert "older lines left out" in user_prompt and incident.title in user_prompt  # header kept


async def test_outsiders_of_a_restricted_incident_get_the_unknown_answer(slack, people, warroom, ai):
    eve = slack.add_user("eve", real_name="Eve Outside")
    private = await report(slack, warroom, people.alice, None, title="Zephyr exfiltration", private=["restricted"])
    elsewhere = await summary(slack, warroom, eve, people.general)
    inside = await summary(slack, warroom, eve, private.channel_id)

    def shown(entry):
        return json.dumps([entry["text"], entry["blocks"]])

    assert shown(inside) == shown(elsewhere)
    assert "Zephyr" not in shown(inside) and private.name not in shown(inside)
    assert ai.requests == [], "nothing was sent about an incident the person may not see"
    # Its participants get their read-in.
    answer = await summary(slack, warroom, people.alice, private.channel_id)
    assert "Read-in" in answer["text"]


async def test_summary_answers_within_the_timeout_when_the_ai_is_slow(slack, people, warroom, ai):
    incident = await report(slack, warroom, people.alice, people.general)
    ai.latency = 10  # the configured timeout is 3 s
    started = time.monotonic()
    delivery = await slack.slash_command(people.alice, SUMMARY, channel=incident.channel_id)
    assert delivery.latency < 1.0
    thinking = await slack.wait_for(lambda: ephemerals_for(slack, people.alice, incident.channel_id))
    assert "Thinking" in thinking[-1]["text"]
    await slack.wait_for(lambda: "no AI answer" in ephemerals_for(slack, people.alice, incident.channel_id)[-1]["text"],
                         timeout=8)
    assert time.monotonic() - started < 3 + 2
    assert "did not answer within 3 s" in ephemerals_for(slack, people.alice, incident.channel_id)[-1]["text"]


@pytest.mark.parametrize(("fault", "says"), [
    ({"status": 429, "retry_after": 1}, "rate limited"),
    ({"status": 500}, "failed to answer"),
])
async def test_ai_errors_are_told_plainly(slack, people, warroom, ai, fault, says):
    incident = await report(slack, warroom, people.alice, people.general)
    ai.fail(**fault)
    answer = await summary(slack, warroom, people.alice, incident.channel_id)
    assert "no AI answer" in answer["text"] and says in answer["text"]


async def test_a_429_with_retry_after_is_retried_by_the_client(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    async with running_warroom(slack, db_url, ai_config(ai, ai={"max_retries": 1, "timeout": 5})) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        ai.fail(429, retry_after=1)
        answer = await summary(slack, warroom, people.alice, incident.channel_id)
    assert "Read-in" in answer["text"] and "no AI answer" not in answer["text"]
    assert len(ai.requests) == 2
    assert ai.requests[1].received_at - ai.requests[0].received_at >= 0.9  # Retry-After honoured


async def test_a_wrong_key_is_refused_and_said(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-not-the-right-key")
    async with running_warroom(slack, db_url, ai_config(ai)) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        answer = await summary(slack, warroom, people.alice, incident.channel_id)
    assert f"refused warroom's API key: an admin should check {KEY_ENV}" in answer["text"]
    assert ai.requests == [] and ai.refused == [401]


async def test_without_ai_configured_the_command_says_so(slack, people, db_url, ai):
    async with running_warroom(slack, db_url, WarroomConfig()) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        answer = await summary(slack, warroom, people.alice, incident.channel_id)
        view = await open_tactical(slack, people.alice, incident.channel_id)
    assert "not enabled" in answer["text"]
    assert "report_draft_ai" not in json.dumps(view.view)
    assert ai.requests == []


async def test_ai_only_for_the_configured_projects(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    default = default_projects()[0].model_dump()
    projects = [default, {**default, "name": "Security", "default": False}]
    config = ai_config(ai, ai={"projects": ["Security"]}, projects=projects)
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        answer = await summary(slack, warroom, people.alice, incident.channel_id)
    assert "not enabled" in answer["text"] and ai.requests == []


# ------------------------------------------------------------------------------------------ tactical drafts


async def open_tactical(slack, user, channel):
    before = set(slack.views)
    await slack.slash_command(user, TACTICAL, channel=channel)
    views = await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before])
    return views[-1]


def field_value(slack, view, key) -> str:
    """What the person sees in field `key` now: what they typed, else the input's initial value."""
    state = slack.view_state(view)
    block = next(b for b in view.view["blocks"] if b.get("type") == "input" and b["element"]["action_id"] == key)
    return state[block["block_id"]][key]["value"] or ""


async def test_draft_with_ai_fills_untouched_fields_and_keeps_what_was_typed(slack, people, warroom, ai):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.post_message(people.alice, incident.channel_id, "EU checkout at 40% errors, rollback started")
    view = await open_tactical(slack, people.alice, incident.channel_id)
    slack.type_in(people.alice, view.id, {"needs": "Two more SREs from payments"})
    seen = []

    def respond(request):
        seen.append(field_value(slack, slack.views[view.id], "needs"))  # while the AI thinks
        return json.dumps({"conditions": "EU checkout failing at 40%", "actions": "Rolling back deploy 4812",
                           "needs": "An SRE"})

    ai.responder = respond
    delivery = await slack.click(people.alice, "report_draft_ai", view_id=view.id)
    assert delivery.latency < 1.0
    await warroom.registry.drain()

    view = slack.views[view.id]
    assert seen == ["Two more SREs from payments"], "the thinking form kept what was typed"
    assert field_value(slack, view, "conditions") == "EU checkout failing at 40%"
    assert field_value(slack, view, "actions") == "Rolling back deploy 4812"
    assert field_value(slack, view, "needs") == "Two more SREs from payments"
    assert "AI suggestion: An SRE" in json.dumps(view.view)
    assert "Drafted by AI" in json.dumps(view.view)
    assert "JSON object with the keys: conditions, actions, needs" in ai.requests[-1].system
    assert "rollback started" in ai.requests[-1].prompt

    await slack.submit_view(people.alice, view.id)
    await warroom.registry.drain()
    posted = [m for m in slack.channels[incident.channel_id].messages if m.text.startswith("Tactical report")]
    assert posted and "Rolling back deploy 4812" in json.dumps(posted[-1].blocks)
    assert "Two more SREs from payments" in json.dumps(posted[-1].blocks)


async def test_ai_down_the_tactical_form_still_opens_and_posts(slack, people, warroom, ai):
    incident = await report(slack, warroom, people.alice, people.general)
    ai.fail(503, times=5)
    view = await open_tactical(slack, people.alice, incident.channel_id)
    assert ai.requests == [], "opening the form asks the AI nothing"
    slack.type_in(people.alice, view.id, {"conditions": "Degraded", "actions": "Rollback"})
    await slack.click(people.alice, "report_draft_ai", view_id=view.id)
    await warroom.registry.drain()
    view = slack.views[view.id]
    assert view.state == "open" and "failed to answer" in json.dumps(view.view)
    assert field_value(slack, view, "conditions") == "Degraded"
    assert field_value(slack, view, "actions") == "Rollback"
    await slack.submit_view(people.alice, view.id, {"needs": "Nothing"})
    await warroom.registry.drain()
    assert any(m.text.startswith("Tactical report") for m in slack.channels[incident.channel_id].messages)


async def test_ai_unreachable_the_tactical_form_still_opens(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    config = ai_config(ai, ai={"base_url": "http://127.0.0.1:9/v1"})  # nothing listens there
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        view = await open_tactical(slack, people.alice, incident.channel_id)
        await slack.click(people.alice, "report_draft_ai", view_id=view.id)
        await warroom.registry.drain()
    assert "could not reach the AI service" in json.dumps(slack.views[view.id].view)


# ------------------------------------------------------------------------------------------ summary at close


async def test_close_posts_and_stores_an_ai_summary(slack, people, warroom, ai):
    incident = await report(slack, warroom, people.alice, people.general)
    await slack.post_message(people.alice, incident.channel_id, "Root cause: bad config push")
    ai.responder = lambda request: "Checkout failed for 30 minutes after a bad config push; rolled back."
    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Closed", "resolution": "Rolled back",
                                                       "incident_severity": "Minor"})
    await warroom.registry.drain()

    closing = [m for m in slack.channels[incident.channel_id].messages if "is closed after" in m.text]
    assert len(closing) == 1
    assert "bad config push; rolled back" in json.dumps(closing[0].blocks)
    assert "Thinking" not in json.dumps(closing[0].blocks)
    assert "Root cause: bad config push" in ai.requests[-1].prompt
    async with warroom.deps.sessions() as session:
        stored = (await session.execute(select(AISummary))).scalars().all()
    assert [(s.subject, s.subject_id, s.kind, s.state) for s in stored] == [("incident", incident.id, "close", "done")]
    assert stored[0].text.startswith("Checkout failed for 30 minutes")


async def test_close_with_the_ai_down_says_so_and_still_closes(slack, people, warroom, ai):
    incident = await report(slack, warroom, people.alice, people.general)
    ai.fail(500, times=3)
    view = await open_update(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"status": "Closed", "resolution": "Rolled back",
                                                       "incident_severity": "Minor"})
    await warroom.registry.drain()
    closing = [m for m in slack.channels[incident.channel_id].messages if "is closed after" in m.text]
    assert len(closing) == 1 and "AI summary: The AI service failed to answer" in json.dumps(closing[0].blocks)
    async with warroom.deps.sessions() as session:
        stored = (await session.execute(select(AISummary))).scalar_one()
    assert stored.state == "failed" and stored.text is None


async def test_a_close_summary_left_thinking_by_a_dead_process_is_finished(slack, people, db_url, ai, monkeypatch):
    """The process died after posting the closing message ("AI summary: Thinking…") and before the AI answered:
    the row recorded before asking lets the `ai_followups` job finish the message, and archive the channel."""
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    config = ai_config(ai).model_copy(update={"archive_on_close": True})
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        channel = slack.channels[incident.channel_id]
        ai.hang()  # the AI never answers this process
        view = await open_update(slack, people.alice, incident.channel_id)
        await slack.submit_view(people.alice, view.id, {"status": "Closed", "resolution": "Rolled back",
                                                       "incident_severity": "Minor"})
        closing = (await slack.wait_for(lambda: [m for m in channel.messages if "is closed after" in m.text]))[0]
        await slack.wait_for(lambda: ai.waiting == 1)
        assert "AI summary: Thinking" in json.dumps(closing.blocks) and not channel.is_archived
        for task in list(warroom.registry.inflight):  # the process dies here, mid-call
            task.cancel()
        await asyncio.sleep(0.1)
    # The process is gone (its AI call with it). Another one finds the pending row once its lease has passed.
    ai.heal()
    ai.responder = lambda request: "Resolved by rolling back; 12 minutes of checkout errors."
    async with running_warroom(slack, db_url, config) as warroom:
        assert await ai_followups.run(warroom.deps) == 0, "a recent claim is left to its process"
        async with warroom.deps.sessions() as session:
            await session.execute(update(AISummary).values(updated_at=utcnow() - timedelta(minutes=11)))
            await session.commit()
        assert await ai_followups.run(warroom.deps) == 1
        assert await ai_followups.run(warroom.deps) == 0
        async with warroom.deps.sessions() as session:
            stored = (await session.execute(select(AISummary))).scalar_one()
    assert "12 minutes of checkout errors" in json.dumps(closing.blocks) and "Thinking" not in json.dumps(closing.blocks)
    assert channel.is_archived and stored.state == "done" and stored.message_ts == closing.ts


async def test_missing_api_key_stops_start_up(slack, people, db_url, ai, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(StartupError, match=KEY_ENV):
        async with running_warroom(slack, db_url, ai_config(ai)):
            pass


# ------------------------------------------------------------------------------------------ cases


def signal_ai_config(emu: OpenAIEmulator, triage: str) -> WarroomConfig:
    config = signal_config(triage)
    ai = AIConfig(base_url=emu.base_url, api_key_env=KEY_ENV, timeout=3, max_retries=0,
                  features={"case_analysis": True})
    return config.model_copy(update={"ai": ai})


async def posted_case(slack, warroom):
    await store(warroom.deps.sessions, alert(), "Unusual login")
    warroom.wake_signals()
    return (await slack.wait_for(lambda: _posted(warroom.deps.sessions)))[0]


async def _posted(sessions):
    rows = await cases(sessions)
    return rows if rows and all(c.card_ts for c in rows) else None


async def test_signal_case_gets_one_ai_analysis_in_its_card_thread(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    triage = slack.add_channel("sec-triage", members=[people.alice, people.bob])
    ai.responder = lambda request: "Likely credential stuffing against mallory; check the login source first."
    async with running_warroom(slack, db_url, signal_ai_config(ai, triage)) as warroom:
        case = await posted_case(slack, warroom)
        assert await asyncio.gather(ai_followups.run(warroom.deps), ai_followups.run(warroom.deps)) in (
            [1, 0], [0, 1])
        assert await ai_followups.run(warroom.deps) == 0
        async with warroom.deps.sessions() as session:
            stored = (await session.execute(select(AISummary))).scalar_one()
    replies = [m for m in slack.channels[triage].messages if m.thread_ts == case.card_ts and m.ts != case.card_ts]
    assert len(replies) == 1 and "credential stuffing" in json.dumps(replies[0].blocks)
    assert (stored.subject, stored.kind, stored.state, stored.message_ts) == ("case", "analysis", "done", replies[0].ts)
    assert len(ai.requests) == 1
    assert "mallory" in ai.requests[0].prompt and "wiki.example.com/unusual-login" in ai.requests[0].prompt


async def test_case_analysis_is_off_by_default(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    triage = slack.add_channel("sec-triage", members=[people.alice, people.bob])
    config = signal_config(triage).model_copy(update={"ai": AIConfig(base_url=ai.base_url, api_key_env=KEY_ENV)})
    async with running_warroom(slack, db_url, config) as warroom:
        await posted_case(slack, warroom)
        assert await ai_followups.run(warroom.deps) == 0
    assert ai.requests == []


async def test_summary_in_a_case_channel_reads_in_the_case(slack, people, db_url, ai, monkeypatch):
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    triage = slack.add_channel("sec-triage", members=[people.alice, people.bob])
    async with running_warroom(slack, db_url, signal_ai_config(ai, triage)) as warroom:
        case = await posted_case(slack, warroom)
        await slack.click(people.alice, "case_create_channel", channel=triage, message_ts=case.card_ts)
        own = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("case-1")),
                                                None))
        await warroom.registry.drain()
        if people.alice not in own.members:
            await slack.click(people.alice, "case_join", channel=triage, message_ts=case.card_ts)
            await slack.wait_for(lambda: people.alice in own.members)
        await slack.post_message(people.alice, own.id, "mallory confirms it was not her")
        answer = await summary(slack, warroom, people.alice, own.id)
    assert "Read-in · CASE-1" in answer["text"]
    prompt = ai.requests[-1].prompt
    assert "Case CASE-1" in prompt and "mallory confirms it was not her" in prompt and "Unusual login" in prompt


async def test_outsiders_of_a_sealed_case_get_the_unknown_answer(slack, people, db_url, ai, monkeypatch):
    """A case whose type escalates to a Restricted incident type is sealed: to someone outside it, its channel
    answers /dispatch-summary as any other channel does, and nothing is sent to the AI."""
    monkeypatch.setenv(KEY_ENV, ai.api_key)
    triage = slack.add_channel("sec-triage", members=[people.alice, people.bob])
    eve = slack.add_user("eve", real_name="Eve Outside")
    config = signal_ai_config(ai, triage)
    sealed_type = config.cases.types[0].model_copy(update={"incident_type": "Security"})
    cases_config = config.cases.model_copy(update={"types": [sealed_type, *config.cases.types[1:]]})
    config = config.model_copy(update={"cases": cases_config, "admins": [people.alice]})  # alice: inside, as admin
    async with running_warroom(slack, db_url, config) as warroom:
        case = await posted_case(slack, warroom)
        await slack.click(people.alice, "case_create_channel", channel=triage, message_ts=case.card_ts)
        own = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("case-1")),
                                                None))
        await warroom.registry.drain()
        assert own.is_private
        elsewhere = await summary(slack, warroom, eve, people.general)
        inside = await summary(slack, warroom, eve, own.id)
        assert [inside["text"], inside["blocks"]] == [elsewhere["text"], elsewhere["blocks"]]
        assert ai.requests == []
        answer = await summary(slack, warroom, people.alice, own.id)
    assert "Read-in · CASE-1" in answer["text"]
