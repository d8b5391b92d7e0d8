"""Chain the entries written before the hash chain existed, in id order, and start the chain head.

Their secrets are redacted first (user snapshots carried password hashes): the chain then covers
the entries as they are kept from now on.  Runs before the append-only trigger (0004)."""

from django.db import migrations


def chain_existing(apps, schema_editor):
    from dualcontrol.audit.chain import GENESIS, hash_of
    from dualcontrol.audit.policy import redact, redact_text

    db = schema_editor.connection.alias
    Entry = apps.get_model("audit", "AuditEntry")
    Head = apps.get_model("audit", "AuditChainHead")
    prev, last_id, n = GENESIS, None, 0
    for e in Entry.objects.using(db).order_by("id").iterator(chunk_size=2000):
        e.before = redact(e.before, object_type=e.object_type)
        e.after = redact(e.after, object_type=e.object_type)
        e.note = redact_text(e.note or "")
        e.object_repr = redact_text(e.object_repr or "")
        e.prev_hash = prev
        e.entry_hash = hash_of(e)
        Entry.objects.using(db).filter(pk=e.pk).update(
            before=e.before,
            after=e.after,
            note=e.note,
            object_repr=e.object_repr,
            prev_hash=e.prev_hash,
            entry_hash=e.entry_hash,
        )
        prev, last_id, n = e.entry_hash, e.pk, n + 1
    Head.objects.using(db).update_or_create(
        pk=1, defaults={"last_id": last_id, "last_hash": prev, "length": n}
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_hash_chain")]

    operations = [migrations.RunPython(chain_existing, migrations.RunPython.noop)]
