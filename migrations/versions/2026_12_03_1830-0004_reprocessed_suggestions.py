"""Suggestions made by a reprocessing run get their own status, ``reprocessed``: kept for
review beside the live loop, never in flight.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 18:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ('pending', 'observed', 'abandoned', 'stale')
_NEW = (*_OLD, 'reprocessed')


def _status_check(values: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suggestions_suggestion_status'), type_='check')
        batch_op.create_check_constraint('suggestion_status', _status_check(_NEW))
    # Reprocessing runs made ordinary pending rows before this revision (tagged with the run in
    # their predictions); those still pending move out of the live loop. (JSON is text-matched:
    # the same on SQLite and PostgreSQL.)
    op.execute("UPDATE suggestions SET status = 'reprocessed' WHERE status = 'pending' "
               "AND CAST(predictions AS TEXT) LIKE '%\"reprocess_run\"%'")


def downgrade() -> None:
    # Not in flight, still observable: the closest state the old schema knows.
    op.execute("UPDATE suggestions SET status = 'stale' WHERE status = 'reprocessed'")
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suggestions_suggestion_status'), type_='check')
        batch_op.create_check_constraint('suggestion_status', _status_check(_OLD))
