"""`tags:`: tag types and tags, their rules (reported with path and line) and how they reach the database."""

from sqlalchemy import select

from domain.config.apply import apply_config
from domain.config.loader import check_config_text, parse_config
from storage.tag_models import Tag, TagType

TAGS = """\
signals:
  definitions:
    - name: disk-full
tags:
  types:
    - name: Component
      description: What is broken
      exclusive: true
      required: true
      tags:
        - name: payments
          incident_types: [Reliability]
        - name: search
          signal_definitions: [disk-full]
    - name: Region
      tags: [{name: eu}, {name: us}]
"""


def test_tag_types_parse_with_their_rules():
    config = parse_config(TAGS)
    component, region = config.tags.types
    assert (component.exclusive, component.required, component.project) == (True, True, None)
    assert [t.name for t in component.tags] == ["payments", "search"]
    assert component.tags[0].incident_types == ["Reliability"]
    assert (region.exclusive, region.required) == (False, False)
    assert parse_config("").tags.types == []


def test_dangling_and_duplicate_names_are_reported_with_path_and_line():
    text = """\
tags:
  types:
    - name: Component
      project: nowhere
      tags: [{name: a}]
    - name: Region
      exclusive: true
      tags:
        - name: eu
          incident_types: [Reliability, Nope]
          signal_definitions: [missing]
        - name: EU
        - name: us
          incident_types: [Reliability]
    - name: region
      tags: []
"""
    config, errors = check_config_text(text)
    assert config is None
    found = {(e.path, e.line): e.message for e in errors}
    assert "'nowhere' is not a configured project" in found[("tags.types[0].project", 4)]
    assert "'Nope' is not an incident type of project 'default'" in found[("tags.types[1].tags[0].incident_types", 10)]
    assert "'missing' is not one of signals.definitions" in found[("tags.types[1].tags[0].signal_definitions", 11)]
    assert "duplicate tag 'EU'" in found[("tags.types[1].tags[1].name", 12)]
    assert "'Region' is exclusive but 'eu' is also added to 'Reliability' incidents" in found[
        ("tags.types[1].tags[2].incident_types", 14)]
    assert "duplicate tag type 'region'" in found[("tags.types[2].name", 15)]


def test_unknown_keys_are_errors():
    _, errors = check_config_text("tags:\n  types:\n    - name: A\n      exclusiv: true\n")
    assert [(e.path, e.line) for e in errors] == [("tags.types[0].exclusiv", 4)]


async def test_apply_upserts_by_name_and_disables_removed_ones(session_factory):
    async with session_factory() as session:
        report = await apply_config(session, parse_config(TAGS))
        await session.commit()
    assert "created tag_type default/Component" in report.changes
    assert "created tag default/Region/eu" in report.changes

    async with session_factory() as session:
        again = await apply_config(session, parse_config(TAGS))
        await session.commit()
    assert not again.changed

    smaller = TAGS.replace("      tags: [{name: eu}, {name: us}]\n", "      tags: [{name: eu}]\n").replace(
        "      required: true\n", "")
    async with session_factory() as session:
        report = await apply_config(session, parse_config(smaller))
        await session.commit()
    assert report.changes == ["updated tag_type default/Component", "disabled tag default/Region/us"]

    async with session_factory() as session:
        report = await apply_config(session, parse_config(""))
        await session.commit()
        types = list((await session.execute(select(TagType).order_by(TagType.id))).scalars())
        tags = list((await session.execute(select(Tag).order_by(Tag.id))).scalars())
    assert [(t.name, t.enabled) for t in types] == [("Component", False), ("Region", False)]
    assert len(tags) == 4 and not any(t.enabled for t in tags)  # disabled, never deleted
    assert report.disabled == 2 + 3

    async with session_factory() as session:
        report = await apply_config(session, parse_config(TAGS))
        await session.commit()
    assert report.created == 0 and report.disabled == 0 and report.updated == 2 + 4
