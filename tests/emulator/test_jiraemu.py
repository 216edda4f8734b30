"""The Jira emulator answers the real `jira` client as Jira Cloud does."""

from __future__ import annotations

import asyncio

import pytest
from jira import JIRA, JIRAError

from emulators.jiraemu import JiraEmulator


@pytest.fixture
async def jira_emu():
    emu = JiraEmulator()
    await emu.start()
    yield emu
    await emu.stop()


def client(emu: JiraEmulator, token: str | None = None) -> JIRA:
    return JIRA(emu.url, basic_auth=(emu.email, token or emu.token), get_server_info=True, max_retries=0, timeout=5)


async def test_issue_lifecycle_through_the_client(jira_emu):
    def work():
        jira = client(jira_emu)
        assert jira.deploymentType == "Cloud"
        issue = jira.create_issue(fields={"project": {"key": "INC"}, "issuetype": {"name": "Task"}, "summary": "Down",
                                          "description": "it is down", "priority": {"name": "High"},
                                          "labels": ["warroom", "warroom-inc-1"]})
        assert issue.key == "INC-1" and issue.fields.priority.name == "High" and issue.fields.status.name == "To Do"
        issue.update(fields={"summary": "Still down", "priority": {"name": "Highest"}}, notify=False)
        assert issue.fields.summary == "Still down"
        names = [t["name"] for t in jira.transitions(issue.key)]
        assert "Reopen" not in names and "Done" in names
        jira.transition_issue(issue.key, "Done")
        assert jira.issue(issue.key).fields.status.name == "Done"
        assert [t["name"] for t in jira.transitions(issue.key)] == ["Reopen"]
        found = jira.enhanced_search_issues('labels = "warroom-inc-1"', maxResults=2, fields="summary")
        return [i.key for i in found]

    assert await asyncio.to_thread(work) == ["INC-1"]
    assert jira_emu.issues["INC-1"].history == ["Done"]
    assert any(path.endswith("/search/jql") for _, path in jira_emu.calls)


async def test_retired_search_is_gone_and_bad_credentials_are_refused(jira_emu):
    def work():
        jira = client(jira_emu)
        with pytest.raises(JIRAError) as gone:
            jira._get_json("search", params={"jql": "project = INC"})
        with pytest.raises(JIRAError) as refused:
            client(jira_emu, token="wrong")
        with pytest.raises(JIRAError) as missing:
            jira.issue("INC-99")
        with pytest.raises(JIRAError) as invalid:
            jira.create_issue(fields={"project": {"key": "INC"}, "issuetype": {"name": "Task"}, "summary": "x",
                                      "priority": {"name": "P0"}})
        return gone.value, refused.value, missing.value, invalid.value

    gone, refused, missing, invalid = await asyncio.to_thread(work)
    assert gone.status_code == 410 and "search/jql" in gone.text
    assert refused.status_code == 401
    assert missing.status_code == 404
    assert invalid.status_code == 400 and "Priority" in invalid.text


async def test_faults_and_latency(jira_emu):
    jira_emu.fail("create", 429, retry_after=7)
    jira_emu.fail("create", 503)

    def work():
        jira = client(jira_emu)
        fields = {"project": {"key": "INC"}, "issuetype": {"name": "Task"}, "summary": "x"}
        codes = []
        for _ in range(3):
            try:
                jira.create_issue(fields=fields)
                codes.append(201)
            except JIRAError as exc:
                codes.append(exc.status_code)
                if exc.status_code == 429:
                    assert exc.response.headers["Retry-After"] == "7"
        return codes

    assert await asyncio.to_thread(work) == [429, 503, 201]
    jira_emu.latency = 0.2
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.to_thread(lambda: client(jira_emu).server_info())
    assert loop.time() - started >= 0.2
