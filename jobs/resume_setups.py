"""Finish incident channel set-ups that a crash or a Slack outage left unfinished."""

from __future__ import annotations

from domain.announcements.service import retry_unposted_announcements
from domain.cases.tickets import resume_case_tickets
from domain.core.deps import Deps
from domain.documents import resume_report_appends
from domain.response.documents import resume_resources
from domain.response.intake import replay_reports
from domain.response.paging import resume_pages
from domain.response.setup import resume_pending_setups
from domain.response.stakeholders import resume_emails
from domain.response.tickets import resume_tickets


async def run(deps: Deps) -> int:
    """Create the incidents of stored reports left unprocessed, retry every unfinished set-up whose lease has
    expired, then ticket work (incidents', then cases': signal cases get their ticket here, so the signal worker
    never waits on Jira), Google resources, executive reports for the incident document, pages, emails and
    announcements that are due."""
    return (await replay_reports(deps) + await resume_pending_setups(deps) + await resume_tickets(deps)
            + await resume_case_tickets(deps) + await resume_resources(deps) + await resume_report_appends(deps)
            + await resume_pages(deps) + await resume_emails(deps)
            + await retry_unposted_announcements(deps.sessions, deps.ports.conversation, deps.config))
