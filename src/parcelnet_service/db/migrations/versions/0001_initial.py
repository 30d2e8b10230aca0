"""The first schema: tenants, API keys, shipments, waybills, promises, idempotency keys.

Revision ID: 0001
Revises: 
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

#: SQLite's INTEGER PRIMARY KEY is its rowid only as INTEGER
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenants',
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('api_keys',
    sa.Column('id', ID, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prefix')
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', ID, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_created', ['created_at'], unique=False)

    op.create_table('shipments',
    sa.Column('id', ID, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('carrier_id', ID, nullable=True),
    sa.Column('waybill', sa.String(length=14), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('service_level', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('sender_name', sa.String(length=50), nullable=False),
    sa.Column('sender_phone', sa.String(length=20), nullable=False),
    sa.Column('sender_address', sa.String(length=200), nullable=False),
    sa.Column('recipient_name', sa.String(length=50), nullable=False),
    sa.Column('recipient_phone', sa.String(length=20), nullable=False),
    sa.Column('recipient_address', sa.String(length=200), nullable=False),
    sa.Column('origin_station', sa.String(length=32), nullable=False),
    sa.Column('dest_station', sa.String(length=32), nullable=False),
    sa.Column('dest_hub', sa.String(length=32), nullable=False),
    sa.Column('sort_code', sa.String(length=64), nullable=False),
    sa.Column('dest_province', sa.String(length=50), nullable=True),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=False),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('height_mm', sa.Integer(), nullable=False),
    sa.Column('contents', sa.String(length=100), nullable=False),
    sa.Column('pieces', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['tenants.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('waybill')
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_carrier_id'), ['carrier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_dest_station'), ['dest_station'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('promises',
    sa.Column('id', ID, nullable=False),
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('from_facility', sa.String(length=32), nullable=False),
    sa.Column('from_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('promise_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('path', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('shipment_id', 'version')
    )
    op.create_table('waybills',
    sa.Column('id', ID, nullable=False),
    sa.Column('number', sa.String(length=14), nullable=True),
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('piece', sa.Integer(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('shipment_id', 'piece')
    )
    with op.batch_alter_table('waybills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waybills_shipment_id'), ['shipment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('waybills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waybills_shipment_id'))

    op.drop_table('waybills')
    op.drop_table('promises')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_shipments_dest_station'))
        batch_op.drop_index(batch_op.f('ix_shipments_carrier_id'))

    op.drop_table('shipments')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_created')

    op.drop_table('idempotency_keys')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_tenant_id'))

    op.drop_table('api_keys')
    op.drop_table('tenants')
