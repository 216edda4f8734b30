"""Signal signatures already accepted (replay protection of timestamped HMAC requests)

Revision ID: 0010_signal_signatures
Revises: 0009_cases_signals
Create Date: 2026-11-29 15:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes.AutoString


# revision identifiers, used by Alembic.
revision: str = '0010_signal_signatures'
down_revision: Union[str, Sequence[str], None] = '0009_cases_signals'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('signal_signature',
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_signal_signature'))
    )
    with op.batch_alter_table('signal_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_signature_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('signal_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_signature_expires_at'))

    op.drop_table('signal_signature')
