"""Jira ticket of a case

Revision ID: 0021_ops_case_ticket
Revises: 0020_reliab_crash_safety
Create Date: 2026-11-29 18:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString


# revision identifiers, used by Alembic.
revision: str = '0021_ops_case_ticket'
down_revision: Union[str, Sequence[str], None] = '0020_reliab_crash_safety'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('case_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_announced', sa.Boolean(), nullable=False),
    sa.Column('linked', sa.Boolean(), nullable=False),
    sa.Column('needs_sync', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_ticket_case_id_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_ticket')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_ticket_case_id'))
    )
    with op.batch_alter_table('case_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ticket_next_attempt_at'), ['next_attempt_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('case_ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_ticket_next_attempt_at'))

    op.drop_table('case_ticket')
