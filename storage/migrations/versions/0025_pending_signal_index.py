"""Pending signal instances indexed in arrival order, so claiming a batch never sorts the whole queue

Revision ID: 0025_pending_signal_index
Revises: 0024_report_document
Create Date: 2026-11-30 05:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0025_pending_signal_index"
down_revision: Union[str, Sequence[str], None] = "0024_report_document"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index("ix_signal_instance_pending_received_at", "signal_instance", ["received_at"], unique=False,
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_signal_instance_pending_received_at", table_name="signal_instance")
