"""The Jira emulator's users: found by email (hidden or not) through the real client, assigned by accountId,
an unknown accountId refused as Jira Cloud refuses it."""

from __future__ import annotations

import asyncio

import pytest
from jira import JIRAError

from tests.emulator.test_jiraemu import client, jira_emu  # noqa: F401  (fixture)


async def test_user_search_and_assignee(jira_emu):  # noqa: F811
    alice = jira_emu.add_user("alice@example.com", "Alice Ops")
    hidden = jira_emu.add_user("bob@example.com", "Bob Sec", email_visible=False)

    def work():
        jira = client(jira_emu)
        found = jira.search_users(query="alice@example.com", maxResults=2)
        assert [(u.accountId, u.emailAddress, u.displayName) for u in found] == [(alice, "alice@example.com", "Alice Ops")]
        (bob,) = jira.search_users(query="bob@example.com", maxResults=2)
        assert bob.accountId == hidden and not hasattr(bob, "emailAddress")
        assert jira.search_users(query="nobody@example.com") == []
        issue = jira.create_issue(fields={"project": {"key": "INC"}, "issuetype": {"name": "Task"}, "summary": "x",
                                          "assignee": {"accountId": alice}})
        issue.update(fields={"assignee": {"accountId": hidden}}, notify=False)
        with pytest.raises(JIRAError) as refused:
            issue.update(fields={"assignee": {"accountId": "no-such-account"}}, notify=False)
        return issue.key, refused.value.status_code, refused.value.text

    key, status, text = await asyncio.to_thread(work)
    assert jira_emu.issues[key].assignee == hidden
    assert status == 400 and "does not exist" in text


async def test_user_search_is_authenticated_and_takes_faults(jira_emu):  # noqa: F811
    jira_emu.add_user("alice@example.com")
    jira_emu.fail("user", 429, retry_after=7)

    def work():
        jira = client(jira_emu)
        with pytest.raises(JIRAError) as limited:
            jira.search_users(query="alice@example.com")
        return limited.value.status_code, limited.value.response.headers.get("Retry-After")

    assert await asyncio.to_thread(work) == (429, "7")
