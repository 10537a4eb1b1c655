"""Batch reprocessing runs (one row per campaign of a run), the plot cache, the ``plot`` job kind.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.db.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = ('suggest', 'evaluate', 'train', 'reprocess')
_NEW_KINDS = (*_OLD_KINDS, 'plot')


def _kind_check(values: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table('plot_images',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('convergence', 'pareto', 'parity', 'design', 'training', 'model', name='plot_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('state_key', sa.String(length=64), nullable=False),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('png', sa.LargeBinary(), nullable=True),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_plot_images_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_plot_images_job_id_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plot_images'))
    )
    with op.batch_alter_table('plot_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plot_images_campaign_id_kind_state_key'), ['campaign_id', 'kind', 'state_key'], unique=True)

    op.create_table('reprocess_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('running', 'cancelled', 'finished', name='reprocess_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('selection', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('strategy', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('max_in_flight', sa.Integer(), nullable=False),
    sa.Column('created_at', service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', service.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_reprocess_runs_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_reprocess_runs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reprocess_runs'))
    )
    with op.batch_alter_table('reprocess_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reprocess_runs_project_id_created_at_id'), ['project_id', 'created_at', 'id'], unique=False)

    op.create_table('reprocess_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'scheduled', 'succeeded', 'failed', 'cancelled', name='reprocess_item_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_reprocess_items_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_reprocess_items_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['reprocess_runs.id'], name=op.f('fk_reprocess_items_run_id_reprocess_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reprocess_items'))
    )
    with op.batch_alter_table('reprocess_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reprocess_items_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reprocess_items_run_id_campaign_id'), ['run_id', 'campaign_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_reprocess_items_run_id_status_position'), ['run_id', 'status', 'position'], unique=False)

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_jobs_job_kind'), type_='check')
        batch_op.create_check_constraint('job_kind', _kind_check(_NEW_KINDS))


def downgrade() -> None:
    # Plot jobs have no meaning in the old schema: they only ever rendered cached pictures.
    op.execute("UPDATE plot_images SET job_id = NULL")
    op.execute("DELETE FROM jobs WHERE kind = 'plot'")
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_jobs_job_kind'), type_='check')
        batch_op.create_check_constraint('job_kind', _kind_check(_OLD_KINDS))

    with op.batch_alter_table('reprocess_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reprocess_items_run_id_status_position'))
        batch_op.drop_index(batch_op.f('ix_reprocess_items_run_id_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_reprocess_items_job_id'))

    op.drop_table('reprocess_items')
    with op.batch_alter_table('reprocess_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reprocess_runs_project_id_created_at_id'))

    op.drop_table('reprocess_runs')
    with op.batch_alter_table('plot_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plot_images_campaign_id_kind_state_key'))

    op.drop_table('plot_images')
