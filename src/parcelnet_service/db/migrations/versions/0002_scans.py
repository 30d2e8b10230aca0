"""Scans, their fold on shipments (status, location, the latest promise), webhooks and the
outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

#: SQLite's INTEGER PRIMARY KEY is its rowid only as INTEGER
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipments') as b:
        b.add_column(sa.Column('location', sa.String(length=32), nullable=True))
        b.add_column(sa.Column('promise_at', TIME, nullable=True))
        b.add_column(sa.Column('status_at', TIME, nullable=True))
        b.add_column(sa.Column('last_event_at', TIME, nullable=True))
    op.create_table(
        'scans',
        sa.Column('id', ID, nullable=False),
        sa.Column('carrier_id', ID, nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('waybill_id', ID, nullable=False),
        sa.Column('shipment_id', ID, nullable=False),
        sa.Column('type', sa.String(length=24), nullable=False),
        sa.Column('facility', sa.String(length=32), nullable=False),
        sa.Column('trip', sa.String(length=64), nullable=True),
        sa.Column('event_at', TIME, nullable=False),
        sa.Column('received_at', TIME, nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['carrier_id'], ['tenants.id']),
        sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id']),
        sa.ForeignKeyConstraint(['waybill_id'], ['waybills.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('carrier_id', 'event_id'))
    op.create_index('ix_scans_shipment_time', 'scans', ['shipment_id', 'event_at'])
    op.create_table(
        'webhooks',
        sa.Column('id', ID, nullable=False),
        sa.Column('tenant_id', ID, nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('disabled_at', TIME, nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_webhooks_tenant_id', 'webhooks', ['tenant_id'])
    op.create_table(
        'outbox',
        sa.Column('id', ID, nullable=False),
        sa.Column('webhook_id', ID, nullable=False),
        sa.Column('topic', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', TIME, nullable=False),
        sa.Column('delivered_at', TIME, nullable=True),
        sa.Column('failed_at', TIME, nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_outbox_due', 'outbox', ['delivered_at', 'failed_at', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_webhooks_tenant_id', table_name='webhooks')
    op.drop_table('webhooks')
    op.drop_index('ix_scans_shipment_time', table_name='scans')
    op.drop_table('scans')
    with op.batch_alter_table('shipments') as b:
        b.drop_column('last_event_at')
        b.drop_column('status_at')
        b.drop_column('promise_at')
        b.drop_column('location')
