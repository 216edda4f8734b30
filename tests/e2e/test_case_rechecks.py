"""Case forms (edit, resolve, escalate) and the snooze form are checked again when they come back: the case
may be gone, closed or escalated since the form opened. The modal then stays open with the reason."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.harness import running_warroom
from storage.case_models import Case
from storage.models import Incident
from storage.signal_models import SignalFilter
from tests.e2e import test_cases
from tests.e2e.outage_helpers import vanish_row
from tests.e2e.test_cases import case_row, new_view, open_case
from tests.e2e.test_snooze import config_for, open_snooze, travel_case

world = test_cases.world  # the fixture: #security gets Security triage cards, carol is on call


async def delete_case(db_url: str, case_id: int) -> None:
    await vanish_row(db_url, "case", case_id)


def refusal(delivery) -> str:
    assert delivery.ack_payload and delivery.ack_payload.get("response_action") == "errors", delivery.ack_payload
    return " ".join(delivery.ack_payload["errors"].values())


async def test_an_edit_of_a_case_that_no_longer_exists_keeps_the_form_open(world, db_url):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    view = await new_view(slack, people.bob, lambda: slack.click(people.bob, "case_edit", channel=w.security,
                                                                 message_ts=card.ts))
    await delete_case(db_url, (await case_row(w)).id)
    answer = await slack.submit_view(people.bob, view.id, {"title": "TOR logins: 3 accounts"})
    assert refusal(answer) == "That case no longer exists."


async def test_a_resolve_after_someone_else_closed_the_case_says_so_and_changes_nothing(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    click = lambda user: lambda: slack.click(user, "case_resolve", channel=w.security, message_ts=card.ts)  # noqa: E731
    first, late = await new_view(slack, people.bob, click(people.bob)), await new_view(slack, people.alice,
                                                                                       click(people.alice))
    await slack.submit_view(people.bob, first.id, {"reason": "False Positive", "resolution": "Pentest traffic"})
    await slack.wait_for(lambda: "(Closed)" in slack.channels[w.security].find(card.ts).text)
    answer = await slack.submit_view(people.alice, late.id, {"reason": "Benign", "resolution": "Scanner"})
    assert "CASE-1 is already Closed." in refusal(answer)
    assert (await case_row(w)).resolution_reason == "False Positive"
    # The edit form of a case closed meanwhile: its other changes apply, and it never reopens the case.
    await slack.click(people.alice, "case_reopen", channel=w.security, message_ts=card.ts)
    await slack.wait_for(lambda: "(Triage)" in slack.channels[w.security].find(card.ts).text)
    edit = await new_view(slack, people.alice, lambda: slack.click(people.alice, "case_edit", channel=w.security,
                                                                   message_ts=card.ts))
    second = await new_view(slack, people.bob, click(people.bob))
    await slack.submit_view(people.bob, second.id, {"reason": "Benign", "resolution": "Scanner"})
    await slack.wait_for(lambda: "(Closed)" in slack.channels[w.security].find(card.ts).text)
    await slack.submit_view(people.alice, edit.id, {"title": "Renamed"})
    await slack.wait_for(lambda: "Renamed" in slack.channels[w.security].find(card.ts).text)
    row = await case_row(w)
    assert (row.status, row.title, row.resolution) == ("Closed", "Renamed", "Scanner")


async def test_an_escalation_submitted_after_another_one_is_refused(world):
    w, slack, people = world, world.slack, world.people
    card = await open_case(w)
    click = lambda user: lambda: slack.click(user, "case_escalate", channel=w.security, message_ts=card.ts)  # noqa: E731
    first, late = await new_view(slack, people.alice, click(people.alice)), await new_view(slack, people.bob,
                                                                                         click(people.bob))
    await slack.submit_view(people.alice, first.id, {"incident_priority": "High"})

    async def ready():
        async with w.warroom.deps.sessions() as session:
            incident = (await session.execute(select(Incident))).scalar_one_or_none()
        return incident if incident and incident.setup_state == "ready" else None

    await slack.wait_for(ready, timeout=15)
    answer = await slack.submit_view(people.bob, late.id, {"incident_priority": "Low"})
    assert "CASE-1 is already escalated to INC-1." in refusal(answer)
    async with w.warroom.deps.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Incident))).scalar_one() == 1


async def test_a_snooze_of_a_case_that_no_longer_exists_keeps_the_form_open(slack, people, db_url):
    secops = slack.add_channel("secops", members=[people.alice, people.bob])
    reliability = slack.add_channel("reliability", members=[people.alice])
    async with running_warroom(slack, db_url, config_for(secops, reliability)) as warroom:
        case = await travel_case(warroom)
        view = await open_snooze(slack, people.alice, case)
        await delete_case(db_url, case.id)
        answer = await slack.submit_view(people.alice, view.id, {"name": "Bob travels", "reason": "Conference"})
        assert refusal(answer) == "That case no longer exists."
        async with warroom.deps.sessions() as session:
            assert (await session.execute(select(SignalFilter))).scalars().all() == []
            assert await session.get(Case, case.id) is None
