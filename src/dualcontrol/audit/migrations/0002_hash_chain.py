"""Hash chain: prev_hash/entry_hash on every entry, the chain head and prune checkpoints; the actor
becomes a reference that never cascades (deleting a user no longer rewrites its entries)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last_id", models.BigIntegerField(blank=True, null=True)),
                ("last_hash", models.CharField(max_length=64)),
                ("length", models.BigIntegerField(default=0)),
            ],
            options={"verbose_name": "审计链头", "verbose_name_plural": "审计链头"},
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="时间")),
                ("actor_name", models.CharField(max_length=150, verbose_name="操作人")),
                ("cutoff", models.DateTimeField(verbose_name="清理截止时间")),
                ("retention_days", models.PositiveIntegerField(verbose_name="保留天数")),
                ("through_id", models.BigIntegerField(verbose_name="清理至编号")),
                ("through_at", models.DateTimeField(verbose_name="最后清理记录的时间")),
                ("last_hash", models.CharField(max_length=64, verbose_name="最后清理记录的哈希")),
                ("pruned", models.BigIntegerField(verbose_name="清理条数")),
            ],
            options={
                "verbose_name": "审计清理检查点",
                "verbose_name_plural": "审计清理检查点",
                "ordering": ["-through_id"],
            },
        ),
        migrations.AddField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64, verbose_name="本条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="前一条的哈希"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="操作人",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="时间"
            ),
        ),
    ]
