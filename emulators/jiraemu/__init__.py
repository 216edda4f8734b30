"""A local Jira Cloud emulator speaking the REST v2/v3 wire formats the `jira` library uses."""

from emulators.jiraemu.emulator import Fault, JiraEmulator, JiraIssue

__all__ = ["Fault", "JiraEmulator", "JiraIssue"]
