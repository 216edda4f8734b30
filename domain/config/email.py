"""Stakeholder email: the `email:` section. Absent means no email is sent (the SMTP server is in the environment)."""

from __future__ import annotations

from pydantic import Field

from domain.config.base import StrictModel


class EmailConfig(StrictModel):
    """Executive reports and status changes (Stable, Closed, reopened) emailed to the notifications group's
    addresses and to email-only contacts of the engagement rules that match the incident."""

    from_address: str = Field(min_length=3, description="From: of every email, e.g. warroom@example.com")
    subject_prefix: str = Field("[warroom]", description="put before every subject")
    reports: bool = Field(True, description="email executive reports")
    status_changes: bool = Field(True, description="email Stable, Closed and reopened")
    engagement_contacts: bool = Field(True, description="also email the email-only contacts (individuals, teams) "
                                      "of the engagement rules that match the incident")
    timeout: float = Field(15.0, gt=0, le=120, description="seconds one SMTP delivery may take")
