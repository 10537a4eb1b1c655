"""Suggestions remember who asked (client_id) and may go stale (pending past the campaign's TTL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ('pending', 'observed', 'abandoned')
_NEW = (*_OLD, 'stale')


def _status_check(values: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_suggestions_campaign_id_client_id_status'),
                              ['campaign_id', 'client_id', 'status'], unique=False)
        batch_op.drop_constraint(op.f('ck_suggestions_suggestion_status'), type_='check')
        batch_op.create_check_constraint('suggestion_status', _status_check(_NEW))


def downgrade() -> None:
    # Stale suggestions were pending once; that is the closest state the old schema knows.
    op.execute("UPDATE suggestions SET status = 'pending' WHERE status = 'stale'")
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suggestions_suggestion_status'), type_='check')
        batch_op.create_check_constraint('suggestion_status', _status_check(_OLD))
        batch_op.drop_index(batch_op.f('ix_suggestions_campaign_id_client_id_status'))
        batch_op.drop_column('client_id')
