"""Observations may carry gradients: outcome -> parameter -> derivative (outcome units per
parameter unit), from a differentiable simulator or an adjoint solve; rows stored before this
revision get ``{}`` (no gradients).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 04:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    # The server default fills the existing rows, then goes: the ORM writes every new row's
    # value itself, as for the other JSON columns.
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gradients', _JSON, nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.alter_column('gradients', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_column('gradients')
