"""Incident tasks and their cards.

Revision ID: 0007_tasks
Revises: 0006_reports
Create Date: 2026-11-25 08:25:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = "0007_tasks"
down_revision: Union[str, Sequence[str], None] = "0006_reports"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "incident_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("creator_user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("assignees", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resource_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], name=op.f("fk_incident_task_incident_id_incident")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_task")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_incident_task_resource_id")),
    )
    op.create_index(op.f("ix_incident_task_incident_id"), "incident_task", ["incident_id"], unique=False)
    op.create_table(
        "task_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["incident_task.id"], name=op.f("fk_task_card_task_id_incident_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_card")),
    )
    op.create_index(op.f("ix_task_card_task_id"), "task_card", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_card_task_id"), table_name="task_card")
    op.drop_table("task_card")
    op.drop_index(op.f("ix_incident_task_incident_id"), table_name="incident_task")
    op.drop_table("incident_task")
