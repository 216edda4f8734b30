"""Crash and replica safety: job interval slots, set-up lease holder, announcement retries.

- job_run.last_slot: the interval slot a job last ran in (each slot runs once across processes);
- incident.setup_holder: the process ("instance#boot") running the set-up attempt, so a restarted
  process resumes its own set-ups at once;
- incident_announcement.attempts/claimed_at/error: a post that failed is claimed and retried until
  Slack has it.

Revision ID: 0020_reliab_crash_safety
Revises: 0019_paging_pages_emails
Create Date: 2026-11-29 18:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = "0020_reliab_crash_safety"
down_revision: Union[str, Sequence[str], None] = "0019_paging_pages_emails"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_slot", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup_holder", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("incident_announcement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident_announcement", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("attempts")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("setup_holder")
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_column("last_slot")
