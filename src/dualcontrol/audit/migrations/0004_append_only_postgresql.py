"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the audit log (and on prune checkpoints).

The one exception is ``dualcontrol audit prune``: inside its transaction it sets
``SET LOCAL dualcontrol.audit_prune = 'on'`` and may then delete entries older than 184 days (six
calendar months at most; the configured retention, checked by the command, is never shorter).
TRUNCATE is let through for superusers only — Django's test flush empties every table with it, and
a superuser can disable the trigger anyway; the application's role is refused.
On SQLite there is no trigger (the hash chain still shows any change).
"""

from django.db import migrations

TABLES = ("audit_auditentry", "audit_auditcheckpoint")

CREATE = """
CREATE OR REPLACE FUNCTION dualcontrol_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND TG_TABLE_NAME = 'audit_auditentry'
       AND coalesce(current_setting('dualcontrol.audit_prune', true), '') = 'on'
       AND OLD.at < now() - interval '184 days' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE'
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dualcontrol_audit_append_only()",
            params=None,
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dualcontrol_audit_append_only()",
            params=None,
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", None)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}", None)
    schema_editor.execute("DROP FUNCTION IF EXISTS dualcontrol_audit_append_only()", None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_existing_entries")]

    operations = [migrations.RunPython(create, drop)]
