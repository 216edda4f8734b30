"""Jira tickets, continued: assigned to the commander (found by email, or named in config), and shown in
the App Home of everyone in the incident."""

from __future__ import annotations

from bot.harness import running_warroom
from domain.config.tickets import TicketsConfig
from tests.e2e.incident_helpers import report
from tests.e2e.test_home import home
from tests.e2e.test_roles_and_members import open_assign
from tests.e2e.test_tickets import TOKEN_ENV, jira, linked, tickets_config, warroom  # noqa: F401  (fixtures)


async def test_the_ticket_follows_the_commander_in_jira(slack, people, jira, warroom):  # noqa: F811
    alice = jira.add_user("alice@example.com", "Alice Ops")
    bob = jira.add_user("bob@example.com", "Bob Sec", email_visible=False)  # found by email all the same
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id)
    issue = jira.issues[row.key]
    assert issue.assignee == alice
    assert any(path.endswith("/user/search") for _, path in jira.calls)

    view = await open_assign(slack, people.alice, incident.channel_id)
    await slack.submit_view(people.alice, view.id, {"person": people.bob, "role": "commander"})
    await slack.wait_for(lambda: issue.assignee == bob, timeout=10)
    searches = sum(1 for _, path in jira.calls if path.endswith("/user/search"))

    # Someone with no Jira account takes over: the ticket keeps its assignee, the description names them.
    carol = slack.add_user("carol", real_name="Carol Oncall", email="carol@example.com")
    await slack.join(carol, incident.channel_id)
    view = await open_assign(slack, people.bob, incident.channel_id)
    await slack.submit_view(people.bob, view.id, {"person": carol, "role": "commander"})
    await slack.wait_for(lambda: "Commander: Carol Oncall (carol@example.com)" in issue.fields["description"], timeout=10)
    assert issue.assignee == bob
    # Accounts found are remembered: bob's was not looked up again.
    assert sum(1 for _, path in jira.calls if path.endswith("/user/search")) == searches + 1  # carol's miss


async def test_config_names_the_account_or_turns_assignment_off(slack, people, db_url, jira, monkeypatch):  # noqa: F811
    monkeypatch.setenv(TOKEN_ENV, jira.token)
    account = jira.add_user("alice.ops@corp.example", "Alice in Jira")  # another email than Slack's
    config = tickets_config(jira)
    assert config.tickets is not None
    named = config.model_copy(update={"tickets": config.tickets.model_copy(update={"users": {people.alice: account}})})
    async with running_warroom(slack, db_url, named) as runtime:
        incident = await report(slack, runtime, people.alice, people.general)
        row = await linked(slack, runtime, incident.id)
        assert jira.issues[row.key].assignee == account
        assert not any(path.endswith("/user/search") for _, path in jira.calls)

    jira.add_user("alice@example.com", "Alice Ops")
    off = config.model_copy(update={"tickets": config.tickets.model_copy(update={"assignee": "none"})})
    async with running_warroom(slack, db_url, off) as runtime:
        incident = await report(slack, runtime, people.alice, people.general, title="Second one")
        row = await linked(slack, runtime, incident.id)
        assert jira.issues[row.key].assignee is None


async def test_app_home_shows_each_incident_ticket(slack, people, jira, warroom):  # noqa: F811
    incident = await report(slack, warroom, people.alice, people.general)
    row = await linked(slack, warroom, incident.id)
    await slack.open_home(people.alice)
    view = await slack.wait_for(lambda: home(slack, people.alice))
    text = str(view.view["blocks"])
    assert f"ticket <{row.url}|{row.key}>" in text and incident.name in text


def test_tickets_users_and_assignee_are_validated():
    from domain.config.loader import check_config_text

    base = "tickets: {server: 'https://x.atlassian.net', user_email: b@x.com, project_key: INC"
    assert check_config_text(base + ", assignee: commander, users: {U012AB3CD: abc}}")[1] == []
    errors = check_config_text(base + ", assignee: reporter}")[1]
    assert [e.path for e in errors] == ["tickets.assignee"]
    assert TicketsConfig(server="https://x", user_email="b@x.com", project_key="INC").assignee == "commander"
