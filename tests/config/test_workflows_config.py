"""`workflows:`, `follow_up:` and entity tags: parsed, and every rule reported by `config validate` with path and line."""

from sqlalchemy import select

from bot.cli import main
from domain.config.apply import apply_config
from domain.config.loader import check_config_text, parse_config
from storage.tag_models import Tag, TagType

WORKFLOWS = """\
signals:
  entity_types:
    - {name: host, jsonpath: "$.host"}
  definitions:
    - {name: Malware, external_id: edr-1, workflow: Isolate host, entity_types: [host]}
tags:
  types:
    - {name: Host, entity_types: [host]}
workflows:
  definitions:
    - name: Isolate host
      url_env: ISOLATE_URL
      secret_env: ISOLATE_SECRET
      parameters:
        - {name: host, required: true}
        - {name: mode, default: full}
follow_up:
  stable_days: 14
"""


def test_workflows_follow_up_and_entity_tags_parse():
    config = parse_config(WORKFLOWS)
    workflow = config.workflows.definition("Isolate host")
    assert workflow is not None and [p.name for p in workflow.parameters] == ["host", "mode"]
    assert workflow.parameter("mode").default == "full" and workflow.timeout_seconds == 10
    assert config.signals.definitions[0].workflow == "Isolate host"
    assert config.tags.types[0].entity_types == ["host"]
    assert (config.follow_up.stable_days, config.follow_up.remind_every_days) == (14, 7)
    assert parse_config("").workflows.definitions == [] and parse_config("").follow_up.enabled


def test_broken_workflows_are_reported_with_path_and_line():
    text = """\
signals:
  definitions:
    - {name: Malware, external_id: edr-1, workflow: Nope}
tags:
  types:
    - {name: Host, exclusive: true, entity_types: [hostname]}
workflows:
  definitions:
    - name: A
      url: ftp://x
      secret: s
    - name: B
      secret: s
    - name: C
      url: https://x
    - name: a
      url: https://x
      secret: s
      parameters: [{name: p}, {name: p}, {name: "bad name"}]
follow_up:
  stable_days: 0
"""
    config, errors = check_config_text(text)
    assert config is None
    found = {(e.path, e.line): e.message for e in errors}
    assert "url must start with http:// or https://" in found[("workflows.definitions[0]", 9)]
    assert "needs url_env (or url)" in found[("workflows.definitions[1]", 12)]
    assert "needs secret_env (or secret)" in found[("workflows.definitions[2]", 14)]
    assert "name must be letters" in found[("workflows.definitions[3].parameters[2]", 19)]
    assert ("follow_up.stable_days", 21) in found
    # Reference rules run once the shapes are right.
    _, errors = check_config_text("""\
signals:
  definitions:
    - {name: Malware, external_id: edr-1, workflow: Nope}
tags:
  types:
    - {name: Host, exclusive: true, entity_types: [hostname]}
workflows:
  definitions:
    - {name: A, url: "https://x", secret: s}
    - {name: a, url: "https://x", secret: s, parameters: [{name: p}, {name: p}]}
""")
    found = {e.path: e.message for e in errors}
    assert "'Nope' is not one of workflows.definitions" in found["signals.definitions[0].workflow"]
    assert "duplicate workflow 'a'" in found["workflows.definitions[1].name"]
    assert "duplicate parameter 'p'" in found["workflows.definitions[1].parameters[1].name"]
    assert "'hostname' is not one of signals.entity_types" in found["tags.types[0].entity_types"]
    assert "cannot be exclusive" in found["tags.types[0].exclusive"]


def test_config_validate_command_covers_the_new_sections(tmp_path, capsys):
    path = tmp_path / "w.yaml"
    path.write_text(WORKFLOWS)
    assert main(["config", "validate", str(path)]) == 0
    path.write_text(WORKFLOWS.replace("workflow: Isolate host", "workflow: Isolate hosts"))
    assert main(["config", "validate", str(path)]) == 1
    out = capsys.readouterr()
    assert "signals.definitions[0].workflow" in out.out + out.err and "Isolate hosts" in out.out + out.err


async def test_tags_made_from_entities_survive_applying_the_config_again(session_factory):
    config = parse_config(WORKFLOWS)
    async with session_factory() as session:
        await apply_config(session, config)
        type_id = (await session.execute(select(Tag.tag_type_id))).scalar()
        assert type_id is None  # no configured tags yet
        await session.commit()
    async with session_factory() as session:
        host = (await session.execute(select(TagType).where(TagType.name == "Host"))).scalar_one()
        session.add(Tag(project_id=host.project_id, tag_type_id=host.id, name="laptop-42"))
        await session.commit()
    async with session_factory() as session:
        report = await apply_config(session, config)
        await session.commit()
        tag = (await session.execute(select(Tag).where(Tag.name == "laptop-42"))).scalar_one()
    assert tag.enabled and not report.disabled


def test_github_workflows_need_a_repository_a_workflow_and_a_token():
    _, errors = check_config_text("""\
workflows:
  definitions:
    - {name: A, kind: github, workflow: a.yml, token_env: T}
    - {name: B, kind: github, repository: acme/x, token_env: T}
    - {name: C, kind: github, repository: acme/x, workflow: c.yml}
    - {name: D, kind: github, repository: acme/x, workflow: d.yml, token_env: T}
""")
    found = {e.path: e.message for e in errors}
    assert "needs repository: owner/name" in found["workflows.definitions[0]"]
    assert "needs workflow" in found["workflows.definitions[1]"]
    assert "needs token_env (or token)" in found["workflows.definitions[2]"]
    assert "workflows.definitions[3]" not in found
