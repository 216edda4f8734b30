"""Cases first-class in Slack: participants leaving a case channel, case feedback, participant department

Revision ID: 0016_cases_first_class
Revises: 0015_workflows_runs
Create Date: 2026-11-29 18:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString



# revision identifiers, used by Alembic.
revision: str = '0016_cases_first_class'
down_revision: Union[str, Sequence[str], None] = '0015_workflows_runs'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('case_participant') as batch:
        batch.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('participant') as batch:
        batch.add_column(sa.Column('department', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table('case_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rating', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_feedback_case_id_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_feedback')),
    sa.UniqueConstraint('case_id', 'user_id', name=op.f('uq_case_feedback_case_id_user_id'))
    )
    with op.batch_alter_table('case_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_feedback_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('case_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_feedback_created_at'))
    op.drop_table('case_feedback')
    with op.batch_alter_table('participant') as batch:
        batch.drop_column('department')
    with op.batch_alter_table('case_participant') as batch:
        batch.drop_column('left_at')
