"""The adapters on optional integration libraries, imported only when the config turns them on.

openai, google-api-python-client (with httplib2, pyparsing, cryptography), jira (with requests) and
aiosmtplib together take about a second to import and tens of MB to hold; most deployments use few
of them. The runtime builds them through these functions, so a library is imported on the first
use of its section of the config and never otherwise. The only module besides the CLI allowed
imports inside functions (tests/unit/test_import_rules.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.google_workspace import GoogleWorkspace
    from bot.jira_tickets import JiraTickets
    from bot.openai_ai import OpenAIChat
    from bot.smtp_email import SmtpEmail
    from domain.config.ai import AIConfig
    from domain.config.schema import WarroomConfig
    from domain.config.tickets import TicketsConfig


def jira_tickets(config: TicketsConfig, api_token: str) -> JiraTickets:
    """The tickets port on Jira (`tickets:`)."""
    from bot.jira_tickets import JiraTickets

    return JiraTickets(config, api_token)


def openai_chat(config: AIConfig, api_key: str) -> OpenAIChat:
    """The AI port on an OpenAI-compatible server (`ai:`)."""
    from bot.openai_ai import OpenAIChat

    return OpenAIChat(config, api_key)


def google_workspace(config: WarroomConfig) -> GoogleWorkspace:
    """The documents and conference ports on Google Workspace (`google:`); `StartupError` for a bad key file."""
    from bot.google_setup import google_workspace as build

    return build(config)


def smtp_email(*, host: str, port: int, tls: str, user: str | None, password: str | None, from_address: str,
               timeout: float) -> SmtpEmail:
    """The email port on an SMTP server (`email:`)."""
    from bot.smtp_email import SmtpEmail

    return SmtpEmail(host=host, port=port, tls=tls, user=user, password=password, from_address=from_address,
                     timeout=timeout)
