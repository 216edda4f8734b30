"""Response cost leftovers: the closing summary's ts (edited in place with the final cost), custom costs,
cost cursors marked by message events (only conversations with something new are read)

Revision ID: 0018_cost_closing_custom
Revises: 0017_ai_summaries
Create Date: 2026-11-29 17:55:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString

# revision identifiers, used by Alembic.
revision: str = '0018_cost_closing_custom'
down_revision: Union[str, Sequence[str], None] = '0017_ai_summaries'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('custom_cost',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('cost_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_cost')),
    sa.UniqueConstraint('subject', 'subject_id', 'cost_type', name=op.f('uq_custom_cost_subject_subject_id_cost_type'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closing_message_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('cost_cursor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cost_cursor', schema=None) as batch_op:
        batch_op.drop_column('marked_at')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_column('closing_message_ts')
    op.drop_table('custom_cost')
