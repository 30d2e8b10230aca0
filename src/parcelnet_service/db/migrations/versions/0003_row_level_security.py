"""Row-level security on PostgreSQL: a second wall behind the application's own checks.

Every request's transaction sets ``app.tenant_id`` and ``app.kind`` (set_config, local to
the transaction). The service connects as its login role and then acts as the role
``parcelnet_app``, which owns nothing; the tables are owned by the role that ran the
migrations, and security is FORCE'd, so even the owner's sessions are filtered.

- shipments: the merchant's (tenant_id) or the carrier's (carrier_id) rows;
- waybills, promises, scans: rows whose shipment is visible;
- idempotency_keys, webhooks: the tenant's own; outbox: rows of a visible webhook;
- the platform and the service's own work (``app.kind`` platform or system) see all.

tenants and api_keys stay without it: finding a key by its prefix is how a request learns
its tenant. SQLite has no row-level security: this revision changes nothing there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

APP_ROLE = "parcelnet_app"
VISIBLE_SHIPMENT = "EXISTS (SELECT 1 FROM shipments s WHERE s.id = shipment_id)"
POLICIES = {
    "shipments": "tenant_id = parcelnet_tenant() OR carrier_id = parcelnet_tenant()",
    "waybills": VISIBLE_SHIPMENT,
    "promises": VISIBLE_SHIPMENT,
    "scans": VISIBLE_SHIPMENT,
    "idempotency_keys": "tenant_id = parcelnet_tenant()",
    "webhooks": "tenant_id = parcelnet_tenant()",
    "outbox": "EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_id)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                -- roles belong to the whole server: another database's migration running
                -- at the same moment may create it first
                BEGIN
                    CREATE ROLE {APP_ROLE} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END;
            END IF;
            IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
            END IF;
        END $$""")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE "
               f"ON TABLES TO {APP_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")
    op.execute("""
        CREATE OR REPLACE FUNCTION parcelnet_tenant() RETURNS bigint LANGUAGE sql STABLE AS
        $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint $$""")
    op.execute("""
        CREATE OR REPLACE FUNCTION parcelnet_trusted() RETURNS boolean LANGUAGE sql STABLE AS
        $$ SELECT coalesce(current_setting('app.kind', true), '') IN ('platform', 'system') $$""")
    for table, rule in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_rows ON {table} USING (parcelnet_trusted() OR {rule}) "
                   f"WITH CHECK (parcelnet_trusted() OR {rule})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        op.execute(f"DROP POLICY IF EXISTS tenant_rows ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS parcelnet_trusted()")
    op.execute("DROP FUNCTION IF EXISTS parcelnet_tenant()")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {APP_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
