"""`Registry.submission`: the one shape of modal submissions (parse, errors acked by the registry, typed form)."""

from __future__ import annotations

import asyncio

from domain.core.outage import OUTAGE_MESSAGE, committed
from handlers.registry import Registry, Submission


class FakeApp:
    """Just enough of AsyncApp to capture what the registry hands Bolt."""

    def __init__(self) -> None:
        self.views: dict = {}

    def view(self, callback_id: str):
        return lambda fn: self.views.setdefault(callback_id, fn)


class Ack:
    def __init__(self, log: list) -> None:
        self.log, self.response = log, None

    async def __call__(self, **kwargs) -> None:
        self.log.append(("ack", kwargs))
        self.response = kwargs


def parse(view: dict):
    title = view["state"]["title"]
    return (title, {}) if title else (None, {"title": "Say what happened."})


async def submit(app: FakeApp, title: str, log: list) -> None:
    body = {"view": {"id": "V1", "state": {"title": title}, "blocks": [{"type": "input", "block_id": "title"}]},
            "user": {"id": "U1", "name": "alice"}}
    await app.views["form"](ack=Ack(log), body=body, client=None, context={"bot_user_id": "UBOT"})


async def test_parse_errors_are_acked_and_the_listener_never_runs():
    app, log = FakeApp(), []
    reg = Registry(app)

    @reg.submission("form", parse)
    async def listener(sub: Submission[str]) -> None:
        log.append(("listener", sub.form))

    await submit(app, "", log)
    assert log == [("ack", {"response_action": "errors", "errors": {"title": "Say what happened."}})]
    assert reg.interactions == ["view:form"]


async def test_the_form_is_handed_over_with_who_sent_it_and_acked_once_it_returns_or_committed():
    app, log = FakeApp(), []
    reg = Registry(app)

    @reg.submission("form", parse)
    async def listener(sub: Submission[str]) -> None:
        log.append(("listener", (sub.form, sub.user_id, sub.user_name, sub.view_id, sub.bot_user_id)))

    await submit(app, "Disk full", log)
    assert log == [("listener", ("Disk full", "U1", "alice", "V1", "UBOT")), ("ack", {})]


async def test_check_refusals_are_acked_as_field_errors():
    app, log = FakeApp(), []
    reg = Registry(app)

    async def check(sub: Submission[str]):
        return {"title": "No longer allowed."} if sub.form == "nope" else None

    @reg.submission("form", parse, check=check)
    async def listener(sub: Submission[str]) -> None:
        log.append(("listener", sub.form))

    await submit(app, "nope", log)
    await submit(app, "fine", log)
    assert log == [("ack", {"response_action": "errors", "errors": {"title": "No longer allowed."}}),
                   ("listener", "fine"), ("ack", {})]


async def test_store_first_acks_only_after_the_listener_stored_it():
    app, log = FakeApp(), []
    reg = Registry(app)

    @reg.submission("form", parse, store_first=True)
    async def listener(sub: Submission[str]):
        log.append(("listener", sub.form))
        return {"title": "Already taken."} if sub.form == "dup" else None

    await submit(app, "new", log)
    await submit(app, "dup", log)
    assert log == [("listener", "new"), ("ack", {}),
                   ("listener", "dup"), ("ack", {"response_action": "errors", "errors": {"title": "Already taken."}})]


async def test_store_first_never_acks_a_submission_it_could_not_store():
    app, log = FakeApp(), []
    reg = Registry(app)

    @reg.submission("form", parse, store_first=True)
    async def listener(sub: Submission[str]):
        raise ConnectionError("database down")

    await submit(app, "new", log)
    assert log[0] == ("ack", {"response_action": "errors", "errors": {"title": OUTAGE_MESSAGE}}), \
        "the modal stays open saying the database is unreachable"


async def test_a_listener_that_commits_is_acked_before_its_slow_rest():
    app, log = FakeApp(), []
    reg = Registry(app)

    @reg.submission("form", parse)
    async def listener(sub: Submission[str]) -> None:
        log.append(("stored", sub.form))
        committed()
        await asyncio.sleep(0.05)  # e.g. Slack calls
        log.append(("posted", sub.form))

    await submit(app, "new", log)
    assert log == [("stored", "new"), ("ack", {})], "Bolt has the ack back before the slow rest runs"
    await reg.drain()
    assert log == [("stored", "new"), ("ack", {}), ("posted", "new")]


async def test_a_store_that_does_not_answer_in_time_is_refused_not_acked_empty():
    app, log = FakeApp(), []
    reg = Registry(app, store_timeout=0.1)

    @reg.submission("form", parse)
    async def listener(sub: Submission[str]) -> None:
        await asyncio.sleep(0.3)  # the database hangs
        log.append(("stored", sub.form))

    await submit(app, "new", log)
    assert log[0] == ("ack", {"response_action": "errors", "errors": {"title": OUTAGE_MESSAGE}})
