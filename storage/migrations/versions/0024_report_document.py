"""Executive report appended to the incident document as a recorded, retried step

Revision ID: 0024_report_document
Revises: 0023_submission_inbox
Create Date: 2026-11-29 21:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = "0024_report_document"
down_revision: Union[str, Sequence[str], None] = "0023_submission_inbox"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("incident_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_state", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("document_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("document_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("document_next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("document_claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_incident_report_document_state"), ["document_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_report_document_state"))
        batch_op.drop_column("document_claimed_until")
        batch_op.drop_column("document_next_attempt_at")
        batch_op.drop_column("document_error")
        batch_op.drop_column("document_attempts")
        batch_op.drop_column("document_state")
