"""Incident set-up survives a crash: the channel name being created, the reporter confirmation.

Revision ID: 0011_setup_crash_safety
Revises: 0010_signal_signatures
Create Date: 2026-11-29 16:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = "0011_setup_crash_safety"
down_revision: Union[str, Sequence[str], None] = "0010_signal_signatures"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup_channel_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("reporter_confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("reporter_confirmed_at")
        batch_op.drop_column("setup_channel_name")
