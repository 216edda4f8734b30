"""Participants' team and department come from custom fields of their Slack profile (`profile_fields`)."""

from __future__ import annotations

from bot.harness import running_warroom
from domain.config.loader import check_config_text
from domain.config.schema import WarroomConfig
from tests.e2e.incident_helpers import ephemerals_for, participant, report

TEAM, DEPARTMENT = "Xf01TEAM01", "Xf02DEPT02"


async def list_view(slack, user, channel):
    before = set(slack.views)
    await slack.slash_command(user, "/dispatch-list-participants", channel=channel)
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


async def test_team_and_department_from_the_profile_shown_in_list_participants(slack, people, db_url):
    config = WarroomConfig.model_validate({"profile_fields": {"team": TEAM, "department": DEPARTMENT}})
    slack.users[people.alice].fields.update({TEAM: "Payments SRE", DEPARTMENT: "Engineering"})
    carol = slack.add_user("carol", fields={TEAM: "AppSec"})  # no department in her profile
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        # Joining reads the profile: bob has no custom fields at all.
        await slack.join(people.bob, incident.channel_id)
        await slack.wait_for(lambda: ephemerals_for(slack, people.bob, incident.channel_id))
        await slack.join(carol, people.general)
        await slack.join(carol, incident.channel_id)

        async def carol_stored():
            p = await participant(warroom, incident.id, carol)
            return p if p is not None and p.team == "AppSec" else None

        stored = await slack.wait_for(carol_stored)
        assert stored.department is None

        # The commander was added before anyone asked: the list looks her up, and keeps it.
        view = await list_view(slack, people.bob, incident.channel_id)
        text = str(view.view["blocks"])
        assert "Team: Payments SRE" in text and "Department: Engineering" in text and "Team: AppSec" in text
        alice = await participant(warroom, incident.id, people.alice)
        assert (alice.team, alice.department) == ("Payments SRE", "Engineering")
        assert (await participant(warroom, incident.id, people.bob)).team is None
        calls = len(slack.calls_to("users.profile.get"))
        await list_view(slack, people.bob, incident.channel_id)
        assert len(slack.calls_to("users.profile.get")) == calls + 1, "only bob, still unknown, is asked again"


async def test_without_profile_fields_the_profile_is_not_asked(slack, people, warroom):
    incident = await report(slack, warroom, people.alice, people.general)
    view = await list_view(slack, people.alice, incident.channel_id)
    assert "Team:" not in str(view.view["blocks"])
    assert slack.calls_to("users.profile.get") == []


def test_profile_field_ids_are_checked():
    errors = check_config_text("profile_fields:\n  team: engineering\n")[1]
    assert errors and errors[0].path.startswith("profile_fields.team") and "Xf01ABCDEF" in errors[0].message
