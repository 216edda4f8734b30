"""Tags and tag types through Slack: the report and update forms, type-ahead, closing rules, the summary,
the list filter, engagement on tags."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.harness import running_warroom
from domain.config.schema import WarroomConfig
from storage.models import Incident
from storage.tag_models import IncidentTag, Tag, TagType
from tests.e2e.incident_helpers import GOOD, REPORT, ephemerals_for, events, participant, reload, report
from tests.e2e.signal_helpers import alert, card_of, cases, signal_config, store

UPDATE = "/dispatch-update-incident"


def tag_config(**extra) -> WarroomConfig:
    return WarroomConfig.model_validate({"tags": {"types": [
        {"name": "Component", "exclusive": True, "required": True,
         "tags": [{"name": "payments", "incident_types": ["Reliability"]}, {"name": "search"}]},
        {"name": "Region", "tags": [{"name": "eu"}, {"name": "us"}]},
        {"name": "Customer", "tags": [{"name": f"customer-{i:03}"} for i in range(150)]},
    ]}, **extra})


async def type_ids(warroom) -> dict[str, int]:
    async with warroom.deps.sessions() as session:
        return {t.name: t.id for t in (await session.execute(select(TagType))).scalars()}


async def tag_ids(warroom) -> dict[str, int]:
    async with warroom.deps.sessions() as session:
        return {t.name: t.id for t in (await session.execute(select(Tag))).scalars()}


async def tags_of(warroom, incident_id) -> list[str]:
    async with warroom.deps.sessions() as session:
        return sorted((await session.execute(select(Tag.name).join(IncidentTag, IncidentTag.tag_id == Tag.id)
                                              .where(IncidentTag.incident_id == incident_id))).scalars())


def block(view, block_id):
    return next(b for b in view.view["blocks"] if b.get("block_id") == block_id)


async def new_view(slack, user, act):
    before = set(slack.views)
    await act()
    return (await slack.wait_for(lambda: [v for v in slack.open_views(user) if v.id not in before]))[-1]


async def test_report_form_has_one_select_per_type_with_type_ahead_and_the_summary_shows_tags(slack, people, db_url):
    async with running_warroom(slack, db_url, tag_config()) as warroom:
        types, tags = await type_ids(warroom), await tag_ids(warroom)
        view = await new_view(slack, people.alice, lambda: slack.slash_command(people.alice, REPORT, channel=people.general))
        component, region, customer = (block(view, f"tag_type_{types[n]}") for n in ("Component", "Region", "Customer"))
        assert component["element"]["type"] == "static_select" and component["optional"]
        assert "required to close" in component["label"]["text"]
        assert region["element"]["type"] == "multi_static_select"
        assert [o["text"]["text"] for o in region["element"]["options"]] == ["eu", "us"]
        assert customer["element"]["type"] == "multi_external_select"  # 150 tags: more than a static select holds

        found = await slack.type_ahead(people.alice, view.id, f"tag_type_{types['Customer']}", "04")
        assert [o["text"]["text"] for o in found][:2] == ["customer-004", "customer-040"]
        assert all("04" in o["text"]["text"] for o in found)
        assert await slack.type_ahead(people.alice, view.id, f"tag_type_{types['Customer']}", "zzz") == []

        await slack.submit_view(people.alice, view.id, {
            **GOOD, f"tag_type_{types['Region']}": [str(tags["eu"]), str(tags["us"])],
            f"tag_type_{types['Customer']}": [found[0]]})

        async def ready():
            async with warroom.deps.sessions() as session:
                row = (await session.execute(select(Incident))).scalars().first()
            return row if row is not None and row.setup_state == "ready" else None

        incident = await slack.wait_for(ready)
        # payments is added to Reliability incidents by the config (discoverability).
        assert await tags_of(warroom, incident.id) == ["customer-004", "eu", "payments", "us"]
        summary = slack.channels[incident.channel_id].messages[0]
        assert "Tags:* Component: payments, Customer: customer-004, Region: eu, Region: us" in str(summary.blocks)


async def test_closing_without_a_required_tag_is_refused_naming_it(slack, people, db_url):
    async with running_warroom(slack, db_url, tag_config()) as warroom:
        types, tags = await type_ids(warroom), await tag_ids(warroom)
        incident = await report(slack, warroom, people.alice, people.general)
        component = f"tag_type_{types['Component']}"
        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, UPDATE, channel=incident.channel_id))
        assert block(view, component)["element"]["initial_option"]["value"] == str(tags["payments"])

        result = await slack.submit_view(people.alice, view.id, {
            "status": "Closed", "incident_severity": "Minor", component: None})
        assert result.ack_payload["errors"] == {component: "Closing needs a Component tag."}
        assert slack.views[view.id].state == "open"
        assert (await reload(warroom, incident.id)).status == "Active"

        result = await slack.submit_view(people.alice, view.id, {
            "status": "Closed", "incident_severity": "Minor", component: str(tags["search"]),
            f"tag_type_{types['Region']}": [str(tags["eu"])]})
        assert not (result.ack_payload or {}).get("errors")
        await slack.wait_for(lambda: slack.channels[incident.channel_id].is_archived)
        assert await tags_of(warroom, incident.id) == ["eu", "search"]
        assert any(e.startswith("Incident field updated: Tags changed from Component: payments to "
                                "Component: search, Region: eu") for e in await events(warroom, incident.id))


async def test_a_required_tag_type_added_to_the_config_is_checked_by_the_database(slack, people, db_url):
    """The form was opened before Component became required: the parser cannot know, the database check does."""
    async with running_warroom(slack, db_url, tag_config()) as warroom:
        types = await type_ids(warroom)
        incident = await report(slack, warroom, people.alice, people.general)
        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, UPDATE, channel=incident.channel_id))
        component = f"tag_type_{types['Component']}"
        async with warroom.deps.sessions() as session:
            region = await session.get(TagType, types["Region"])
            region.required = True
            await session.commit()
        result = await slack.submit_view(people.alice, view.id, {"status": "Closed", "incident_severity": "Minor"})
        assert result.ack_payload["errors"] == {f"tag_type_{types['Region']}": "Closing needs a Region tag."}
        assert component not in result.ack_payload["errors"]


async def test_list_incidents_filters_by_tag(slack, people, db_url):
    async with running_warroom(slack, db_url, tag_config()) as warroom:
        tagged = await report(slack, warroom, people.alice, people.general)  # Reliability: payments
        other = await report(slack, warroom, people.alice, people.general, title="Search is slow",
                             incident_type="Security")
        assert await tags_of(warroom, other.id) == []

        await slack.slash_command(people.alice, "/dispatch-list-incidents", channel=people.general, text="tag:Payments")
        listing = (await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                                 if "tagged Payments" in e["text"]]))[-1]["text"]
        assert tagged.name in listing and other.name not in listing and "tags: payments" in listing

        await slack.slash_command(people.alice, "/dispatch-list-incidents", channel=people.general,
                                  text="default tag:nothing")
        await slack.wait_for(lambda: [e for e in ephemerals_for(slack, people.alice, people.general)
                                      if "No active, stable or recently closed incidents in default tagged nothing"
                                      in e["text"]])


async def test_engagement_rules_still_match_on_tags(slack, people, db_url):
    config = tag_config(engagement={"individuals": [{"name": "Bob", "user": people.bob, "terms": ["payments"]}]})
    async with running_warroom(slack, db_url, config) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)  # title says nothing of payments
        await slack.wait_for(lambda: people.bob in slack.channels[incident.channel_id].members)
        assert (await participant(warroom, incident.id, people.bob)).added_reason == "Engagement rule: Bob"


async def test_legacy_tags_are_shown_kept_and_can_be_removed(slack, people, db_url):
    async with running_warroom(slack, db_url, tag_config()) as warroom:
        incident = await report(slack, warroom, people.alice, people.general)
        async with warroom.deps.sessions() as session:  # as migration 0023 leaves a free-text tag
            legacy = Tag(project_id=incident.project_id, name="old-free-text", legacy=True)
            session.add(legacy)
            await session.flush()
            session.add(IncidentTag(incident_id=incident.id, tag_id=legacy.id))
            await session.commit()
        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, UPDATE, channel=incident.channel_id))
        kept = block(view, "legacy_tags")["element"]
        assert [o["text"]["text"] for o in kept["initial_options"]] == ["old-free-text"]
        await slack.submit_view(people.alice, view.id, {"title": "Renamed"})
        await slack.wait_for(lambda: _renamed(warroom, incident.id))
        assert await tags_of(warroom, incident.id) == ["old-free-text", "payments"]

        view = await new_view(slack, people.alice,
                              lambda: slack.slash_command(people.alice, UPDATE, channel=incident.channel_id))
        await slack.submit_view(people.alice, view.id, {"legacy_tags": []})

        async def removed():
            return await tags_of(warroom, incident.id) == ["payments"]

        await slack.wait_for(removed)


async def _renamed(warroom, incident_id):
    return (await reload(warroom, incident_id)).title == "Renamed"


async def test_signal_definitions_tag_their_cases_and_the_card_shows_them(slack, people, db_url):
    triage = slack.add_channel("sec-triage", members=[people.alice, people.bob])
    config = signal_config(triage)
    data = config.model_dump()
    data["tags"] = {"types": [{"name": "Detection", "tags": [
        {"name": "identity", "signal_definitions": ["Unusual login"]}, {"name": "network"}]}]}
    async with running_warroom(slack, db_url, WarroomConfig.model_validate(data)) as warroom:
        sessions = warroom.deps.sessions
        await store(sessions, alert(), "Unusual login")
        warroom.wake_signals()

        async def carded():
            found = [c for c in await cases(sessions) if c.card_ts]
            return found[0] if found else None

        case = await slack.wait_for(carded)
        assert "*Tags:* Detection: identity" in json.dumps(card_of(slack, triage, case).blocks)
