"""Response costs: cost rows per subject and model, per participant, model assignments, read cursors

Revision ID: 0012_response_costs
Revises: 0011_setup_crash_safety
Create Date: 2026-11-29 16:09:00.884408

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString


# revision identifiers, used by Alembic.
revision: str = '0012_response_costs'
down_revision: Union[str, Sequence[str], None] = '0011_setup_crash_safety'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('cost_cursor',
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('thread_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('last_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('latest_reply', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('channel_id', 'thread_ts', name=op.f('pk_cost_cursor'))
    )
    with op.batch_alter_table('cost_cursor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_cursor_polled_at'), ['polled_at'], unique=False)

    op.create_table('cost_model_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_model_assignment'))
    )
    with op.batch_alter_table('cost_model_assignment', schema=None) as batch_op:
        batch_op.create_index('ix_cost_model_assignment_subject_subject_id', ['subject', 'subject_id'], unique=False)

    op.create_table('participant_cost',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('span_end', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_cost')),
    sa.UniqueConstraint('subject', 'subject_id', 'model', 'user_id', name=op.f('uq_participant_cost_subject_subject_id_model_user_id'))
    )
    op.create_table('response_cost',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('calculated_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_added', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_cost')),
    sa.UniqueConstraint('subject', 'subject_id', 'model', name=op.f('uq_response_cost_subject_subject_id_model'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('response_cost')
    op.drop_table('participant_cost')
    with op.batch_alter_table('cost_model_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_cost_model_assignment_subject_subject_id')

    op.drop_table('cost_model_assignment')
    with op.batch_alter_table('cost_cursor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_cursor_polled_at'))

    op.drop_table('cost_cursor')
