"""Incident reports and report reminders.

Revision ID: 0006_reports
Revises: 0005_job_runs
Create Date: 2026-11-25 08:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = "0006_reports"
down_revision: Union[str, Sequence[str], None] = "0005_job_runs"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "incident_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["individual_contact.id"],
                                name=op.f("fk_incident_report_author_id_individual_contact")),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], name=op.f("fk_incident_report_incident_id_incident")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_report")),
    )
    op.create_index(op.f("ix_incident_report_incident_id"), "incident_report", ["incident_id"], unique=False)
    op.create_table(
        "report_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reminded_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], name=op.f("fk_report_reminder_incident_id_incident")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_reminder")),
        sa.UniqueConstraint("incident_id", "kind", name=op.f("uq_report_reminder_incident_id_kind")),
    )


def downgrade() -> None:
    op.drop_table("report_reminder")
    op.drop_index(op.f("ix_incident_report_incident_id"), table_name="incident_report")
    op.drop_table("incident_report")
