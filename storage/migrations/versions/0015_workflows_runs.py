"""Workflow runs (workflow_instance), follow-up reminders of Stable incidents (incident_follow_up), and the
messages each participant posted (participant.message_count: observers who talk become participants)

Revision ID: 0015_workflows_runs
Revises: 0014_tags
Create Date: 2026-11-29 18:05:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString


# revision identifiers, used by Alembic.
revision: str = '0015_workflows_runs'
down_revision: Union[str, Sequence[str], None] = '0014_tags'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('workflow_instance',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('workflow', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('creator', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('weblink', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('artifacts', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('thread_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('shown_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_workflow_instance_case_id_case')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_workflow_instance_incident_id_incident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_instance')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_workflow_instance_idempotency_key'))
    )
    with op.batch_alter_table('workflow_instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_instance_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_instance_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_instance_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_instance_status'), ['status'], unique=False)

    op.create_table('incident_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_follow_up_incident_id_incident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_follow_up')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_incident_follow_up_incident_id'))
    )
    with op.batch_alter_table('incident_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_follow_up_next_at'), ['next_at'], unique=False)

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_count', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('message_count')
    with op.batch_alter_table('incident_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_follow_up_next_at'))
    op.drop_table('incident_follow_up')
    with op.batch_alter_table('workflow_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_instance_status'))
        batch_op.drop_index(batch_op.f('ix_workflow_instance_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_workflow_instance_incident_id'))
        batch_op.drop_index(batch_op.f('ix_workflow_instance_case_id'))
    op.drop_table('workflow_instance')
